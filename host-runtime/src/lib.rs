//! Consfig: configuration management whose configuration code is WebAssembly.
//!
//! The `consfig` binary is a thin command line ([`cli`]) over this library:
//! the controller reads a consfig ([`consfig_file`]), validates its forms
//! against the modules, opens a [`connection`] to each host, and runs the
//! [`protocol`] with `consfig runtime` there ([`runtime`]), which keeps a
//! pristine image of the loaded modules ([`engine`]) and evaluates each form
//! in a forked child of it ([`zygote`]). A [`bundle`] is a standalone
//! executable made of modules and one form, run by `consfig-stub`.
//!
//! Feature `controller` (default) is all of that. Without it the library is
//! what a bundle's stub needs: no compiler (modules arrive compiled), no
//! command line, no connections.

pub mod atomic;
pub mod bundle;
pub mod cache;
#[cfg(feature = "controller")]
pub mod cli;
pub mod confined_fs;
#[cfg(feature = "controller")]
pub mod connection;
#[cfg(feature = "controller")]
pub mod consfig_file;
pub mod context;
#[cfg(feature = "controller")]
pub mod deploy;
pub mod engine;
pub mod executor;
pub mod form;
pub mod grants;
pub mod host_api;
pub mod overlay;
pub mod policy;
pub mod protocol;
pub mod report;
#[cfg(feature = "controller")]
pub mod reporter;
#[cfg(feature = "controller")]
pub mod runtime;
pub mod zygote;
