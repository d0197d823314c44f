//! Write Consfig modules in Rust.
//!
//! A Consfig module is a WebAssembly component (`wasm32-wasip2`) exporting
//! *properties*: named, idempotent "make it so" operations such as
//! `file:has-content`. A consfig applies them with *forms*, JSON arrays of a
//! property name and its arguments: `["file:has-content", "/etc/motd", "hi\n"]`.
//!
//! With this crate a property is an ordinary Rust function marked
//! [`#[property]`](property). Its arguments are decoded from the form, by
//! position, with serde; it returns whether it [`Change`]d the host, or an
//! [`Error`] saying why it could not. [`module!`] names the module and lists
//! its properties. A module reaches the host only through [`host`] — files,
//! commands, logging, facts — through [`apply`], which applies a [`Form`]
//! with a property of any other loaded module, and through [`subdeploy`],
//! which applies forms in other [`Context`]s: inside a chroot, as another user.
//!
//! # Example
//!
//! A crate of type `cdylib` depending on `consfig-guest`, built with
//! `cargo build --release --target wasm32-wasip2`:
//!
//! ```no_run
//! use consfig_guest::prelude::*;
//!
//! /// Ensure a file has exactly this content.
//! ///
//! /// Unchanged when it already has; the file is replaced atomically.
//! #[property]
//! fn has_content(path: String, content: String) -> Result<Change> {
//!     if fs::stat(&path)?.is_some() && fs::read(&path)? == content.as_bytes() {
//!         return Ok(Change::Unchanged);
//!     }
//!     fs::write(&path, &content, None)?;
//!     info!("wrote {} bytes to {path}", content.len());
//!     Ok(Change::Changed)
//! }
//!
//! /// Greet someone in a file under /tmp, in their language (English by default).
//! #[property(name = "greet")]
//! fn greeting(name: String, language: Option<String>) -> Result<Change> {
//!     let greeting = match language.as_deref() {
//!         None | Some("en") => "Hello",
//!         Some("fr") => "Bonjour",
//!         Some(other) => bail!("no greeting in {other:?}"),
//!     };
//!     // Composing: a form of this module's own property is a plain call, and
//!     // another module's property is applied through the host.
//!     let path = format!("/tmp/greetings/{name}");
//!     let made = apply(&forms::file::directory_exists("/tmp/greetings"))?;
//!     Ok(made | has_content(path.clone(), format!("{greeting}, {name}!\n"))?)
//! }
//!
//! /// Make a file's mode match, given as `"0644"` (or the number 420).
//! #[property]
//! fn has_mode(path: String, mode: Mode) -> Result<Change> {
//!     match fs::stat(&path)? {
//!         None => bail!("{path} does not exist"),
//!         Some(stat) if stat.mode == mode => Ok(Change::Unchanged),
//!         Some(_) => {
//!             fs::chmod(&path, mode)?;
//!             Ok(Change::Changed)
//!         }
//!     }
//! }
//!
//! /// Run `uname -a` into a file once.
//! #[property]
//! fn uname_recorded(path: String) -> Result<Change> {
//!     if fs::exists(&path)? {
//!         return Ok(Change::Unchanged);
//!     }
//!     let output = run(Command::query("uname").arg("-a"))?;
//!     if !output.success() {
//!         bail!("uname failed ({}): {}", output.status(), output.stderr_str().trim());
//!     }
//!     fs::write(&path, &output.stdout, Some(Mode::new(0o600)?))?;
//!     Ok(Change::Changed)
//! }
//!
//! /// Greet someone from inside the tree at `root`, as the user `greeter`.
//! ///
//! /// The greeting lands in `{root}/tmp/greetings/{name}`: a subdeployment
//! /// applies the forms in a child process that has entered the contexts.
//! #[property]
//! fn greet_in_chroot(root: String, name: String) -> Result<Change> {
//!     let contexts = [Context::chroot(&root), Context::setuid("greeter")];
//!     subdeploy(&contexts, &[Form::new("greetings:greet").arg(&name)?])
//! }
//!
//! fn setup() -> Result<()> {
//!     debug!("greetings module loaded");
//!     Ok(())
//! }
//!
//! consfig_guest::module! {
//!     name: "greetings",
//!     doc: "Greetings, written to files.",
//!     init: setup,
//!     properties: [has_content, greeting, has_mode, uname_recorded, greet_in_chroot],
//! }
//! # fn main() {}
//! ```
//!
//! Its properties are `greetings:has-content`, `greetings:greet`,
//! `greetings:has-mode`, `greetings:uname-recorded` and
//! `greetings:greet-in-chroot`, used in a consfig as
//! `["greetings:greet", "ada"]` or `["greetings:greet", "ada", "fr"]`.
//!
//! # Arguments
//!
//! Argument *n* of a form is decoded into parameter *n* with serde, so any
//! `T: DeserializeOwned` will do: strings, numbers, `Vec`s, maps, your own
//! `#[derive(Deserialize)]` types, `serde_json::Value`, [`Mode`], [`Form`]
//! (so `Vec<Form>` takes a list of forms), [`Context`]. An argument
//! left out decodes from `null`, so trailing `Option` parameters are optional.
//! The host validates every form before it deploys anything, by decoding its
//! arguments (with no other effect), so errors such as
//! `missing argument 2 (content)` or
//! ``argument 2 (content): invalid type: integer `42`, expected a string``
//! stop a deploy before it starts. A [`Form`] among the arguments is
//! validated the same way, with whichever module defines its property, so
//! a mistake deep in a subdeployment stops the deploy too.
//!
//! # What a module may do
//!
//! Only what the host lets it: [`host::fs`], [`host::run`], [`host::log`],
//! [`host::identity`], [`host::hostname`], [`host::architecture`], [`apply`]
//! and [`subdeploy`]. Printing to
//! stdout or stderr works too, and is captured with the form's output. Each
//! form runs on a fresh copy of the module as it was after `init`, so state
//! kept in statics does not carry over from one form to the next.
//!
//! # Testing a module
//!
//! Built natively rather than for `wasm32`, the same calls go to a fake host
//! instead: [`testing::FakeHost`] has files in memory, scripted commands
//! and facts, so `cargo test` runs properties on the build machine and the
//! test looks at what they did. See [`testing`] for an example.

// Lets the macros' expansions name this crate as `::consfig_guest` in its own tests.
extern crate self as consfig_guest;

mod args;
#[doc(hidden)]
pub mod bindings;
mod error;
mod export;
mod form;
pub mod forms;
pub mod host;
pub mod image;
mod mode;
mod property;
mod subdeploy;
mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use consfig_contract::Change;
pub use consfig_guest_macros::{module, property};
pub use error::{Error, Result, ResultExt};
pub use form::{Form, apply};
pub use mode::Mode;
pub use property::{Param, Property};
pub use serde;
pub use serde_json;
pub use subdeploy::{Context, subdeploy};

/// What a module usually needs: `use consfig_guest::prelude::*;`.
pub mod prelude {
    pub use crate::host::{self, Command, Output, fs, log, run};
    pub use crate::{
        Change, Context, Error, Form, Mode, Result, ResultExt, apply, bail, debug, ensure, error,
        forms, image, info, property, subdeploy, warn,
    };
}

/// What the macros' expansions use; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{check, check_count, decode};
    pub use crate::bindings;
    pub use crate::export::{Entry, Module, returns, same_name};
    pub use serde_json::Value;
    pub use std::string::String;
}
