//! The schema of a property's parameters: what values each argument takes,
//! in words that are the same for modules in every language.
//!
//! A module describes each parameter by a schema text (`param-info.schema`
//! in the WIT): `string`, `integer`, `number`, `bool`, `form`, `any`,
//! `list<T>`, `object`, `object<T>`, `optional<T>` and `A|B`. The runtime
//! parses it when it loads the module and checks every argument against it
//! before the module sees a form, so `consfig describe` and the errors for
//! arguments of the wrong kind read the same whatever the module is
//! written in.

use std::fmt;

use serde_json::Value;

use crate::Form;

/// The longest schema text accepted: a module's words, read by the runtime.
pub const MAX_SCHEMA_LEN: usize = 1024;
/// How deep `list<…>`, `object<…>` and `optional<…>` may nest.
pub const MAX_SCHEMA_DEPTH: usize = 16;

/// What values an argument takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    String,
    /// A JSON number without a fraction.
    Integer,
    /// Any JSON number.
    Number,
    Bool,
    /// A form: a JSON array whose first element is a property name.
    Form,
    /// Any JSON value: the module decodes it.
    Any,
    List(Box<Schema>),
    /// A JSON object; with a schema, every value has it.
    Object(Option<Box<Schema>>),
    /// The schema, or `null`.
    Optional(Box<Schema>),
    /// Any of these (at least two).
    Either(Vec<Schema>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("a schema of more than {MAX_SCHEMA_LEN} bytes")]
    TooLong,
    #[error("a schema nesting more than {MAX_SCHEMA_DEPTH} deep")]
    TooDeep,
    #[error(
        "{0:?} is not a schema: expected string, integer, number, bool, form, any, list<T>, object, object<T>, optional<T> or A|B"
    )]
    Unknown(String),
    #[error("{0:?} is not a schema: {1}")]
    Malformed(String, &'static str),
}

impl Schema {
    /// Parse a schema text; spaces are allowed around its words.
    pub fn parse(text: &str) -> Result<Schema, SchemaError> {
        if text.len() > MAX_SCHEMA_LEN {
            return Err(SchemaError::TooLong);
        }
        let mut parser = Parser { text, at: 0 };
        let schema = parser.either(0)?;
        parser.skip_spaces();
        match parser.at == text.len() {
            true => Ok(schema),
            false => Err(SchemaError::Malformed(
                text.to_owned(),
                "something follows its end",
            )),
        }
    }

    /// Whether `null` is a value of it: an argument of such a schema may be
    /// left out even when it has no default.
    pub fn accepts_null(&self) -> bool {
        match self {
            Schema::Any | Schema::Optional(_) => true,
            Schema::Either(all) => all.iter().any(Schema::accepts_null),
            _ => false,
        }
    }

    /// Check `value` against the schema; the mismatch says where and what.
    pub fn check(&self, value: &Value) -> Result<(), Mismatch> {
        let matches = match (self, value) {
            (Schema::Any, _)
            | (Schema::String, Value::String(_))
            | (Schema::Number, Value::Number(_))
            | (Schema::Bool, Value::Bool(_))
            | (Schema::Optional(_), Value::Null) => true,
            (Schema::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Schema::Form, _) => Form::from_value(value.clone()).is_ok(),
            (Schema::Optional(inner), _) => {
                // Said of the value itself, the mismatch names null too.
                return inner.check(value).map_err(|m| match m.within.is_empty() {
                    true => Mismatch {
                        expected: self.expected(),
                        ..m
                    },
                    false => m,
                });
            }
            (Schema::List(item), Value::Array(items)) => {
                for (i, value) in items.iter().enumerate() {
                    item.check(value)
                        .map_err(|m| m.within(format!("item {}", i + 1)))?;
                }
                true
            }
            (Schema::Object(None), Value::Object(_)) => true,
            (Schema::Object(Some(inner)), Value::Object(map)) => {
                for (key, value) in map {
                    inner
                        .check(value)
                        .map_err(|m| m.within(format!("key {key:?}")))?;
                }
                true
            }
            (Schema::Either(all), _) => {
                // The first alternative of the value's own kind says more
                // than "none of them" when the value is a list or an object.
                match all.iter().find(|s| s.check(value).is_ok()) {
                    Some(_) => true,
                    None => match all.iter().filter(|s| s.same_kind(value)).count() {
                        1 => {
                            let one = all.iter().find(|s| s.same_kind(value));
                            return one.expect("counted").check(value);
                        }
                        _ => false,
                    },
                }
            }
            _ => false,
        };
        match matches {
            true => Ok(()),
            false => Err(Mismatch {
                within: Vec::new(),
                expected: self.expected(),
                got: kind(value),
            }),
        }
    }

