//! Forms: one property application, a name plus positional arguments.
//!
//! The canonical text is a JSON array, `["file:has-content", "/etc/motd", "hi\n"]`;
//! a property of module `m` is named `m:kebab-case`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormError {
    #[error(
        "a form is a JSON array whose first element is a property name, like [\"file:has-content\", \"/etc/motd\", \"hi\\n\"]; got {0}"
    )]
    NotAnArray(String),
    #[error("property name {0:?} is not of the form module:property")]
    BadName(String),
    #[error("not valid JSON: {0}")]
    BadJson(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub name: String,
    pub args: Vec<Value>,
}

impl Form {
    pub fn new(name: impl Into<String>, args: Vec<Value>) -> Self {
        Form {
            name: name.into(),
            args,
        }
    }

    /// Parse a form from JSON text, as given on the command line.
    pub fn parse(text: &str) -> Result<Self, FormError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| FormError::BadJson(e.to_string()))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Self, FormError> {
        let Value::Array(mut items) = value else {
            return Err(FormError::NotAnArray(truncate(&value.to_string(), 80)));
        };
        let name = match items.first() {
            Some(Value::String(name)) => name.clone(),
            _ => {
                return Err(FormError::NotAnArray(truncate(
                    &Value::Array(items).to_string(),
                    80,
                )));
            }
        };
        if !valid_name(&name) {
            return Err(FormError::BadName(name));
        }
        items.remove(0);
        Ok(Form { name, args: items })
    }

    /// The module part of the name: `file` in `file:has-content`.
    pub fn module(&self) -> &str {
        self.name.split_once(':').map_or("", |(m, _)| m)
    }

    pub fn to_value(&self) -> Value {
        let mut items = Vec::with_capacity(self.args.len() + 1);
        items.push(Value::String(self.name.clone()));
        items.extend(self.args.iter().cloned());
        Value::Array(items)
    }

    /// The arguments as the JSON text a module's `apply` receives.
    pub fn args_json(&self) -> String {
        Value::Array(self.args.clone()).to_string()
    }
}

fn valid_name(name: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    matches!(name.split_once(':'), Some((m, p)) if word(m) && word(p))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// A one-line rendering for reports: `file:has-content /tmp/x "hi\n"`.
/// Plain strings print bare, anything else as JSON; long arguments are shortened.
impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for arg in &self.args {
            let shown = match arg {
                Value::String(s)
                    if !s.is_empty()
                        && !s
                            .chars()
                            .any(|c| c.is_whitespace() || c.is_control() || c == '"') =>
                {
                    s.clone()
                }
                other => other.to_string(),
            };
            write!(f, " {}", truncate(&shown, 40))?;
        }
        Ok(())
    }
}

impl Serialize for Form {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Form {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Form::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_renders() {
        let form = Form::parse(r#"["file:has-content", "/etc/motd", "hi\n"]"#).unwrap();
        assert_eq!(form.name, "file:has-content");
        assert_eq!(form.module(), "file");
        assert_eq!(form.args_json(), r#"["/etc/motd","hi\n"]"#);
        assert_eq!(form.to_string(), r#"file:has-content /etc/motd "hi\n""#);
        let round: Form = serde_json::from_value(serde_json::to_value(&form).unwrap()).unwrap();
        assert_eq!(round, form);
    }

    #[test]
    fn rejects_malformed_forms() {
        assert!(matches!(
            Form::parse("[1, 2]"),
            Err(FormError::NotAnArray(_))
        ));
        assert!(matches!(Form::parse("[]"), Err(FormError::NotAnArray(_))));
        assert!(matches!(
            Form::parse(r#"{"a": 1}"#),
            Err(FormError::NotAnArray(_))
        ));
        assert!(matches!(
            Form::parse(r#"["nocolon"]"#),
            Err(FormError::BadName(_))
        ));
        assert!(matches!(
            Form::parse(r#"["File:X"]"#),
            Err(FormError::BadName(_))
        ));
        assert!(matches!(
            Form::parse(r#"["file:x""#),
            Err(FormError::BadJson(_))
        ));
    }

    #[test]
    fn shortens_long_arguments() {
        let form = Form::new("file:has-content", vec![json!("x".repeat(100))]);
        assert!(form.to_string().chars().count() < 60, "{form}");
    }
}
