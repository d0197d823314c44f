//! The controller: the operator's side of a deployment.
//!
//! - [`consfig_file`]: `Consfig.toml` — modules, hosts, groups, grants, and
//!   [`limits`], variables and lists of forms; [`consfig_files`]: the
//!   files of the consfig its hosts' forms name, sent to them;
//!   [`data_sources`]: each host's data, read from files, commands and
//!   environment variables;
//! - [`installation`]: where this Consfig's binary, stub and standard modules are;
//! - [`modules`]: module files, and inspecting them to validate every form
//!   before anything connects; [`build`]: modules built from their crates;
//! - [`compiler`]: each module compiled once per target architecture;
//! - [`plan`]: what each host gets, and the options all share;
//! - [`deploy`]: deploying many hosts at once; [`session`]: one host's
//!   conversation with its runtime;
//! - [`connection`]: the hops to a runtime (`local`, `ssh://`, `sudo`, `su`, `doas`);
//! - [`reporter`], [`summary`], [`diff`]: what the operator sees;
//! - [`scaffold`]: a new consfig, for `consfig new`.

pub mod build;
pub mod compiler;
pub mod connection;
pub mod consfig_file;
pub mod consfig_files;
pub mod data_sources;
pub mod deploy;
pub mod diff;
pub mod installation;
pub mod limits;
pub mod modules;
pub mod own_group;
pub mod plan;
pub mod reporter;
pub mod scaffold;
pub mod session;
pub mod summary;
