//! Forms: a property's full name and its arguments.
//!
//! The canonical text of a form is a JSON array whose first element is the
//! name: `["file:has-content", "/etc/motd", "hi\n"]`. Its arguments travel
//! to the module as the JSON text of the rest: `["/etc/motd","hi\n"]`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::name::is_property_name;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("a form must be JSON: {0}")]
    NotJson(String),
    /// Not an array, or one whose first element is not a string; the value
    /// as shown, shortened.
    #[error(
        "a form is a JSON array whose first element is a property name, like [\"file:has-content\", \"/etc/motd\", \"hi\\n\"]; got {0}"
    )]
    NotAnArray(String),
    #[error("{0:?} is not a property name: expected module:property, such as \"file:has-content\"")]
    BadName(String),
    /// Arguments nested deeper than [`MAX_ARG_DEPTH`] arrays or objects.
    #[error(
        "{0}: the arguments nest more than {MAX_ARG_DEPTH} arrays or objects deep; no property needs that many"
    )]
    TooDeep(String),
}

/// How deep a form's arguments may nest arrays and objects. Forms travel
/// inside reports that nest them further, and every reader of JSON has a
/// limit: a form that could not be read back is refused where it enters.
pub const MAX_ARG_DEPTH: usize = 32;

/// How deep `value` nests arrays and objects (a scalar is 0), without
/// recursion: the value may be as deep as its parser allowed.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(value, 0)];
    while let Some((value, above)) = todo.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(above + 1);
        todo.extend(children.map(|child| (child, above + 1)));
    }
    deepest
}

/// A property application: a well-formed full property name and arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    name: String,
    args: Vec<Value>,
}

impl Form {
    /// A form of the property `name` (checked) with these arguments.
    pub fn new(name: impl Into<String>, args: Vec<Value>) -> Result<Form, FormError> {
        let name = name.into();
        if !is_property_name(&name) {
            return Err(FormError::BadName(name));
        }
        if args.iter().any(|arg| depth(arg) > MAX_ARG_DEPTH) {
            return Err(FormError::TooDeep(name));
        }
        Ok(Form { name, args })
    }

    /// A form from its canonical text.
    pub fn parse(text: &str) -> Result<Form, FormError> {
        let value = serde_json::from_str(text).map_err(|e| FormError::NotJson(e.to_string()))?;
        Form::from_value(value)
    }

    /// A form from its JSON value: an array whose first element is the name.
    pub fn from_value(value: Value) -> Result<Form, FormError> {
        let Value::Array(mut items) = value else {
            return Err(FormError::NotAnArray(shorten(&value.to_string(), 60)));
        };
        let Some(Value::String(_)) = items.first() else {
            return Err(FormError::NotAnArray(shorten(
                &Value::Array(items).to_string(),
                60,
            )));
        };
        let Value::String(name) = items.remove(0) else {
            unreachable!("checked above")
        };
        Form::new(name, items)
    }

    /// The property's full name, e.g. `file:has-content`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module part of the name: `file` in `file:has-content`.
    pub fn module(&self) -> &str {
        self.name.split_once(':').map_or("", |(module, _)| module)
    }

    pub fn args(&self) -> &[Value] {
        &self.args
    }

    /// The arguments, to rewrite them in place (e.g. to blank out secrets).
    pub fn args_mut(&mut self) -> &mut [Value] {
        &mut self.args
    }

    pub fn into_parts(self) -> (String, Vec<Value>) {
        (self.name, self.args)
    }

    /// The arguments as the JSON text a module's `apply` receives.
    pub fn args_json(&self) -> String {
        Value::Array(self.args.clone()).to_string()
    }

    pub fn to_value(&self) -> Value {
        let mut items = Vec::with_capacity(1 + self.args.len());
        items.push(Value::String(self.name.clone()));
        items.extend(self.args.iter().cloned());
        Value::Array(items)
    }

    /// The form on one line for people: `file:has-content /tmp/x "hi\n"`.
    /// Plain strings print bare, anything else as JSON; long arguments are
    /// shortened.
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }
}

/// See [`Form::summary`].
pub struct Summary<'a>(&'a Form);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name)?;
        for arg in &self.0.args {
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
            write!(f, " {}", shorten(&shown, 40))?;
        }
        Ok(())
    }
}

/// The canonical text: `["file:absent","/tmp/x"]`.
impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

/// At most `max` characters of `s`, with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max).chain(['…']).collect()
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
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_and_renders() {
        let form = Form::parse(r#"["file:has-content", "/etc/motd", "hi\n"]"#).unwrap();
        assert_eq!(form.name(), "file:has-content");
        assert_eq!(form.module(), "file");
        assert_eq!(form.args_json(), r#"["/etc/motd","hi\n"]"#);
        assert_eq!(
            form.to_string(),
            r#"["file:has-content","/etc/motd","hi\n"]"#
        );
        assert_eq!(
            form.summary().to_string(),
            r#"file:has-content /etc/motd "hi\n""#
        );
        let round: Form = serde_json::from_value(serde_json::to_value(&form).unwrap()).unwrap();
        assert_eq!(round, form);
    }

    #[test]
    fn refuses_what_is_not_a_form() {
        let err = |v: Value| Form::from_value(v).unwrap_err();
        assert!(matches!(
            err(json!("file:absent")),
            FormError::NotAnArray(_)
        ));
        assert!(matches!(err(json!([])), FormError::NotAnArray(_)));
        assert!(matches!(err(json!([1, 2])), FormError::NotAnArray(_)));
        assert!(matches!(err(json!({"a": 1})), FormError::NotAnArray(_)));
        assert_eq!(
            err(json!([1, "x".repeat(80)])),
            FormError::NotAnArray(format!("[1,\"{}…", "x".repeat(56)))
        );
        for name in ["nocolon", "File:X", "file:has content", "a:b:c"] {
            assert_eq!(err(json!([name])), FormError::BadName(name.to_owned()));
        }
        assert!(matches!(
            Form::parse(r#"["file:x""#),
            Err(FormError::NotJson(_))
        ));
        assert!(Form::new("file", vec![]).is_err());
    }

    #[test]
    fn arguments_nest_at_most_so_deep() {
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        let form = |levels| Form::parse(&format!(r#"["testing:echo", {}]"#, nested(levels)));
        assert_eq!(depth(&serde_json::from_str(&nested(3)).unwrap()), 3);
        assert_eq!(depth(&json!({"a": [1, {"b": []}], "c": 2})), 4);
        assert!(form(MAX_ARG_DEPTH).is_ok());
        let refused = form(MAX_ARG_DEPTH + 1).unwrap_err();
        assert_eq!(refused, FormError::TooDeep("testing:echo".into()));
        assert_eq!(
            refused.to_string(),
            "testing:echo: the arguments nest more than 32 arrays or objects deep; no property needs that many"
        );
        // However it arrives: as text, as a value, or inside a message.
        let deep: Value =
            serde_json::from_str(&format!(r#"["testing:echo", {}]"#, nested(40))).unwrap();
        assert!(Form::from_value(deep.clone()).is_err());
        assert!(serde_json::from_value::<Form>(deep).is_err());
    }

    #[test]
    fn summaries_shorten_long_arguments() {
        let form = Form::new("file:has-content", vec![json!("x".repeat(100))]).unwrap();
        assert!(form.summary().to_string().chars().count() < 60);
    }
}
