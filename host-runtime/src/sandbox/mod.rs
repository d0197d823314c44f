//! The sandbox: what each module may do, and where its file calls act.
//!
//! - [`policy`]: what a deploy decides for its forms — grants per module,
//!   limits, the host's data, check mode; [`redact`]: blanking that data
//!   out of what is reported;
//! - [`decide`]: each module's grants, from the consfig and the modules' needs;
//! - [`grants`]: what one module's grants allow;
//! - [`confinement`]: the modules bounding a call, and the decision on it;
//! - [`program`]: what a command runs; [`environment`]: what it is given;
//! - [`read_only`]: check mode's read-only view of the host, for commands;
//! - [`network`]: the gate WASI sockets pass through;
//! - [`place`]: a path confined beneath its granted directory;
//! - [`files`]: the file operations, on the disk; [`check`]: the same
//!   answered from check mode's overlay ([`overlay`]);
//! - [`atomic`]: replacing a file so that no reader sees half of it;
//! - [`bounded`]: reading a file, at most a limit of it.
//!
//! This is the bottom layer of the runtime: it imports no other.

pub mod atomic;
pub mod bounded;
pub mod check;
pub mod confinement;
pub mod decide;
pub mod environment;
pub mod files;
pub mod grants;
pub mod network;
pub mod overlay;
pub mod place;
pub mod policy;
pub mod program;
pub mod read_only;
pub mod redact;
