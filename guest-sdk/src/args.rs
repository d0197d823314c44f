//! Decoding a form's arguments into a property's parameters, with serde, and
//! with errors that name the argument.
//!
//! Required parameters are given by position. Optional ones (trailing
//! `Option`s and parameters with a `#[default]`) are given by position too,
//! or by name in a JSON object that ends the form:
//! `["user:exists", "ada", {"shell": "/bin/zsh"}]`. The last argument is that
//! object exactly when the property has optional parameters, the last
//! argument is a JSON object, and every required argument comes before it.
//! So an object given for a required parameter is always that parameter,
//! and an optional parameter whose value is itself an object is given by
//! name: `{"settings": {...}}`.
//!
//! `#[property]` expands to calls of [`arrange`] and [`decode`].

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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

/// Where the value of one parameter is in a form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given<'a> {
    /// By position.
    Positional(&'a Value),
    /// By name, in the trailing object.
    Named(&'a Value),
    /// Left out: the default, if any, else `null`.
    Missing,
}

/// Which argument goes to which parameter: one [`Given`] per parameter.
/// Refuses more positional arguments than parameters, unknown names, names
/// of required parameters, and a parameter given both ways.
pub fn arrange<'a>(params: &[Param], args: &'a [Value]) -> Result<Vec<Given<'a>>> {
    let (positional, named) = split_named(params, args);
    check_count(params, positional.len())?;
    let mut given: Vec<Given<'a>> = (0..params.len())
        .map(|i| positional.get(i).map_or(Given::Missing, Given::Positional))
        .collect();
    for (key, value) in named.into_iter().flatten() {
        let Some(index) = params.iter().position(|p| p.name == key) else {
            return Err(Error::new(format!(
                "unknown keyword argument {key:?}: {}",
                keywords(params)
            )));
        };
        let number = index + 1;
        if !params[index].optional {
            return Err(Error::new(format!(
                "argument {number} ({key}) is required: give it by position, not by name"
            )));
        }
        if let Given::Positional(_) = given[index] {
            return Err(Error::new(format!(
                "argument {number} ({key}) is given twice: by position and by name"
            )));
        }
        given[index] = Given::Named(value);
    }
    Ok(given)
}

/// The positional arguments, and the trailing object of named ones if the
/// form ends with one (see the module's doc for when it does).
fn split_named<'a>(
    params: &[Param],
    args: &'a [Value],
) -> (&'a [Value], Option<&'a Map<String, Value>>) {
    let required = params.iter().filter(|p| !p.optional).count();
    let takes_names = required < params.len();
    match args.split_last() {
        Some((Value::Object(named), positional)) if takes_names && positional.len() >= required => {
            (positional, Some(named))
        }
        _ => (args, None),
    }
}

/// What may be given by name, for an error.
fn keywords(params: &[Param]) -> String {
    let names: Vec<&str> = params
        .iter()
        .filter(|p| p.optional)
        .map(|p| p.name)
        .collect();
    match names.is_empty() {
        true => "this property takes none".to_owned(),
        false => format!("it takes {}", names.join(", ")),
    }
}

/// Refuse more positional arguments than parameters. Fewer is fine here: a
/// missing argument takes its default or decodes from `null`, which only
/// `Option`s (and the like) accept.
pub fn check_count(params: &[Param], given: usize) -> Result<()> {
    if given <= params.len() {
        return Ok(());
    }
    let names: Vec<&str> = params.iter().map(|p| p.name).collect();
    let expected = match (params.len(), params.iter().any(|p| p.optional)) {
        (0, _) => "none".to_owned(),
        (n, false) => format!("{n} ({})", names.join(", ")),
        (n, true) => format!("at most {n} ({})", names.join(", ")),
    };
    Err(Error::new(format!(
        "too many arguments: expected {expected}, got {given}"
    )))
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

    const fn param(name: &'static str, ty: &'static str) -> Param {
        Param {
            name,
            ty,
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

    #[test]
    fn too_many_arguments_say_how_many_were_expected() {
        check_count(PARAMS, 2).unwrap();
        check_count(PARAMS, 3).unwrap();
        assert_eq!(
            err(check_count(PARAMS, 4)),
            "too many arguments: expected at most 3 (path, content, mode), got 4"
        );
        assert_eq!(
            err(check_count(&PARAMS[..1], 2)),
            "too many arguments: expected 1 (path), got 2"
        );
        assert_eq!(
            err(check_count(&[], 1)),
            "too many arguments: expected none, got 1"
        );
    }
}
