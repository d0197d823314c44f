//! What `#[property]` generates for each property: a description and the
//! functions that decode a form's arguments and call the property.

use serde_json::Value;

use crate::{Change, Result};

/// One positional parameter of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    /// The Rust type as written, e.g. `Option<String>`.
    pub ty: &'static str,
    /// Whether the argument may be left out of a form (a trailing `Option`).
    pub optional: bool,
}

/// A property: implemented by the hidden type `#[property]` adds next to
/// the function, so write the function rather than implementing this.
pub trait Property {
    /// The name within the module, e.g. `has-content` (the full name is
    /// `file:has-content`).
    const NAME: &'static str;
    const DOC: &'static str;
    const PARAMS: &'static [Param];

    /// Decode the arguments, with no other effect.
    fn validate(args: &[Value]) -> Result<()>;

    /// Decode the arguments and apply the property.
    fn call(args: Vec<Value>) -> Result<Change>;
}
