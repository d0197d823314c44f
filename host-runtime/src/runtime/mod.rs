//! The runtime: the processes on the target.
//!
//! - [`serve`]: `consfig-stub runtime`, the protocol loop with the controller;
//!   [`blanked_stderr`]: its stderr, with the host's data blanked out;
//! - [`zygote`]: the control child and the forked grandchild of each form;
//! - [`cleanup`]: stopping everything a form started when it ends;
//! - [`fork`]: forking only while single-threaded;
//! - [`contexts`]: entering a chroot or another user, in a child;
//! - [`launcher`]: what the engine's `forms` calls get from this process —
//!   subdeployments and the bundle [`stub`] (this executable);
//! - [`bundled`]: running a bundle (the stub's `main`).

pub mod blanked_stderr;
pub mod bundled;
pub mod cleanup;
pub mod contexts;
pub mod fork;
pub mod launcher;
pub mod serve;
pub mod stub;
pub mod zygote;
