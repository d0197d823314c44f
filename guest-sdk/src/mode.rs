//! `Mode`: file permission bits, written in forms the way people write them.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Error;

/// File permission bits (at most `0o7777`).
///
/// In a form it is an octal string — `"0644"`, `"644"` or `"0o644"` — or a
/// number, which is the bits themselves: `420`, or `0o644` in TOML. (So a
/// bare `644` is decimal 644, i.e. `"1204"`: prefer strings.) It displays as
/// `0644` and serializes as that string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mode(u32);

impl Mode {
    pub const MAX: u32 = 0o7777;

    pub fn new(bits: u32) -> Result<Mode, Error> {
        if bits > Self::MAX {
            return Err(Error::new(format!(
                "{bits:#o} is not a file mode: the most is 0o7777"
            )));
        }
        Ok(Mode(bits))
    }

    pub fn bits(self) -> u32 {
        self.0
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Mode, Error> {
        let digits = s.strip_prefix("0o").unwrap_or(s);
        let bad = || {
            Error::new(format!(
                "{s:?} is not a file mode: expected octal digits such as \"0644\""
            ))
        };
        if digits.is_empty() || !digits.bytes().all(|b| matches!(b, b'0'..=b'7')) {
            return Err(bad());
        }
        let bits = u32::from_str_radix(digits, 8).map_err(|_| bad())?;
        Mode::new(bits).map_err(|_| bad())
    }
}

impl TryFrom<u32> for Mode {
    type Error = Error;

    fn try_from(bits: u32) -> Result<Mode, Error> {
        Mode::new(bits)
    }
}

impl From<Mode> for u32 {
    fn from(mode: Mode) -> u32 {
        mode.0
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mode({:#o})", self.0)
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Mode, D::Error> {
        struct ModeVisitor;

        impl Visitor<'_> for ModeVisitor {
            type Value = Mode;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file mode: an octal string such as \"0644\", or a number")
            }

            fn visit_u64<E: de::Error>(self, bits: u64) -> Result<Mode, E> {
                u32::try_from(bits)
                    .map_err(|_| {
                        Error::new(format!("{bits:#o} is not a file mode: the most is 0o7777"))
                    })
                    .and_then(Mode::new)
                    .map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, bits: i64) -> Result<Mode, E> {
                match u64::try_from(bits) {
                    Ok(bits) => self.visit_u64(bits),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(bits), &self)),
                }
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Mode, E> {
                s.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(ModeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn from_json(value: serde_json::Value) -> Result<Mode, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_octal_strings_and_numbers() {
        for value in [json!("0644"), json!("644"), json!("0o644"), json!(420)] {
            assert_eq!(from_json(value.clone()), Ok(Mode(0o644)), "{value}");
        }
        assert_eq!(from_json(json!("4755")), Ok(Mode(0o4755)));
        assert_eq!(from_json(json!("0")), Ok(Mode(0)));
        assert_eq!(from_json(json!(0o7777)), Ok(Mode(0o7777)));
    }

    #[test]
    fn refuses_what_is_not_a_mode() {
        assert_eq!(
            from_json(json!("0999")),
            Err("\"0999\" is not a file mode: expected octal digits such as \"0644\"".to_owned())
        );
        for bad in [
            "",
            "0o",
            "rw-r--r--",
            "-644",
            "+644",
            "10000",
            "0x1a4",
            "644 ",
        ] {
            assert!(from_json(json!(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(
            from_json(json!(4096)),
            Err("0o10000 is not a file mode: the most is 0o7777".to_owned())
        );
        assert!(from_json(json!(-1)).is_err());
        assert!(from_json(json!(4.5)).is_err());
        assert!(from_json(json!(true)).is_err());
    }

    #[test]
    fn displays_and_serializes_as_four_octal_digits() {
        assert_eq!(Mode(0o644).to_string(), "0644");
        assert_eq!(Mode(0o4755).to_string(), "4755");
        assert_eq!(format!("{:?}", Mode(0o600)), "Mode(0o600)");
        assert_eq!(serde_json::to_value(Mode(0o640)).unwrap(), json!("0640"));
        let round: Mode =
            serde_json::from_value(serde_json::to_value(Mode(0o1777)).unwrap()).unwrap();
        assert_eq!(round, Mode(0o1777));
    }
}
