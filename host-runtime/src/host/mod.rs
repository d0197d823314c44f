//! The host: what a module's `host` calls do. [`state`] holds a store's host
//! state; each WIT concern has its file — [`files`] and [`tree`] (owners,
//! links, listings, renames), [`commands`] (their output [`collect`]ed
//! within the form's limits), [`facts`] (with the target's [`accounts`]),
//! [`log`] (and the captured [`output`]), [`data`], what the [`consfig`]
//! gives the host (variables, files), the memory [`limits`], where running
//! containers' [`processes`] are — with typed
//! errors ([`error`]) that become text only in [`edge`], where the
//! generated [`bindings`] meet them. Every decision on what a call may do
//! is the sandbox's, below.

pub mod accounts;
pub mod bindings;
pub mod collect;
pub mod commands;
pub mod consfig;
pub mod data;
pub mod edge;
pub mod error;
pub mod facts;
pub mod files;
pub mod limits;
pub mod log;
pub mod output;
pub mod processes;
pub mod state;
#[cfg(test)]
mod test_support;
pub mod tree;