    /// Whether a value of this kind of JSON could be of the schema.
    fn same_kind(&self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Schema::List(_) | Schema::Form, Value::Array(_))
                | (Schema::Object(_), Value::Object(_))
        )
    }

    /// What the schema takes, in words: `a list of strings`.
    pub fn expected(&self) -> String {
        match self {
            Schema::String => "a string".into(),
            Schema::Integer => "an integer".into(),
            Schema::Number => "a number".into(),
            Schema::Bool => "a boolean".into(),
            Schema::Form => "a form (an array starting with a property name)".into(),
            Schema::Any => "any value".into(),
            Schema::List(item) => format!("a list of {}", item.plural()),
            Schema::Object(None) => "an object".into(),
            Schema::Object(Some(inner)) => format!("an object of {}", inner.plural()),
            Schema::Optional(inner) => format!("{} or null", inner.expected()),
            Schema::Either(all) => {
                let words: Vec<String> = all.iter().map(Schema::expected).collect();
                words.join(" or ")
            }
        }
    }

    fn plural(&self) -> String {
        match self {
            Schema::String => "strings".into(),
            Schema::Integer => "integers".into(),
            Schema::Number => "numbers".into(),
            Schema::Bool => "booleans".into(),
            Schema::Form => "forms".into(),
            Schema::Any => "values".into(),
            Schema::List(_) => format!("lists ({})", self.expected()),
            Schema::Object(_) => format!("objects ({})", self.expected()),
            Schema::Optional(_) | Schema::Either(_) => {
                format!("values that are {}", self.expected())
            }
        }
    }
}

/// The canonical text, without spaces: `list<optional<string>>`.
impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schema::String => f.write_str("string"),
            Schema::Integer => f.write_str("integer"),
            Schema::Number => f.write_str("number"),
            Schema::Bool => f.write_str("bool"),
            Schema::Form => f.write_str("form"),
            Schema::Any => f.write_str("any"),
            Schema::List(item) => write!(f, "list<{item}>"),
            Schema::Object(None) => f.write_str("object"),
            Schema::Object(Some(inner)) => write!(f, "object<{inner}>"),
            Schema::Optional(inner) => write!(f, "optional<{inner}>"),
            Schema::Either(all) => {
                for (i, schema) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    // An alternative that is itself a choice keeps its own
                    // brackets only where the grammar needs none: it has none.
                    write!(f, "{schema}")?;
                }
                Ok(())
            }
        }
    }
}

/// A value that is not of its schema: where in the argument, what was
/// expected, what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// From the outside in: `item 2`, `key "port"`.
    within: Vec<String>,
    expected: String,
    got: &'static str,
}

impl Mismatch {
    fn within(mut self, place: String) -> Mismatch {
        self.within.insert(0, place);
        self
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for place in &self.within {
            write!(f, "{place}: ")?;
        }
        write!(f, "expected {}, got {}", self.expected, self.got)
    }
}

