//! Permission bits: `file:has-mode`, and the modes it takes — octal
//! (`"0644"`) or symbolic changes with chmod(1)'s meaning (`"u+x,go-w"`).

use std::fmt;
use std::str::FromStr;

use consfig_guest::prelude::*;
use consfig_guest::serde::de::{self, Deserializer, IntoDeserializer, Visitor};
use consfig_guest::serde::{Deserialize, Serialize, Serializer};

const SETUID: u32 = 0o4000;
const SETGID: u32 = 0o2000;
const STICKY: u32 = 0o1000;
const READ: u32 = 0o444;
const WRITE: u32 = 0o222;
const EXECUTE: u32 = 0o111;
const USER: u32 = SETUID | 0o700;
const GROUP: u32 = SETGID | 0o070;
const OTHER: u32 = STICKY | 0o007;
const ALL: u32 = 0o7777;

/// A mode a form asks for: exact bits (`"0644"`), or symbolic changes to
/// the bits a file has (`"u+x,go-w"`, `"a=r"`, `"u=rwx,g=rx,o="`, `"a+X"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeSpec {
    Exact(Mode),
    Symbolic(Symbolic),
}

impl ModeSpec {
    /// The mode a file with mode `old` gets; `is_dir` for `X`, and because
    /// symbolic changes keep a directory's set-uid and set-gid bits unless
    /// they name them, as chmod(1) does.
    pub fn applied_to(&self, old: Mode, is_dir: bool) -> Mode {
        match self {
            ModeSpec::Exact(mode) => *mode,
            ModeSpec::Symbolic(symbolic) => symbolic.applied_to(old, is_dir),
        }
    }
}

impl From<Mode> for ModeSpec {
    fn from(mode: Mode) -> Self {
        ModeSpec::Exact(mode)
    }
}

impl FromStr for ModeSpec {
    type Err = Error;

    fn from_str(text: &str) -> Result<ModeSpec> {
        let digits = text.strip_prefix("0o").unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(ModeSpec::Exact(text.parse()?));
        }
        text.parse().map(ModeSpec::Symbolic)
    }
}

impl fmt::Display for ModeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModeSpec::Exact(mode) => mode.fmt(f),
            ModeSpec::Symbolic(symbolic) => f.write_str(&symbolic.text),
        }
    }
}

impl Serialize for ModeSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ModeSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ModeSpecVisitor;

        impl Visitor<'_> for ModeSpecVisitor {
            type Value = ModeSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file mode: octal such as \"0644\", or symbolic such as \"u+x,go-w\"")
            }

            // A number is a mode's bits, with `Mode`'s refusal of `644`.
            fn visit_u64<E: de::Error>(self, bits: u64) -> std::result::Result<ModeSpec, E> {
                Mode::deserialize(bits.into_deserializer()).map(ModeSpec::Exact)
            }

            fn visit_i64<E: de::Error>(self, bits: i64) -> std::result::Result<ModeSpec, E> {
                Mode::deserialize(bits.into_deserializer()).map(ModeSpec::Exact)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<ModeSpec, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(ModeSpecVisitor)
    }
}

/// What one operator of a clause sets, adds or takes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// `r`, `w`, `x`, `s`, `t` as bits of every class, and whether `X` was given.
    Bits { bits: u32, x_if_any_x: bool },
    /// `u`, `g` or `o`: the bits that class has now (its mask).
    CopyOf(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Action {
    /// The classes the clause names (`u`, `g`, `o`, `a`); none means all.
    who: Option<u32>,
    op: char,
    operand: Operand,
}

/// Symbolic changes, as chmod(1) reads them: comma-separated clauses of
/// `[ugoa]*` then one or more `[-+=]` each followed by `[rwxXst]*` or one
/// of `u`, `g`, `o`. With no `[ugoa]`, all (`a`) are meant; no umask applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbolic {
    text: String,
    actions: Vec<Action>,
}

impl FromStr for Symbolic {
    type Err = Error;

    fn from_str(text: &str) -> Result<Symbolic> {
        let bad = |why: &str| {
            Error::new(format!(
                "{text:?} is not a file mode: {why}; expected octal such as \"0644\" or \
                 symbolic changes such as \"u+x,go-w\", \"a=r\" or \"u=rwx,g=rx,o=\""
            ))
        };
        let mut actions = Vec::new();
        for clause in text.split(',') {
            let mut chars = clause.chars().peekable();
            let mut who = None;
            while let Some(&c) = chars.peek() {
                let class = match c {
                    'u' => USER,
                    'g' => GROUP,
                    'o' => OTHER,
                    'a' => ALL,
                    _ => break,
                };
                who = Some(who.unwrap_or(0) | class);
                chars.next();
            }
            if chars.peek().is_none() {
                return Err(bad(&format!("{clause:?} has no operator (+, - or =)")));
            }
            while let Some(op) = chars.next() {
                if !matches!(op, '+' | '-' | '=') {
                    return Err(bad(&format!("unexpected {op:?} in {clause:?}")));
                }
                let operand = match chars.peek() {
                    Some(&c @ ('u' | 'g' | 'o')) => {
                        chars.next();
                        Operand::CopyOf(match c {
                            'u' => 0o700,
                            'g' => 0o070,
                            _ => 0o007,
                        })
                    }
                    _ => {
                        let (mut bits, mut x_if_any_x) = (0, false);
                        while let Some(&c) = chars.peek() {
                            bits |= match c {
                                'r' => READ,
                                'w' => WRITE,
                                'x' => EXECUTE,
                                's' => SETUID | SETGID,
                                't' => STICKY,
                                'X' => {
                                    x_if_any_x = true;
                                    0
                                }
                                _ => break,
                            };
                            chars.next();
                        }
                        Operand::Bits { bits, x_if_any_x }
                    }
                };
                actions.push(Action { who, op, operand });
            }
        }
        Ok(Symbolic {
            text: text.to_owned(),
            actions,
        })
    }
}

