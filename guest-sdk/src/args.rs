//! Decoding a form's arguments into a property's parameters, with serde, and
//! with errors that name the argument.
//!
//! Which argument goes to which parameter is the contract's
//! (`consfig_contract::arguments`): required parameters by position,
//! optional ones (trailing `Option`s and parameters with a `#[default]`) by
//! position too, or by name in a JSON object that ends the form:
//! `["user:exists", "ada", {"shell": "/bin/zsh"}]`.
//!
//! `#[property]` expands to calls of [`arrange`] and [`decode`].

use consfig_contract::arguments;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::property::Param;
use crate::{Error, Result};

/// Parse the JSON text the host passes as a form's arguments.
pub fn parse(args: &str) -> Result<Vec<Value>> {
    match serde_json::from_str(args) {
        Ok(Value::Array(values)) => Ok(values),
        Ok(other) => Err(Error::new(format!(
            "the arguments must be a JSON array, not {}",
            kind(&other)
        ))),
        Err(e) => Err(Error::new(format!("the arguments are not valid JSON: {e}"))),
    }
}

pub use consfig_contract::arguments::Given;

/// Which argument goes to which parameter (the contract's rules, which the
/// runtime checked already, so errors here are rare and read the same).
pub fn arrange<'a>(params: &[Param], args: &'a [Value]) -> Result<Vec<Given<'a>>> {
    arguments::arrange(params, args).map_err(|e| Error::new(e.to_string()))
}

/// Decode parameter `index` from where [`arrange`] found it.
pub fn decode<T: DeserializeOwned>(params: &[Param], index: usize, given: Given<'_>) -> Result<T> {
    let param = params.get(index);
    let name = param.map_or("?", |p| p.name);
    let number = index + 1;
    match given {
        Given::Positional(value) => T::deserialize(value)
            .map_err(|e| Error::new(format!("argument {number} ({name}): {e}"))),
        Given::Named(value) => {
            T::deserialize(value).map_err(|e| Error::new(format!("keyword argument {name}: {e}")))
        }
        Given::Missing => match param.and_then(|p| p.default) {
            Some(default) => decode_default(default).map_err(|e| {
                Error::new(format!(
                    "the default of argument {number} ({name}), {default}, is no value of it: {e}"
                ))
            }),
            None => T::deserialize(&Value::Null)
                .map_err(|_| Error::new(format!("missing argument {number} ({name})"))),
        },
    }
}

