//! Which argument of a form goes to which parameter of its property, and
//! whether each is of its parameter's schema — the same rules, and the same
//! words, for modules in every language.
//!
//! Required parameters are given by position. Optional ones are given by
//! position too, or by name in a JSON object that ends the form:
//! `["user:exists", "ada", {"shell": "/bin/zsh"}]`. The last argument is that
//! object exactly when the property has optional parameters, the last
//! argument is a JSON object, and every required argument comes before it.
//! So an object given for a required parameter is always that parameter,
//! and an optional parameter whose value is itself an object is given by
//! name: `{"settings": {...}}`.
//!
//! The runtime checks every form with [`check`] before its module sees it;
//! the Rust SDK arranges arguments with [`arrange`] to decode them.

use serde_json::{Map, Value};

use crate::schema::{Mismatch, Schema};

/// What arranging needs to know of a parameter.
pub trait Parameter {
    /// The name it is given by, in kebab case: `home-dir`.
    fn name(&self) -> &str;
    /// Whether it may be left out of a form, and so be given by name.
    fn optional(&self) -> bool;
}

/// A parameter as the runtime knows it from a module's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSchema {
    pub name: String,
    pub schema: Schema,
    pub optional: bool,
    /// The value a left-out argument takes, already checked against `schema`.
    pub default: Option<Value>,
}

impl Parameter for ParamSchema {
    fn name(&self) -> &str {
        &self.name
    }

    fn optional(&self) -> bool {
        self.optional
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    #[error("too many arguments: expected {expected}, got {given}")]
    TooMany { expected: String, given: usize },
    #[error("unknown keyword argument {key:?}: {takes}")]
    UnknownKeyword { key: String, takes: String },
    #[error("argument {number} ({name}) is required: give it by position, not by name")]
    RequiredByName { number: usize, name: String },
    #[error("argument {number} ({name}) is given twice: by position and by name")]
    GivenTwice { number: usize, name: String },
    #[error("missing argument {number} ({name})")]
    Missing { number: usize, name: String },
    #[error("argument {number} ({name}): {mismatch}")]
    Positional {
        number: usize,
        name: String,
        mismatch: Mismatch,
    },
    #[error("keyword argument {name}: {mismatch}")]
    Named { name: String, mismatch: Mismatch },
}

/// Which argument goes to which parameter: one [`Given`] per parameter.
/// Refuses more positional arguments than parameters, unknown names, names
/// of required parameters, and a parameter given both ways.
pub fn arrange<'a, P: Parameter>(
    params: &[P],
    args: &'a [Value],
) -> Result<Vec<Given<'a>>, ArgumentError> {
    let (positional, named) = split_named(params, args);
    check_count(params, positional.len())?;
    let mut given: Vec<Given<'a>> = (0..params.len())
        .map(|i| positional.get(i).map_or(Given::Missing, Given::Positional))
        .collect();
    for (key, value) in named.into_iter().flatten() {
        let Some(index) = params.iter().position(|p| p.name() == key) else {
            return Err(ArgumentError::UnknownKeyword {
                key: key.clone(),
                takes: keywords(params),
            });
        };
        let (number, name) = (index + 1, key.clone());
        if !params[index].optional() {
            return Err(ArgumentError::RequiredByName { number, name });
        }
        if let Given::Positional(_) = given[index] {
            return Err(ArgumentError::GivenTwice { number, name });
        }
        given[index] = Given::Named(value);
    }
    Ok(given)
}

