//! Decoding a form's arguments into a property's parameters: positional, with
//! serde, and with errors that name the argument by number and name.
//!
//! `#[property]` expands to calls of these functions, one per parameter.

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

/// Refuse more arguments than parameters. Fewer is fine here: a missing
/// argument decodes from `null`, which only `Option`s (and the like) accept.
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

/// Decode argument `index` (`None` when the form left it out).
pub fn decode<T: DeserializeOwned>(
    params: &[Param],
    index: usize,
    value: Option<Value>,
) -> Result<T> {
    let given = value.is_some();
    serde_json::from_value(value.unwrap_or(Value::Null))
        .map_err(|e| problem(params, index, given, e))
}

/// Check that argument `index` decodes, without keeping the result.
pub fn check<T: DeserializeOwned>(
    params: &[Param],
    index: usize,
    value: Option<&Value>,
) -> Result<()> {
    let given = value.is_some();
    T::deserialize(value.unwrap_or(&Value::Null))
        .map(drop)
        .map_err(|e| problem(params, index, given, e))
}

fn problem(params: &[Param], index: usize, given: bool, e: serde_json::Error) -> Error {
    let name = params.get(index).map_or("?", |p| p.name);
    let number = index + 1;
    if given {
        Error::new(format!("argument {number} ({name}): {e}"))
    } else {
        Error::new(format!("missing argument {number} ({name})"))
    }
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

    const PARAMS: &[Param] = &[
        Param {
            name: "path",
            ty: "String",
            optional: false,
        },
        Param {
            name: "content",
            ty: "String",
            optional: false,
        },
        Param {
            name: "mode",
            ty: "Option<u32>",
            optional: true,
        },
    ];

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
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
        let path: String = decode(PARAMS, 0, Some(json!("/etc/motd"))).unwrap();
        assert_eq!(path, "/etc/motd");
        let mode: Option<u32> = decode(PARAMS, 2, Some(json!(420))).unwrap();
        assert_eq!(mode, Some(420));
        check::<String>(PARAMS, 1, Some(&json!("hi\n"))).unwrap();
    }

    #[test]
    fn a_missing_optional_argument_is_none() {
        let mode: Option<u32> = decode(PARAMS, 2, None).unwrap();
        assert_eq!(mode, None);
        check::<Option<u32>>(PARAMS, 2, None).unwrap();
    }

    #[test]
    fn a_missing_required_argument_is_named() {
        assert_eq!(
            err(decode::<String>(PARAMS, 1, None)),
            "missing argument 2 (content)"
        );
        assert_eq!(
            err(check::<String>(PARAMS, 1, None)),
            "missing argument 2 (content)"
        );
    }

    #[test]
    fn a_wrong_type_names_the_argument() {
        assert_eq!(
            err(decode::<String>(PARAMS, 1, Some(json!(42)))),
            "argument 2 (content): invalid type: integer `42`, expected a string"
        );
        assert_eq!(
            err(check::<String>(PARAMS, 1, Some(&json!(42)))),
            "argument 2 (content): invalid type: integer `42`, expected a string"
        );
        // An explicit null is given, so it is a wrong type rather than missing.
        assert_eq!(
            err(check::<String>(PARAMS, 0, Some(&Value::Null))),
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