impl Symbolic {
    /// chmod(1)'s reading, action after action, each seeing the bits the
    /// ones before it set.
    fn applied_to(&self, old: Mode, is_dir: bool) -> Mode {
        let mut mode = old.bits();
        for action in &self.actions {
            let affected = action.who.unwrap_or(ALL);
            let mut value = match action.operand {
                Operand::Bits { bits, x_if_any_x } => {
                    let any_x = is_dir || mode & EXECUTE != 0;
                    bits | if x_if_any_x && any_x { EXECUTE } else { 0 }
                }
                Operand::CopyOf(class) => {
                    // The class's permissions, spread to every class.
                    let copied = mode & class;
                    [READ, WRITE, EXECUTE]
                        .into_iter()
                        .filter(|perm| copied & perm != 0)
                        .fold(0, |all, perm| all | perm)
                }
            };
            // A directory keeps set-uid and set-gid unless the action names them.
            let mentioned = value & affected;
            let kept_setid = match is_dir {
                true => (SETUID | SETGID) & !mentioned,
                false => 0,
            };
            value &= affected & !kept_setid;
            mode = match action.op {
                '+' => mode | value,
                '-' => mode & !value,
                _ => (mode & (!affected | kept_setid)) | value,
            };
        }
        Mode::new(mode & ALL).expect("masked to a mode")
    }
}

/// Ensure a file or directory has these permission bits: octal such as
/// `"0644"` or `"4755"` (a string: a bare number such as `644` is refused,
/// being the bits of decimal 644), or symbolic changes as chmod(1) takes
/// them, such as `"u+x,go-w"`, `"a=r"`, `"u=rwx,g=rx,o="` or `"a+X"` (`X`:
/// execute where any execute bit is set, or on a directory). Symbolic modes
/// apply to the bits the file has; with no `u`, `g`, `o` or `a` they apply to
/// all, with no umask. A directory keeps its set-uid and set-gid bits unless
/// the mode names them.
///
/// Unchanged when the bits already match. A symlink has no mode of its own:
/// it is refused.
#[property]
pub fn has_mode(path: String, mode: ModeSpec) -> Result<Change> {
    match fs::stat(&path)? {
        None => bail!("{path} does not exist"),
        Some(stat) if stat.is_symlink() => {
            bail!("{path} is a symlink: it has no mode of its own to set")
        }
        Some(stat) => {
            let wanted = mode.applied_to(stat.mode, stat.is_dir());
            if wanted == stat.mode {
                return Ok(Change::Unchanged);
            }
            fs::chmod(&path, wanted)?;
            Ok(Change::Changed)
        }
    }
}

