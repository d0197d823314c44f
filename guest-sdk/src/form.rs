//! Forms — `["file:has-content", "/etc/motd", "hi\n"]` — built in Rust, and
//! `apply` to have the host apply one with whichever module defines it. This
//! is how a property composes others, including other modules' properties.
//!
//! A form is also an argument like any other: a property taking `Vec<Form>`
//! is given a JSON array of forms, each validated (property and arguments)
//! when the form that holds them is.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::Value;

use crate::export::Module;
use crate::{Change, Error, Result, sys};

thread_local! {
    /// The module whose form is being validated, while it is.
    static VALIDATING: Cell<Option<&'static Module>> = const { Cell::new(None) };
}

/// Run `check` (decoding a form's arguments) so that every [`Form`] it
/// decodes is validated too: with `module` itself when the form is one of its
/// own properties, else by the host, with the module that defines it.
pub(crate) fn validating<T>(module: &'static Module, check: impl FnOnce() -> T) -> T {
    let outer = VALIDATING.replace(Some(module));
    let result = check();
    VALIDATING.set(outer);
    result
}

/// Validate a form decoded as an argument, if a validation is under way.
fn validate_nested(form: &Form) -> Result<()> {
    let Some(module) = VALIDATING.get() else {
        return Ok(());
    };
    let args = serde_json::to_string(&form.args).map_err(|e| Error::new(e.to_string()))?;
    let own = form.name.split_once(':').map(|(m, _)| m) == Some(module.name);
    let result = match own {
        true => module.validate(&form.name, &args),
        false => sys::validate_form(form).map_err(Error::new),
    };
    result.map_err(|e| e.context(&form.name))
}

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

    /// A form from its JSON: an array whose first element is the property's
    /// full name, `module:property`, followed by the arguments.
    ///
    /// ```
    /// # use consfig_guest::Form;
    /// # use consfig_guest::serde_json::json;
    /// let form = Form::from_value(json!(["file:absent", "/tmp/x"]))?;
    /// assert_eq!((form.name(), form.args()), ("file:absent", &[json!("/tmp/x")][..]));
    /// assert!(Form::from_value(json!("file:absent")).is_err());
    /// # Ok::<(), consfig_guest::Error>(())
    /// ```
    pub fn from_value(value: Value) -> Result<Form> {
        let (name, args) = consfig_contract::Form::from_value(value)
            .map_err(|e| Error::new(e.to_string()))?
            .into_parts();
        Ok(Form { name, args })
    }

    /// The form as JSON: `["file:absent", "/tmp/x"]`.
    pub fn to_value(&self) -> Value {
        let mut items = Vec::with_capacity(1 + self.args.len());
        items.push(Value::String(self.name.clone()));
        items.extend(self.args.iter().cloned());
        Value::Array(items)
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

impl<'de> Deserialize<'de> for Form {
    /// From the form's JSON; see [`Form::from_value`]. While the form that
    /// holds it is validated, it is validated too.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Form, D::Error> {
        let form = Form::from_value(Value::deserialize(deserializer)?)
            .map_err(serde::de::Error::custom)?;
        validate_nested(&form).map_err(serde::de::Error::custom)?;
        Ok(form)
    }
}

impl FromStr for Form {
    type Err = Error;

    /// From the form's JSON text, such as `["file:absent", "/tmp/x"]`.
    fn from_str(text: &str) -> Result<Form> {
        let (name, args) = consfig_contract::Form::parse(text)
            .map_err(|e| Error::new(e.to_string()))?
            .into_parts();
        Ok(Form { name, args })
    }
}

impl fmt::Display for Form {
    /// The form as JSON text, as the host takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

/// The form of property `name` of `module`, with no arguments yet: what a
/// typed constructor (`forms::has_content(..)`) starts from.
pub fn form(module: &str, name: &str) -> Form {
    Form::new(format!("{module}:{name}"))
}

/// An argument of a typed constructor, as JSON. Its type is the property's
/// parameter type, which serde can make JSON of unless it is a map with keys
/// that are not strings, or its `Serialize` fails: a mistake in the module
/// that defines the type, so it panics, naming the argument.
pub fn json<T: Serialize>(property: &str, param: &str, value: T) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|e| panic!("{property}: argument {param} cannot be made JSON: {e}"))
}

/// Give argument `param` by name: in the object after the `positional`
/// arguments of the form, made when the first one is given.
pub fn keyword(mut form: Form, positional: usize, param: &str, value: Value) -> Form {
    if form.args.len() == positional {
        form.args.push(Value::Object(serde_json::Map::new()));
    }
    if let Some(Value::Object(named)) = form.args.last_mut() {
        named.insert(param.to_owned(), value);
    }
    form
}

