//! What the `forms` calls ask of the process around the engine: the engine
//! instantiates and calls modules, but a subdeployment needs a control child
//! forked and entered into contexts, and a bundle needs the runtime stub —
//! the runtime's to give ([`crate::runtime::launcher`]). A recipe carries
//! its launcher, so every image made from it, in any process, has one.

use std::sync::Arc;

use consfig_contract::{Context, Form};

use super::recipe::Recipe;
use crate::sandbox::overlay::Overlay;
use crate::sandbox::policy::Policy;
use crate::wire::outcome::Outcome;

/// Forms to apply in a fresh image of `recipe` that has entered `contexts`.
pub struct Subdeployment<'a> {
    pub recipe: &'a Arc<Recipe>,
    /// The policy its forms run under (limits, grants, the bounding modules).
    pub policy: Policy,
    pub contexts: &'a [Context],
    /// Check mode: what it sees of what earlier forms would have changed,
    /// in its own paths.
    pub overlay: Option<Overlay>,
    pub forms: &'a [Form],
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The contexts could not be entered, or the control child failed.
    #[error("cannot enter {chain}: {reason}")]
    Enter { chain: String, reason: String },
    /// There is no stub to build a bundle on.
    #[error("{0}")]
    NoStub(String),
    /// This image may not launch anything (modules inspected on the controller).
    #[error("{0} is not available here")]
    Unavailable(&'static str),
}

pub trait Launcher: Send + Sync {
    /// Apply the forms in order, each in its own copy of the fresh image;
    /// the outcome of each, or why none could run.
    fn subdeploy(&self, subdeployment: Subdeployment<'_>) -> Result<Vec<Outcome>, LaunchError>;

    /// The bytes of the runtime stub bundles are built on.
    fn stub(&self) -> Result<Vec<u8>, LaunchError>;
}

/// For images that only describe modules and validate forms: their effectful
/// calls are refused before they would launch anything.
pub struct NoLauncher;

impl Launcher for NoLauncher {
    fn subdeploy(&self, _: Subdeployment<'_>) -> Result<Vec<Outcome>, LaunchError> {
        Err(LaunchError::Unavailable("a subdeployment"))
    }

    fn stub(&self) -> Result<Vec<u8>, LaunchError> {
        Err(LaunchError::Unavailable("the bundle stub"))
    }
}