fn decode_default<T: DeserializeOwned>(default: &str) -> serde_json::Result<T> {
    T::deserialize(&serde_json::from_str::<Value>(default)?)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn any() -> consfig_contract::Schema {
        consfig_contract::Schema::Any
    }

    /// The schema plays no part in decoding: the runtime checked it.
    const fn param(name: &'static str, _rust_type: &'static str) -> Param {
        Param {
            name,
            schema: any,
            optional: false,
            default: None,
        }
    }

    const PARAMS: &[Param] = &[
        param("path", "String"),
        param("content", "String"),
        Param {
            optional: true,
            ..param("mode", "Option<u32>")
        },
    ];

    /// `user:exists`-like: one required, two optional, one with a default.
    const ACCOUNT: &[Param] = &[
        param("name", "String"),
        Param {
            optional: true,
            ..param("home", "Option<String>")
        },
        Param {
            optional: true,
            default: Some(r#""/bin/sh""#),
            ..param("shell", "String")
        },
    ];

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    /// Arrange and decode every parameter of ACCOUNT.
    fn account(args: Value) -> Result<(String, Option<String>, String)> {
        let Value::Array(args) = args else { panic!() };
        let given = arrange(ACCOUNT, &args)?;
        Ok((
            decode(ACCOUNT, 0, given[0])?,
            decode(ACCOUNT, 1, given[1])?,
            decode(ACCOUNT, 2, given[2])?,
        ))
    }

    fn ada(home: Option<&str>, shell: &str) -> (String, Option<String>, String) {
        ("ada".into(), home.map(Into::into), shell.into())
    }

    #[test]
    fn parses_only_arrays() {
        assert_eq!(parse(r#"["/x", 1]"#).unwrap(), vec![json!("/x"), json!(1)]);
        assert_eq!(parse("[]").unwrap(), Vec::<Value>::new());
        assert_eq!(
            err(parse(r#"{"a": 1}"#)),
            "the arguments must be a JSON array, not an object"
        );
        assert_eq!(
            err(parse("\"x\"")),
            "the arguments must be a JSON array, not a string"
        );
        assert!(err(parse("[1,")).starts_with("the arguments are not valid JSON: "));
    }

    #[test]
    fn decodes_positionally() {
        let args = [json!("/etc/motd"), json!("hi\n"), json!(420)];
        let given = arrange(PARAMS, &args).unwrap();
        let path: String = decode(PARAMS, 0, given[0]).unwrap();
        assert_eq!(path, "/etc/motd");
        let mode: Option<u32> = decode(PARAMS, 2, given[2]).unwrap();
        assert_eq!(mode, Some(420));
    }

    #[test]
    fn a_missing_optional_argument_is_none_or_its_default() {
        let mode: Option<u32> = decode(PARAMS, 2, Given::Missing).unwrap();
        assert_eq!(mode, None);
        assert_eq!(account(json!(["ada"])).unwrap(), ada(None, "/bin/sh"));
        assert_eq!(
            account(json!(["ada", "/home/a"])).unwrap(),
            ada(Some("/home/a"), "/bin/sh")
        );
    }

    #[test]
    fn a_trailing_object_names_optional_arguments() {
        assert_eq!(
            account(json!(["ada", {"shell": "/bin/zsh"}])).unwrap(),
            ada(None, "/bin/zsh")
        );
        assert_eq!(
            account(json!(["ada", {"home": "/h", "shell": "/bin/zsh"}])).unwrap(),
            ada(Some("/h"), "/bin/zsh")
        );
        // Positional and named together; an empty object names nothing.
        assert_eq!(
            account(json!(["ada", "/h", {"shell": "/bin/zsh"}])).unwrap(),
            ada(Some("/h"), "/bin/zsh")
        );
        assert_eq!(account(json!(["ada", {}])).unwrap(), ada(None, "/bin/sh"));
        // By name, `null` is given: an Option's None, a wrong type otherwise.
        assert_eq!(
            account(json!(["ada", {"home": null}])).unwrap(),
            ada(None, "/bin/sh")
        );
        assert_eq!(
            err(account(json!(["ada", {"shell": null}]))),
            "keyword argument shell: invalid type: null, expected a string"
        );
    }

    #[test]
    fn an_object_in_a_required_place_is_that_argument() {
        // Too few arguments before it: the object is argument 1.
        assert_eq!(
            err(account(json!([{"shell": "/bin/zsh"}]))),
            "argument 1 (name): invalid type: map, expected a string"
        );
        // A property without optional parameters takes objects by position.
        let settings = [param("settings", "Map")];
        let args = [json!({"a": 1})];
        let given = arrange(&settings, &args).unwrap();
        assert_eq!(given, [Given::Positional(&args[0])]);
        let both = [json!({"a": 1}), json!({"b": 2})];
        assert_eq!(
            err(arrange(&settings, &both)),
            "too many arguments: expected 1 (settings), got 2"
        );
    }

    #[test]
    fn unknown_and_misplaced_names_are_refused() {
        assert_eq!(
            err(account(json!(["ada", {"shel": "/bin/zsh"}]))),
            r#"unknown keyword argument "shel": it takes home, shell"#
        );
        assert_eq!(
            err(account(json!(["ada", {"name": "bob"}]))),
            "argument 1 (name) is required: give it by position, not by name"
        );
        assert_eq!(
            err(account(json!(["ada", "/h", {"home": "/g"}]))),
            "argument 2 (home) is given twice: by position and by name"
        );
        assert_eq!(
            err(account(json!(["ada", {"home": 42}]))),
            "keyword argument home: invalid type: integer `42`, expected a string"
        );
        assert_eq!(
            err(account(json!(["ada", "/h", "/bin/sh", "extra"]))),
            "too many arguments: expected at most 3 (name, home, shell), got 4"
        );
    }

    #[test]
    fn a_default_of_the_wrong_type_is_named() {
        let port = [Param {
            optional: true,
            default: Some(r#""eighty""#),
            ..param("port", "u16")
        }];
        assert_eq!(
            err(decode::<u16>(&port, 0, Given::Missing)),
            "the default of argument 1 (port), \"eighty\", is no value of it: \
             invalid type: string \"eighty\", expected u16"
        );
    }

    #[test]
    fn a_missing_required_argument_is_named() {
        assert_eq!(
            err(decode::<String>(PARAMS, 1, Given::Missing)),
            "missing argument 2 (content)"
        );
    }

    #[test]
    fn a_wrong_type_names_the_argument() {
        assert_eq!(
            err(decode::<String>(PARAMS, 1, Given::Positional(&json!(42)))),
            "argument 2 (content): invalid type: integer `42`, expected a string"
        );
        // An explicit null is given, so it is a wrong type rather than missing.
        assert_eq!(
            err(decode::<String>(PARAMS, 0, Given::Positional(&Value::Null))),
            "argument 1 (path): invalid type: null, expected a string"
        );
    }
}