/// Check a form's arguments against its property's parameters: arranged as
/// [`arrange`] does, each given one of its schema, each left out one
/// optional, with a default, or of a schema that takes `null`.
pub fn check(params: &[ParamSchema], args: &[Value]) -> Result<(), ArgumentError> {
    let given = arrange(params, args)?;
    for (index, (param, given)) in params.iter().zip(given).enumerate() {
        let (number, name) = (index + 1, || param.name.clone());
        match given {
            Given::Positional(value) => {
                param
                    .schema
                    .check(value)
                    .map_err(|mismatch| ArgumentError::Positional {
                        number,
                        name: name(),
                        mismatch,
                    })?
            }
            Given::Named(value) => {
                param
                    .schema
                    .check(value)
                    .map_err(|mismatch| ArgumentError::Named {
                        name: name(),
                        mismatch,
                    })?
            }
            Given::Missing => {
                if !param.optional && param.default.is_none() && !param.schema.accepts_null() {
                    return Err(ArgumentError::Missing {
                        number,
                        name: name(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The positional arguments, and the trailing object of named ones if the
/// form ends with one (see the module's doc for when it does).
fn split_named<'a, P: Parameter>(
    params: &[P],
    args: &'a [Value],
) -> (&'a [Value], Option<&'a Map<String, Value>>) {
    let required = params.iter().filter(|p| !p.optional()).count();
    let takes_names = required < params.len();
    match args.split_last() {
        Some((Value::Object(named), positional)) if takes_names && positional.len() >= required => {
            (positional, Some(named))
        }
        _ => (args, None),
    }
}

/// What may be given by name, for an error.
fn keywords<P: Parameter>(params: &[P]) -> String {
    let names: Vec<&str> = params
        .iter()
        .filter(|p| p.optional())
        .map(|p| p.name())
        .collect();
    match names.is_empty() {
        true => "this property takes none".to_owned(),
        false => format!("it takes {}", names.join(", ")),
    }
}

/// Refuse more positional arguments than parameters. Fewer is fine here: a
/// missing argument takes its default, or is `null` where that is a value.
pub fn check_count<P: Parameter>(params: &[P], given: usize) -> Result<(), ArgumentError> {
    if given <= params.len() {
        return Ok(());
    }
    let names: Vec<&str> = params.iter().map(|p| p.name()).collect();
    let expected = match (params.len(), params.iter().any(|p| p.optional())) {
        (0, _) => "none".to_owned(),
        (n, false) => format!("{n} ({})", names.join(", ")),
        (n, true) => format!("at most {n} ({})", names.join(", ")),
    };
    Err(ArgumentError::TooMany { expected, given })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn param(name: &str, schema: &str, optional: bool, default: Option<Value>) -> ParamSchema {
        ParamSchema {
            name: name.into(),
            schema: Schema::parse(schema).unwrap(),
            optional,
            default,
        }
    }

    /// `user:exists`-like: one required, two optional, one with a default.
    fn account() -> Vec<ParamSchema> {
        vec![
            param("name", "string", false, None),
            param("home", "optional<string>", true, None),
            param("shell", "string", true, Some(json!("/bin/sh"))),
        ]
    }

    fn err(args: Value) -> String {
        let Value::Array(args) = args else { panic!() };
        check(&account(), &args).unwrap_err().to_string()
    }

    fn ok(args: Value) {
        let Value::Array(args) = args else { panic!() };
        check(&account(), &args).unwrap();
    }

    #[test]
    fn takes_positional_and_named_arguments() {
        ok(json!(["ada"]));
        ok(json!(["ada", "/home/a"]));
        ok(json!(["ada", {"shell": "/bin/zsh"}]));
        ok(json!(["ada", "/h", {"shell": "/bin/zsh"}]));
        ok(json!(["ada", {}]));
        ok(json!(["ada", {"home": null}]));
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(
            err(json!(["ada", {"shel": "/bin/zsh"}])),
            r#"unknown keyword argument "shel": it takes home, shell"#
        );
        assert_eq!(
            err(json!(["ada", {"name": "bob"}])),
            "argument 1 (name) is required: give it by position, not by name"
        );
        assert_eq!(
            err(json!(["ada", "/h", {"home": "/g"}])),
            "argument 2 (home) is given twice: by position and by name"
        );
        assert_eq!(
            err(json!(["ada", {"home": 42}])),
            "keyword argument home: expected a string or null, got an integer"
        );
        assert_eq!(
            err(json!(["ada", {"shell": null}])),
            "keyword argument shell: expected a string, got null"
        );
        assert_eq!(
            err(json!(["ada", "/h", "/bin/sh", "extra"])),
            "too many arguments: expected at most 3 (name, home, shell), got 4"
        );
        assert_eq!(err(json!([])), "missing argument 1 (name)");
        // Too few arguments before it: the object is argument 1.
        assert_eq!(
            err(json!([{"shell": "/bin/zsh"}])),
            "argument 1 (name): expected a string, got an object"
        );
    }

    #[test]
    fn an_object_in_a_required_place_is_that_argument() {
        let settings = [param("settings", "object", false, None)];
        let args = [json!({"a": 1})];
        assert_eq!(
            arrange(&settings, &args).unwrap(),
            [Given::Positional(&args[0])]
        );
        let both = [json!({"a": 1}), json!({"b": 2})];
        assert_eq!(
            check(&settings, &both).unwrap_err().to_string(),
            "too many arguments: expected 1 (settings), got 2"
        );
        assert_eq!(
            check(&[], &[json!(1)]).unwrap_err().to_string(),
            "too many arguments: expected none, got 1"
        );
    }
}
