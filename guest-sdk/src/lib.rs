//! Write Consfig modules in Rust.
//!
//! A Consfig module is a WebAssembly component (`wasm32-wasip2`) exporting
//! *properties*: named, idempotent "make it so" operations such as
//! `file:has-content`. A consfig applies them with *forms*, JSON arrays of a
//! property name and its arguments: `["file:has-content", "/etc/motd", "hi\n"]`.
//!
//! With this crate a property is an ordinary Rust function marked
//! [`#[property]`](property). Its arguments are decoded from the form with
//! serde, by position (optional ones also by name, see [Arguments](#arguments));
//! it returns whether it [`Change`]d the host, or an [`Error`] saying why it
//! could not. [`module!`] names the module, lists its properties and makes
//! their typed constructors, `forms` (see [Typed forms](#typed-forms)). A
//! module reaches the host only through [`host`] — files, commands, logging,
//! facts — through [`apply`], which applies a [`Form`] with a property of
//! any other loaded module, and through [`subdeploy`], which applies forms in
//! other [`Context`]s: inside a chroot, as another user.
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
//! /// Greet someone in a file under /tmp, in their language, signed or not.
//! #[property(name = "greet")]
//! fn greeting(
//!     name: String,
//!     #[default = "en"] language: String,
//!     signature: Option<String>,
//! ) -> Result<Change> {
//!     let greeting = match language.as_str() {
//!         "en" => "Hello",
//!         "fr" => "Bonjour",
//!         other => bail!("no greeting in {other:?}"),
//!     };
//!     let signed = signature.map(|s| format!("-- {s}\n")).unwrap_or_default();
//!     // Composing: a form of this module's own property is a plain call, and
//!     // another module's property is applied through the host (with its
//!     // crate as a dependency: `apply(&consfig_file::forms::directory_exists(..))`).
//!     let path = format!("/tmp/greetings/{name}");
//!     let made = apply(&Form::new("file:directory-exists").arg("/tmp/greetings")?)?;
//!     Ok(made | has_content(path.clone(), format!("{greeting}, {name}!\n{signed}"))?)
//! }
//!
//! /// Make a file's mode match, given as `"0644"`.
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
//! `["greetings:greet", "ada"]`, `["greetings:greet", "ada", "fr"]` or
//! `["greetings:greet", "ada", {"signature": "Bob"}]`.
//!
//! # Arguments
//!
//! Argument *n* of a form is decoded into parameter *n* with serde, so any
//! `T: DeserializeOwned` will do: strings, numbers, `Vec`s, maps, your own
//! `#[derive(Deserialize)]` types, `serde_json::Value`, [`Mode`], [`Form`]
//! (so `Vec<Form>` takes a list of forms), [`Context`]. Each type also says
//! which JSON values it takes, as a [`Schema`] (`list<string>`,
//! `optional<integer>`, `string|integer`), by [`HasSchema`]: the standard
//! types have it, a type of your own implements it in one line. The
//! runtime checks every argument against its schema before the module sees
//! the form, with the same words for modules in every language.
//!
//! The trailing parameters that are `Option`s or have a default
//! (`#[default = VALUE]`, VALUE the JSON a form would give, written as a Rust
//! literal: `"/bin/sh"`, `8080`, `true`, `["a", "b"]`) are *optional*: a form
//! may leave them out (an `Option` is then `None`), give them by position, or
//! give them by name in a JSON object that ends the form —
//! `["greetings:greet", "ada", {"signature": "Bob"}]`, or in Consfig.toml
//! `["greetings:greet", "ada", {signature = "Bob"}]`. A parameter's name is
//! its Rust name in kebab case (`login_shell` → `login-shell`). The last
//! argument is read as names exactly when the property has optional
//! parameters, it is a JSON object, and every required argument comes before
//! it: an object in a required parameter's place is that argument, and an
//! optional parameter whose value is itself an object is given by name
//! (`{"settings": {...}}`). A default that does not decode into its
//! parameter's type stops the module from loading, naming it.
//!
//! The host validates every form before it deploys anything, by decoding its
//! arguments (with no other effect), so errors such as
//! `missing argument 2 (content)`,
//! `argument 2 (content): expected a string, got an integer` or
//! `unknown keyword argument "shel": it takes home, shell`
//! stop a deploy before it starts. A [`Form`] among the arguments is
//! validated the same way, with whichever module defines its property, so
//! a mistake deep in a subdeployment stops the deploy too.
//!
//! # Typed forms
//!
//! [`module!`] also defines `forms` at the crate root: one function per
//! property, named after its Rust function, building its forms with the
//! compiler checking the arguments — `forms::greeting("ada")` is
//! `["greetings:greet", "ada"]`. A property with optional parameters returns
//! a builder with a method per optional parameter, which gives it by name:
//! `forms::greeting("ada").signature("Bob")`. The builder dereferences to a
//! [`Form`] (so `apply(&forms::greeting("ada").language("fr"))` works) and
//! converts into one with `.into()`. Parameter types must be `Serialize`
//! for these (derive it beside `Deserialize`).
//!
//! Another module uses them by depending on this crate as a library. A
//! module crate that others depend on must not export its component itself,
//! or every module depending on it would export it too: such a crate is a
//! library with `export: false` in its `module!`, and its component is a
//! `cdylib` crate of one line, `consfig_guest::export!(the_library);`. The
//! standard modules are built that way:
//!
//! ```toml
//! [dependencies]
//! consfig-file = { path = ".../consfig-wasm/file" }
//! ```
//!
//! ```text
//! apply(&consfig_file::forms::has_content("/etc/motd", "hi\n"))?;
//! ```
//!
//! # What a module may do
//!
//! Only what the host lets it, through these calls, each documented with an
//! example:
//!
//! | call | for | grant it needs |
//! |---|---|---|
//! | [`host::fs`] | files: read, write, stat, mkdir, remove, chmod, chown, symlink, readlink, list-dir, rename | `read:DIR`, `write:DIR`, `setid:DIR` |
//! | [`host::run`], [`Command::query`](host::Command::query), [`Command::change`](host::Command::change) | commands: `query` runs in check mode, `change` is skipped there | `command:PROGRAM [ARG…]`, `env:NAME` |
//! | [`host::hostname`], [`host::architecture`], [`host::identity`], [`host::os_release`], [`host::lookup_user`], [`host::lookup_group`], [`host::in_chroot`] | facts | none |
//! | [`host::var`], [`host::vars`], [`host::consfig_file`] | this host's variables and the files of the consfig its forms name | none |
//! | [`host::data`], [`host::data_text`] | this host's secrets | `data:KEY` |
//! | [`host::log`], [`info!`] and the other macros | the form's output | none |
//! | [`apply`] | a form of another module's property, or of its own | none (the form's own module's grants apply too) |
//! | [`subdeploy`] | forms in a chroot, as another user | `subdeploy`, `context:chroot:DIR`, `context:setuid:USER` |
//! | [`image::dump`] | a bundle: a standalone executable applying one form | `write:DIR` |
//!
//! Printing to stdout or stderr works too, and is captured with the form's
//! output. Each form runs on a fresh copy of the module as it was after
//! `init`, so state kept in statics does not carry over from one form to the
//! next.
//!
//! # Needs and grants
//!
//! A consfig grants each module what it may do (`[module.NAME] grants` in
//! Consfig.toml, `--grant MODULE=GRANT` for `consfig apply`); a call the
//! grants do not allow fails its form, naming the grant it lacks. A module
//! says what it needs with `needs` in [`module!`]: `consfig describe` shows
//! it, and `consfig deploy` refuses to start, listing what is missing, when
//! the consfig does not grant it. Ask for the least that works — a command
//! with fixed arguments rather than `command:*`, the directory a module
//! writes rather than `/`:
//!
//! ```no_run
//! use consfig_guest::prelude::*;
//!
//! /// nginx has reloaded its configuration.
//! #[property]
//! fn reloaded() -> Result<Change> {
//!     let output = Command::change("/usr/bin/systemctl").args(["reload", "nginx"]).run()?;
//!     ensure!(output.success(), "reload failed: {}", output.stderr_str().trim());
//!     Ok(Change::Changed)
//! }
//!
//! /// The site's configuration.
//! #[property]
//! fn site_configured(text: String) -> Result<Change> {
//!     let path = "/etc/nginx/sites-enabled/site";
//!     if fs::exists(path)? && fs::read(path)? == text.as_bytes() {
//!         return Ok(Change::Unchanged);
//!     }
//!     fs::write(path, text, None)?;
//!     Ok(Change::Changed | reloaded()?)
//! }
//!
//! consfig_guest::module! {
//!     name: "nginx",
//!     needs: ["write:/etc/nginx/sites-enabled", "command:/usr/bin/systemctl reload nginx"],
//!     properties: [reloaded, site_configured],
//! }
//! # fn main() {}
//! ```
//!
//! A grant that is malformed in `needs` stops the module from compiling.
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
pub mod host;
pub mod image;
mod mode;
mod property;
mod schema;
mod subdeploy;
mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use consfig_contract::Change;
pub use consfig_contract::Schema;
pub use consfig_guest_macros::{export, module, property};
pub use error::{Error, Result, ResultExt};
pub use form::{Form, apply};
pub use mode::Mode;
pub use property::{Param, Property};
pub use schema::HasSchema;
pub use serde;
pub use serde_json;
pub use subdeploy::{Context, subdeploy};

/// What a module usually needs: `use consfig_guest::prelude::*;`.
pub mod prelude {
    pub use crate::host::{self, Command, Output, fs, log, run};
    pub use crate::{
        Change, Context, Error, Form, HasSchema, Mode, Result, ResultExt, Schema, apply, bail,
        debug, ensure, error, image, info, property, subdeploy, warn,
    };
}

/// What `module!` defines at a module crate's root; the unit tests' own
/// properties build their forms with this name.
#[cfg(test)]
mod forms {
    pub const NAME: &str = "file";
}

/// What the macros' expansions use; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{Given, arrange, decode};
    pub use crate::bindings;
    pub use crate::export::{Entry, Module, returns, same_name};
    pub use crate::form::{form, json, keyword};
    pub use serde_json::Value;
    pub use std::string::String;
}
