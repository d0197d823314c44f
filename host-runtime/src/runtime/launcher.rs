//! The runtime's launcher: what the engine's `forms` calls get from this
//! process — a subdeployment in a control child forked for it, and the
//! bundle stub from wherever this runtime has one.

use consfig_contract::Context;

use super::stub::StubSource;
use super::zygote::Zygote;
use crate::engine::launcher::{LaunchError, Launcher, Subdeployment};
use crate::wire::outcome::Outcome;

pub struct RuntimeLauncher {
    stub: StubSource,
}

impl RuntimeLauncher {
    pub fn new(stub: StubSource) -> Self {
        RuntimeLauncher { stub }
    }
}

impl Launcher for RuntimeLauncher {
    fn subdeploy(&self, sub: Subdeployment<'_>) -> Result<Vec<Outcome>, LaunchError> {
        let mut zygote = Zygote::spawn_fresh(sub.recipe, &sub.policy, sub.contexts, sub.overlay)
            .map_err(|e| LaunchError::Enter {
                chain: if sub.contexts.is_empty() {
                    "subdeployment".to_owned()
                } else {
                    Context::describe_chain(sub.contexts)
                },
                reason: e.to_string(),
            })?;
        let outcomes = sub
            .forms
            .iter()
            .map(|form| {
                let time = sub.policy.limits.for_module(form.module()).time;
                zygote
                    .apply(form, time)
                    .unwrap_or_else(|e| Outcome::failed(e.to_string(), String::new()))
            })
            .collect();
        zygote.shutdown();
        Ok(outcomes)
    }

    fn stub(&self) -> Result<Vec<u8>, LaunchError> {
        self.stub.bytes()
    }
}
