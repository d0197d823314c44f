//! [`HasSchema`]: what values a parameter type takes, in the contract's
//! schema (`consfig_contract::schema`), which describes modules in every
//! language alike. `#[property]` asks every parameter type for its schema;
//! a type of a module's own implements it in one line:
//!
//! ```
//! use consfig_guest::{HasSchema, Schema};
//!
//! /// A port as a number, or a service name.
//! struct Port(u16);
//!
//! impl HasSchema for Port {
//!     fn schema() -> Schema {
//!         Schema::Either(vec![Schema::Integer, Schema::String])
//!     }
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use consfig_contract::Schema;
use serde_json::{Map, Value};

use crate::{Form, Mode};

/// What values of a parameter type a form may give.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no schema to describe it as a property parameter",
    label = "a parameter type implements consfig_guest::HasSchema",
    note = "implement consfig_guest::HasSchema for it: which JSON values it decodes from (Schema::String, Schema::Integer, ...)"
)]
pub trait HasSchema {
    fn schema() -> Schema;
}

macro_rules! schema_of {
    ($schema:expr => $($ty:ty),+) => {
        $(impl HasSchema for $ty {
            fn schema() -> Schema {
                $schema
            }
        })+
    };
}

schema_of!(Schema::String => String, PathBuf, char);
schema_of!(Schema::Bool => bool);
schema_of!(Schema::Integer => u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);
schema_of!(Schema::Number => f32, f64);
schema_of!(Schema::Any => Value);
schema_of!(Schema::Object(None) => Map<String, Value>);
schema_of!(Schema::Form => Form);
// A mode is an octal string or the bits as a number (see `Mode`).
schema_of!(Schema::Either(vec![Schema::String, Schema::Integer]) => Mode);

impl<T: HasSchema> HasSchema for Option<T> {
    fn schema() -> Schema {
        Schema::Optional(Box::new(T::schema()))
    }
}

impl<T: HasSchema> HasSchema for Box<T> {
    fn schema() -> Schema {
        T::schema()
    }
}

macro_rules! list_of {
    ($($ty:ident),+) => {
        $(impl<T: HasSchema> HasSchema for $ty<T> {
            fn schema() -> Schema {
                Schema::List(Box::new(T::schema()))
            }
        })+
    };
}

list_of!(Vec, VecDeque, BTreeSet, HashSet);

impl<T: HasSchema, const N: usize> HasSchema for [T; N] {
    fn schema() -> Schema {
        Schema::List(Box::new(T::schema()))
    }
}

impl<V: HasSchema> HasSchema for BTreeMap<String, V> {
    fn schema() -> Schema {
        Schema::Object(Some(Box::new(V::schema())))
    }
}

impl<V: HasSchema, S> HasSchema for HashMap<String, V, S> {
    fn schema() -> Schema {
        Schema::Object(Some(Box::new(V::schema())))
    }
}

/// A tuple is a JSON array: a list of its items' schema when they share
/// one, of any of theirs otherwise.
fn tuple(items: Vec<Schema>) -> Schema {
    let mut distinct: Vec<Schema> = Vec::new();
    for item in items {
        if !distinct.contains(&item) {
            distinct.push(item);
        }
    }
    match distinct.len() {
        1 => Schema::List(Box::new(distinct.remove(0))),
        _ => Schema::List(Box::new(Schema::Either(distinct))),
    }
}

macro_rules! tuple_of {
    ($($name:ident),+) => {
        impl<$($name: HasSchema),+> HasSchema for ($($name,)+) {
            fn schema() -> Schema {
                tuple(vec![$($name::schema()),+])
            }
        }
    };
}

tuple_of!(A, B);
tuple_of!(A, B, C);
tuple_of!(A, B, C, D);

#[cfg(test)]
mod tests {
    use super::*;

    fn text<T: HasSchema>() -> String {
        T::schema().to_string()
    }

    #[test]
    fn describes_standard_types() {
        assert_eq!(text::<String>(), "string");
        assert_eq!(text::<u16>(), "integer");
        assert_eq!(text::<f64>(), "number");
        assert_eq!(text::<Option<Vec<String>>>(), "optional<list<string>>");
        assert_eq!(text::<BTreeMap<String, u32>>(), "object<integer>");
        assert_eq!(text::<Vec<Form>>(), "list<form>");
        assert_eq!(text::<Mode>(), "string|integer");
        assert_eq!(text::<(String, String, String)>(), "list<string>");
        assert_eq!(text::<(String, u32)>(), "list<string|integer>");
        assert_eq!(text::<Value>(), "any");
    }
}
