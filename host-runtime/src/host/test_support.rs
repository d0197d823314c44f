//! Host states for the unit tests of the calls: module `m` running, with
//! the grants given.

use consfig_contract::parse_grants;

use super::state::{HostMode, HostState};
use crate::sandbox::grants::ModuleGrants;
use crate::sandbox::policy::Policy;

fn policy(grants: &[&str], check: bool) -> Policy {
    Policy {
        grants: [(
            "m".to_owned(),
            ModuleGrants {
                grants: parse_grants(grants).unwrap(),
                ..ModuleGrants::default()
            },
        )]
        .into(),
        check,
        ..Policy::default()
    }
}

fn running(mut host: HostState) -> HostState {
    host.enter("m");
    host
}

/// Deploying, module `m` running with `grants`.
pub fn host_with(grants: &[&str]) -> HostState {
    host_with_policy(grants, false)
}

/// The same, in check mode when `check`.
pub fn host_with_policy(grants: &[&str], check: bool) -> HostState {
    running(HostState::new(HostMode::Deploy, policy(grants, check)))
}

/// Inspecting modules, `m` running with `grants`.
pub fn inspecting(grants: &[&str]) -> HostState {
    running(HostState::new(HostMode::Inspect, policy(grants, false)))
}

/// Deploying under `policy`, module `m` running.
pub fn host_under(policy: Policy) -> HostState {
    running(HostState::new(HostMode::Deploy, policy))
}
