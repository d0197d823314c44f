//! Forms — `["file:has-content", "/etc/motd", "hi\n"]` — built in Rust, and
//! `apply` to have the host apply one with whichever module defines it. This
//! is how a property composes others, including other modules' properties.

use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::Value;

use crate::bindings::consfig::module::{host as wit, types};
use crate::{Change, Error, Result};

/// A property name and its arguments.
///
/// ```
/// # use consfig_guest::Form;
/// let form = Form::new("file:has-content").arg("/etc/motd")?.arg("hi\n")?;
/// assert_eq!(form.to_string(), r#"["file:has-content","/etc/motd","hi\n"]"#);
/// # Ok::<(), consfig_guest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    name: String,
    args: Vec<Value>,
}

impl Form {
    /// A form of the property with this full name, e.g. `file:has-content`.
    pub fn new(name: impl Into<String>) -> Self {
        Form {
            name: name.into(),
            args: Vec::new(),
        }
    }

    /// Add the next argument. Fails only if serde cannot make JSON of it
    /// (e.g. a map with non-string keys).
    pub fn arg(self, value: impl Serialize) -> Result<Self> {
        let value = serde_json::to_value(value).map_err(|e| {
            Error::new(format!(
                "{}: argument {}: {e}",
                self.name,
                self.args.len() + 1
            ))
        })?;
        Ok(self.value(value))
    }

    /// Add the next argument, already JSON.
    pub fn value(mut self, value: Value) -> Self {
        self.args.push(value);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn args(&self) -> &[Value] {
        &self.args
    }

    /// Apply this form on the host; see [`apply`].
    pub fn apply(&self) -> Result<Change> {
        apply(self)
    }
}

impl Serialize for Form {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(1 + self.args.len()))?;
        seq.serialize_element(&self.name)?;
        for arg in &self.args {
            seq.serialize_element(arg)?;
        }
        seq.end()
    }
}

impl fmt::Display for Form {
    /// The form as JSON text, as the host takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

/// Apply a form with a property of any module the host has loaded, and
/// return what it did. Its errors come back prefixed with the form's name.
pub fn apply(form: &Form) -> Result<Change> {
    match wit::apply(&form.to_string()) {
        Ok(types::Change::Unchanged) => Ok(Change::Unchanged),
        Ok(types::Change::Changed) => Ok(Change::Changed),
        Err(e) => Err(Error::new(e).context(&form.name)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::Mode;

    #[test]
    fn serializes_as_a_json_array() {
        let form = Form::new("cmd:single")
            .arg(["sh", "-c", "true"])
            .unwrap()
            .arg(None::<String>)
            .unwrap();
        assert_eq!(form.name(), "cmd:single");
        assert_eq!(form.args(), [json!(["sh", "-c", "true"]), Value::Null]);
        assert_eq!(
            form.to_string(),
            r#"["cmd:single",["sh","-c","true"],null]"#
        );
        let mode = Form::new("file:has-mode")
            .arg("/x")
            .unwrap()
            .arg(Mode::new(0o600).unwrap())
            .unwrap();
        assert_eq!(
            serde_json::to_value(&mode).unwrap(),
            json!(["file:has-mode", "/x", "0600"])
        );
    }

    #[test]
    fn names_an_argument_that_is_no_json() {
        let map = BTreeMap::from([((1, 2), "x")]);
        let err = Form::new("example:thing").arg(map).unwrap_err();
        assert_eq!(
            err.message(),
            "example:thing: argument 1: key must be a string"
        );
    }
}
