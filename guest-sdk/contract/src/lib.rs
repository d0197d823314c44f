//! The syntax of the Consfig contract, in one place for both of its sides:
//! the runtime (`host-runtime`), the guest SDK and the SDK's macros.
//!
//! `wit/consfig.wit` says which calls cross the boundary; this crate says
//! what the text in them means:
//!
//! - [`name`]: module and property names (`file`, `file:has-content`);
//! - [`Form`]: a property application, canonically a JSON array
//!   `["file:has-content", "/etc/motd", "hi\n"]`;
//! - [`Context`]: where a subdeployment runs (`chroot:/srv/c1`, `setuid:www`);
//! - [`Grant`]: what a module may do (`write:/srv/www`, `net:127.0.0.1:80`);
//! - [`Change`]: whether applying a property changed the host;
//! - [`schema`]: what values a parameter takes (`list<string>`), and
//!   [`arguments`]: which argument of a form goes to which parameter.
//!
//! Each grammar exists once, so the host and the modules agree on what is
//! well formed, and `module!` can check a module's needs at compile time.

pub mod arguments;
mod change;
mod context;
mod form;
mod grant;
pub mod name;
pub mod schema;

pub use change::Change;
pub use context::{Context, ContextError, PID_MAX, check_machine_name, parse_pid};
pub use form::{Form, FormError};
pub use grant::{AddressPattern, Grant, GrantError, absolute_path, args_match, parse_grants};
pub use schema::Schema;
