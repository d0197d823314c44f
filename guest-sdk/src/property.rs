//! What `#[property]` generates for each property: a description and the
//! functions that decode a form's arguments and call the property.

use consfig_contract::Schema;
use consfig_contract::arguments::Parameter;
use serde_json::Value;

use crate::{Change, Result};

/// One parameter of a property, in the order of the function's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The name as a keyword argument takes it: the Rust name in kebab case
    /// (`home_dir` → `home-dir`).
    pub name: &'static str,
    /// What values it takes: its type's [`HasSchema`](crate::HasSchema).
    pub schema: fn() -> Schema,
    /// Whether the argument may be left out of a form: a trailing `Option`
    /// or a parameter with a `#[default]`. Optional arguments may also be
    /// given by name, in a trailing JSON object.
    pub optional: bool,
    /// The value a left-out argument takes, as JSON text (`#[default = ...]`);
    /// `None` for one without, which decodes from `null` (an `Option`'s `None`).
    pub default: Option<&'static str>,
}

impl Parameter for Param {
    fn name(&self) -> &str {
        self.name
    }

    fn optional(&self) -> bool {
        self.optional
    }
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

    /// Decode every `#[default]` into its parameter's type: a default that
    /// does not is the module's mistake, reported when it is loaded.
    fn check_defaults() -> Result<()>;
}
