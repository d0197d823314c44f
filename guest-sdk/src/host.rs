//! Typed wrappers for the `host` imports: every effect a module has on the
//! machine it configures goes through these calls, which the runtime controls.
//!
//! While forms are only being validated, the host refuses every call with an
//! effect, which is why validation decodes arguments and nothing more.
//!
//! Calling another module's property (the `apply` import) is [`crate::apply`].

pub mod fs;
pub mod log;
mod run;

pub use run::{Command, Output, run};

use crate::bindings::consfig::module::host as wit;

/// The host's name.
pub fn hostname() -> String {
    wit::hostname()
}

/// The machine's architecture as `uname -m` reports it, e.g. `x86_64`.
pub fn architecture() -> String {
    wit::architecture()
}