/// Octal or symbolic text, or the bits as a number.
impl consfig_guest::HasSchema for ModeSpec {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::String, Schema::Integer])
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::serde_json::{self, json};
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    fn spec(text: &str) -> ModeSpec {
        text.parse().unwrap()
    }

    /// What chmod(1) makes of `old` (a file, or a directory) with `text`.
    fn chmod(text: &str, old: u32, is_dir: bool) -> u32 {
        spec(text)
            .applied_to(Mode::new(old).unwrap(), is_dir)
            .bits()
    }

    #[test]
    fn reads_symbolic_modes_as_chmod_does() {
        // Each checked against GNU chmod on a file of the mode before.
        let file_cases = [
            ("u+x,go-w", 0o666, 0o744),
            ("a=r", 0o755, 0o444),
            ("u=rwx,g=rx,o=", 0o666, 0o750),
            ("+x", 0o644, 0o755),
            ("-w", 0o666, 0o444),
            ("a+X", 0o644, 0o644),
            ("a+X", 0o744, 0o755),
            ("go=u", 0o640, 0o666),
            ("g=u-w", 0o750, 0o750),
            ("u+s", 0o755, 0o4755),
            ("g+s", 0o755, 0o2755),
            ("+t", 0o755, 0o1755),
            ("o+t", 0o755, 0o1755),
            ("u+t", 0o755, 0o755),
            ("u=rw,u+x", 0o000, 0o700),
            ("ug+rw,o-rwx", 0o604, 0o660),
            ("u=", 0o4755, 0o055),
            ("a=", 0o7777, 0o000),
            ("u-x+w", 0o500, 0o600),
            ("o=g", 0o751, 0o755),
        ];
        for (text, old, new) in file_cases {
            assert_eq!(chmod(text, old, false), new, "{text} on a file {old:o}");
        }
        let dir_cases = [
            ("a+X", 0o644, 0o755),
            ("u=rwx,g=rx,o=", 0o2777, 0o2750),
            ("g-s", 0o2755, 0o755),
            ("a=rwx", 0o6700, 0o6777),
        ];
        for (text, old, new) in dir_cases {
            assert_eq!(chmod(text, old, true), new, "{text} on a directory {old:o}");
        }
    }

    #[test]
    fn reads_octal_and_refuses_what_is_neither() {
        assert_eq!(spec("0644"), ModeSpec::Exact(Mode::new(0o644).unwrap()));
        assert_eq!(spec("4755"), ModeSpec::Exact(Mode::new(0o4755).unwrap()));
        let err = |text: &str| text.parse::<ModeSpec>().unwrap_err().to_string();
        assert_eq!(
            err("0999"),
            "\"0999\" is not a file mode: expected octal digits such as \"0644\""
        );
        assert_eq!(
            err("u"),
            "\"u\" is not a file mode: \"u\" has no operator (+, - or =); expected octal \
             such as \"0644\" or symbolic changes such as \"u+x,go-w\", \"a=r\" or \
             \"u=rwx,g=rx,o=\""
        );
        for bad in ["", "u+x,", "rw-r--r--", "u+q", "u+x g-w", "z+x", "u+gx"] {
            assert!(bad.parse::<ModeSpec>().is_err(), "{bad:?}");
        }
        let decode = |value| serde_json::from_value::<ModeSpec>(value).map_err(|e| e.to_string());
        assert_eq!(decode(json!("u+x")), Ok(spec("u+x")));
        assert_eq!(decode(json!(0o755)), Ok(spec("0755")));
        assert!(
            decode(json!(644))
                .unwrap_err()
                .contains("write the mode as a string, \"0644\"")
        );
        assert_eq!(serde_json::to_value(spec("go-w")).unwrap(), json!("go-w"));
        assert_eq!(serde_json::to_value(spec("644")).unwrap(), json!("0644"));
    }

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    #[test]
    fn has_mode_sets_octal_and_symbolic_modes() {
        let host = FakeHost::new()
            .file("/srv/run.sh", "")
            .dir("/srv/d")
            .mode("/srv/d", 0o2700)
            .module(&MODULE);
        let apply = |json: &str| host.apply_form(&form(json));
        let bits = |path: &str| host.stat(path).unwrap().mode.bits();
        for (json, after) in [
            (r#"["file:has-mode", "/srv/run.sh", "0640"]"#, 0o640),
            (r#"["file:has-mode", "/srv/run.sh", "u+x,go-w"]"#, 0o740),
            (r#"["file:has-mode", "/srv/run.sh", "a=r"]"#, 0o444),
            (
                r#"["file:has-mode", "/srv/run.sh", "u=rwx,g=rx,o="]"#,
                0o750,
            ),
            (r#"["file:has-mode", "/srv/run.sh", "a+X"]"#, 0o751),
            (r#"["file:has-mode", "/srv/d", "go+rX"]"#, 0o2755),
        ] {
            let path = if json.contains("/srv/d\"") {
                "/srv/d"
            } else {
                "/srv/run.sh"
            };
            assert_eq!(apply(json), Ok(Change::Changed), "{json}");
            assert_eq!(bits(path), after, "{json}");
            assert_eq!(apply(json), Ok(Change::Unchanged), "{json} again");
        }
    }

    #[test]
    fn has_mode_refuses_a_bare_octal_looking_number_links_and_nothing() {
        let host = FakeHost::new()
            .file("/etc/secret", "")
            .symlink("/etc/link", "secret")
            .module(&MODULE);
        let err = |json: &str| host.apply_form(&form(json)).unwrap_err().to_string();
        assert_eq!(
            err(r#"["file:has-mode", "/etc/secret", 644]"#),
            "argument 2 (mode): the number 644 as a file mode is ambiguous: write the mode \
             as a string, \"0644\" for octal 644, or \"1204\" for the bits 644 it is in decimal"
        );
        assert_eq!(
            host.stat("/etc/secret").unwrap().mode.bits(),
            0o644,
            "not run"
        );
        assert_eq!(
            err(r#"["file:has-mode", "/etc/link", "0644"]"#),
            "/etc/link is a symlink: it has no mode of its own to set"
        );
        assert_eq!(
            err(r#"["file:has-mode", "/etc/none", "u+x"]"#),
            "/etc/none does not exist"
        );
        assert_eq!(
            err(r#"["file:has-mode", "/etc/secret", "rw-r--r--"]"#),
            "argument 2 (mode): \"rw-r--r--\" is not a file mode: unexpected 'r' in \
             \"rw-r--r--\"; expected octal such as \"0644\" or symbolic changes such as \
             \"u+x,go-w\", \"a=r\" or \"u=rwx,g=rx,o=\""
        );
    }
}