/// Apply a form with a property of any module the host has loaded, and
/// return what it did. Its errors come back prefixed with the form's name.
///
/// The form runs with the grants of the module that defines its property,
/// and of the module applying it: what neither may do, the form may not.
/// A form of the caller's own module runs in another, fresh instance of it.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The site's directory and its index page.
/// #[property]
/// fn site(root: String) -> Result<Change> {
///     let made = apply(&Form::new("file:directory-exists").arg(&root)?)?;
///     let index = Form::new("file:has-content")
///         .arg(format!("{root}/index.html"))?
///         .arg("<h1>hello</h1>\n")?;
///     // Change is `|`-able: changed when either changed.
///     Ok(made | apply(&index)?)
/// }
/// # consfig_guest::module! { name: "web", properties: [site] }
/// # fn main() {}
/// ```
pub fn apply(form: &Form) -> Result<Change> {
    sys::apply(form).map_err(|e| Error::new(e).context(&form.name))
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
    fn reads_forms_from_json() {
        let form = Form::from_value(json!(["cmd:single", ["true"], null])).unwrap();
        assert_eq!(
            form,
            Form::new("cmd:single")
                .value(json!(["true"]))
                .value(Value::Null)
        );
        assert_eq!(form.to_value(), json!(["cmd:single", ["true"], null]));
        assert_eq!(Form::from_value(form.to_value()).unwrap(), form);
        let bare: Form = r#"["testing:counter"]"#.parse().unwrap();
        assert_eq!((bare.name(), bare.args()), ("testing:counter", &[][..]));
        assert!(
            "[1,"
                .parse::<Form>()
                .unwrap_err()
                .message()
                .starts_with("a form must be JSON: ")
        );
    }

    #[test]
    fn refuses_what_is_not_a_form() {
        let err = |v: Value| Form::from_value(v).unwrap_err().to_string();
        let expected = |shown: &str| {
            format!(
                "a form is a JSON array whose first element is a property name, \
                 like [\"file:has-content\", \"/etc/motd\", \"hi\\n\"]; got {shown}"
            )
        };
        assert_eq!(err(json!("file:absent")), expected(r#""file:absent""#));
        assert_eq!(err(json!([])), expected("[]"));
        assert_eq!(err(json!([1, "x"])), expected(r#"[1,"x"]"#));
        assert_eq!(err(json!({"a": 1})), expected(r#"{"a":1}"#));
        assert_eq!(
            err(json!([1, "x".repeat(80)])),
            expected(&format!("[1,\"{}…", "x".repeat(56)))
        );
        // The grammar is the contract's, tested there; these check the message.
        for name in ["absent", "File:absent"] {
            assert_eq!(
                err(json!([name, "/x"])),
                format!(
                    "{name:?} is not a property name: expected module:property, \
                     such as \"file:has-content\""
                )
            );
        }
    }

    #[test]
    fn deserializes_as_an_argument() {
        // Properties decode owned values and check borrowed ones: both work.
        let forms: Vec<Form> =
            serde_json::from_value(json!([["file:absent", "/x"], ["testing:counter"]])).unwrap();
        assert_eq!(
            forms,
            [
                Form::new("file:absent").value(json!("/x")),
                Form::new("testing:counter")
            ]
        );
        let value = json!([["file:absent", "/x"], "file:absent"]);
        let err = Vec::<Form>::deserialize(&value).unwrap_err().to_string();
        assert!(err.starts_with("a form is a JSON array"), "{err}");
        assert!(err.ends_with(r#"got "file:absent""#), "{err}");
        let text: Vec<Form> = serde_json::from_str(r#"[["file:absent", "/x"]]"#).unwrap();
        assert_eq!(text.len(), 1);
    }

    #[test]
    fn gives_arguments_by_name_after_the_positional_ones() {
        let form = keyword(
            form("user", "exists").value(json!("ada")),
            1,
            "shell",
            json!("/bin/zsh"),
        );
        let form = keyword(form, 1, "home", json!("/h"));
        assert_eq!(
            form.to_value(),
            json!(["user:exists", "ada", {"home": "/h", "shell": "/bin/zsh"}])
        );
        // A positional object stays what it is.
        let form = keyword(Form::new("m:p").value(json!({"a": 1})), 1, "b", json!(2));
        assert_eq!(form.to_value(), json!(["m:p", {"a": 1}, {"b": 2}]));
    }

    #[test]
    #[should_panic(expected = "m:p: argument map cannot be made JSON: key must be a string")]
    fn a_typed_argument_that_is_no_json_panics_naming_it() {
        json("m:p", "map", BTreeMap::from([((1, 2), "x")]));
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