/// What kind of JSON value `value` is, in words.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        let found = self.text[self.at..].starts_with(c);
        if found {
            self.at += c.len_utf8();
        }
        found
    }

    fn malformed(&self, why: &'static str) -> SchemaError {
        SchemaError::Malformed(self.text.to_owned(), why)
    }

    /// `term ("|" term)*`
    fn either(&mut self, depth: usize) -> Result<Schema, SchemaError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(SchemaError::TooDeep);
        }
        let mut all = vec![self.term(depth)?];
        while self.eat('|') {
            all.push(self.term(depth)?);
        }
        Ok(match all.len() {
            1 => all.pop().expect("one"),
            _ => Schema::Either(all),
        })
    }

    fn term(&mut self, depth: usize) -> Result<Schema, SchemaError> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        let word_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let word = &rest[..word_len];
        self.at += word_len;
        let scalar = match word {
            "string" => Some(Schema::String),
            "integer" => Some(Schema::Integer),
            "number" => Some(Schema::Number),
            "bool" => Some(Schema::Bool),
            "form" => Some(Schema::Form),
            "any" => Some(Schema::Any),
            "list" | "object" | "optional" => None,
            "" => return Err(self.malformed("a type is missing")),
            other => return Err(SchemaError::Unknown(other.to_owned())),
        };
        if let Some(scalar) = scalar {
            return Ok(scalar);
        }
        if !self.eat('<') {
            return match word {
                "object" => Ok(Schema::Object(None)),
                _ => Err(self.malformed("list and optional take a type: list<string>")),
            };
        }
        let inner = Box::new(self.either(depth + 1)?);
        if !self.eat('>') {
            return Err(self.malformed("a `<` is not closed"));
        }
        Ok(match word {
            "list" => Schema::List(inner),
            "object" => Schema::Object(Some(inner)),
            _ => Schema::Optional(inner),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> Schema {
        Schema::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn mismatch(schema: &str, value: Value) -> String {
        parse(schema).check(&value).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_prints_every_form_canonically() {
        for text in [
            "string",
            "integer",
            "number",
            "bool",
            "form",
            "any",
            "object",
            "list<string>",
            "object<list<integer>>",
            "optional<list<form>>",
            "string|integer",
            "list<string|integer>",
            "optional<string|list<string>>",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
        assert_eq!(
            parse(" list < string | bool > ").to_string(),
            "list<string|bool>"
        );
    }

    #[test]
    fn refuses_what_is_no_schema() {
        for (text, error) in [
            ("String", r#""String" is not a schema: expected string"#),
            ("Vec<String>", r#""Vec" is not a schema"#),
            ("list", "list and optional take a type"),
            ("list<string", "a `<` is not closed"),
            ("string>", "something follows its end"),
            ("", "a type is missing"),
            ("string|", "a type is missing"),
            ("list<>", "a type is missing"),
        ] {
            let got = Schema::parse(text).unwrap_err().to_string();
            assert!(got.contains(error), "{text}: {got}");
        }
        let deep = format!("{}string{}", "list<".repeat(40), ">".repeat(40));
        assert_eq!(Schema::parse(&deep), Err(SchemaError::TooDeep));
        let long = "string|".repeat(200) + "string";
        assert_eq!(Schema::parse(&long), Err(SchemaError::TooLong));
    }

    #[test]
    fn checks_values() {
        parse("string").check(&json!("x")).unwrap();
        parse("integer").check(&json!(-3)).unwrap();
        parse("number").check(&json!(1.5)).unwrap();
        parse("any").check(&json!(null)).unwrap();
        parse("optional<string>").check(&json!(null)).unwrap();
        parse("form").check(&json!(["file:absent", "/x"])).unwrap();
        parse("object<string>").check(&json!({"a": "b"})).unwrap();
        parse("string|integer").check(&json!(420)).unwrap();
        assert_eq!(
            mismatch("integer", json!(1.5)),
            "expected an integer, got a number"
        );
        assert_eq!(
            mismatch("string", json!(null)),
            "expected a string, got null"
        );
        assert_eq!(
            mismatch("list<string>", json!(["a", 2])),
            "item 2: expected a string, got an integer"
        );
        assert_eq!(
            mismatch("object<integer>", json!({"port": "80"})),
            r#"key "port": expected an integer, got a string"#
        );
        assert_eq!(
            mismatch("list<form>", json!([["nope"]])),
            "item 1: expected a form (an array starting with a property name), got a list"
        );
        assert_eq!(
            mismatch("string|integer", json!(true)),
            "expected a string or an integer, got a boolean"
        );
        // Of one alternative's kind: that alternative says where it failed.
        assert_eq!(
            mismatch("string|list<string>", json!(["a", 1])),
            "item 2: expected a string, got an integer"
        );
        assert_eq!(
            mismatch("optional<list<integer>>", json!("x")),
            "expected a list of integers or null, got a string"
        );
    }

    #[test]
    fn knows_which_schemas_take_null() {
        assert!(parse("optional<string>").accepts_null());
        assert!(parse("any").accepts_null());
        assert!(parse("string|optional<integer>").accepts_null());
        assert!(!parse("string").accepts_null());
        assert!(!parse("list<any>").accepts_null());
    }
}
