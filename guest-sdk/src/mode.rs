//! `Mode`: file permission bits, written in forms the way people write them.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Error;

/// File permission bits (at most `0o7777`).
///
/// In a form it is an octal string — `"0644"`, `"644"` or `"0o644"` — or a
/// number, which is the bits themselves: `493`, or `0o755` in TOML. A number
/// whose decimal digits are all octal digits, such as `644`, is refused: it
/// reads as octal but would be the bits of decimal 644 (`"1204"`), so the
/// error asks for the string `"0644"`. (TOML's `0o644` is such a number, 420,
/// and is refused as well.) Strings are never ambiguous: prefer them. It
/// displays as `0644` and serializes as that string.
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
                if let Some(error) = ambiguous_number(bits) {
                    return Err(E::custom(error));
                }
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

/// Why a number given as a mode is refused when it reads as octal digits
/// (`644`) but would be taken as the bits it is in decimal: someone who wrote
/// `644` meant `0o644`. Numbers below 8 are the same either way.
fn ambiguous_number(number: u64) -> Option<Error> {
    let digits = number.to_string();
    if number < 8 || !digits.bytes().all(|b| matches!(b, b'0'..=b'7')) {
        return None;
    }
    let meant = format!("\"0{digits}\"");
    let bits = match Mode::new(u32::try_from(number).ok()?) {
        Ok(mode) => format!(", or \"{mode}\" for the bits {number} it is in decimal"),
        Err(_) => String::new(),
    };
    Some(Error::new(format!(
        "the number {number} as a file mode is ambiguous: write the mode as a string, \
         {meant} for octal {digits}{bits}"
    )))
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
        for value in [json!("0644"), json!("644"), json!("0o644")] {
            assert_eq!(from_json(value.clone()), Ok(Mode(0o644)), "{value}");
        }
        // Numbers with an 8 or a 9 cannot be meant as octal: they are bits.
        assert_eq!(from_json(json!(0o755)), Ok(Mode(0o755)), "493");
        assert_eq!(from_json(json!(0o600)), Ok(Mode(0o600)), "384");
        assert_eq!(from_json(json!(5)), Ok(Mode(5)), "the same either way");
        assert_eq!(from_json(json!("4755")), Ok(Mode(0o4755)));
        assert_eq!(from_json(json!("0")), Ok(Mode(0)));
        assert_eq!(from_json(json!(0o7777)), Ok(Mode(0o7777)));
    }

    #[test]
    fn refuses_a_number_that_reads_as_octal() {
        assert_eq!(
            from_json(json!(644)),
            Err(
                "the number 644 as a file mode is ambiguous: write the mode as a string, \
                 \"0644\" for octal 644, or \"1204\" for the bits 644 it is in decimal"
                    .to_owned()
            )
        );
        // TOML's 0o644 arrives as 420: the message gives both readings.
        assert_eq!(
            from_json(json!(0o644)),
            Err(
                "the number 420 as a file mode is ambiguous: write the mode as a string, \
                 \"0420\" for octal 420, or \"0644\" for the bits 420 it is in decimal"
                    .to_owned()
            )
        );
        for number in [10, 600, 755, 777, 1777, 4755, 10000, 77777777] {
            let error = from_json(json!(number)).unwrap_err();
            assert!(
                error.contains(&format!("write the mode as a string, \"0{number}\"")),
                "{error}"
            );
        }
        // In a property's arguments, the error names the argument.
        let decoded: Result<(String, Mode), _> = serde_json::from_value(json!(["/f", 644]));
        assert!(
            decoded
                .unwrap_err()
                .to_string()
                .contains("\"0644\" for octal 644")
        );
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
