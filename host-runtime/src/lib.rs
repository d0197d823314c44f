//! Consfig: configuration management whose configuration code is WebAssembly.
//!
//! The `consfig` binary is a thin command line ([`cli`]) over this library:
//! the controller reads a consfig ([`consfig_file`]), validates its forms
//! against the modules, opens a [`connection`] to each host, and runs the
//! [`protocol`] with `consfig runtime` there ([`runtime`]), which keeps a
//! pristine image of the loaded modules ([`engine`]) and evaluates each form
//! in a forked child of it ([`zygote`]).

pub mod atomic;
pub mod cache;
pub mod cli;
pub mod connection;
pub mod consfig_file;
pub mod context;
pub mod deploy;
pub mod engine;
pub mod form;
pub mod host_api;
pub mod protocol;
pub mod report;
pub mod runtime;
pub mod zygote;
