//! Typed constructors of the forms of the standard modules, so that a
//! composed property is checked by the compiler rather than at deploy time:
//!
//! ```no_run
//! use consfig_guest::{Change, Result, apply, forms};
//!
//! fn motd() -> Result<Change> {
//!     Ok(apply(&forms::file::directory_exists("/etc/motd.d"))?
//!         | apply(&forms::file::has_content("/etc/motd.d/10-consfig", "Managed.\n"))?)
//! }
//! ```

use serde_json::Value;

use crate::Form;

fn form(name: &str, args: impl IntoIterator<Item = Value>) -> Form {
    args.into_iter().fold(Form::new(name), Form::value)
}

fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// The `file` module: files and directories.
pub mod file {
    use super::{form, string};
    use crate::{Form, Mode};

    /// `file:has-content`: the file exists with exactly this content.
    pub fn has_content(path: impl Into<String>, content: impl Into<String>) -> Form {
        form("file:has-content", [string(path), string(content)])
    }

    /// `file:directory-exists`: the directory and its parents exist.
    pub fn directory_exists(path: impl Into<String>) -> Form {
        form("file:directory-exists", [string(path)])
    }

    /// `file:absent`: nothing (no file, symlink or empty directory) is at the path.
    pub fn absent(path: impl Into<String>) -> Form {
        form("file:absent", [string(path)])
    }

    /// `file:has-mode`: the path has these permission bits.
    pub fn has_mode(path: impl Into<String>, mode: Mode) -> Form {
        form("file:has-mode", [string(path), string(mode.to_string())])
    }
}

/// The `cmd` module: commands.
pub mod cmd {
    use serde_json::Value;

    use super::{form, string};
    use crate::Form;

    /// `cmd:single`: run the command, unless `creates` is given and exists.
    pub fn single(
        argv: impl IntoIterator<Item = impl Into<String>>,
        creates: Option<&str>,
    ) -> Form {
        let argv = Value::Array(argv.into_iter().map(string).collect());
        form("cmd:single", [argv, creates.map_or(Value::Null, string)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;

    #[test]
    fn builds_standard_forms() {
        let text = |f: Form| f.to_string();
        assert_eq!(
            text(file::has_content("/m", "hi\n")),
            r#"["file:has-content","/m","hi\n"]"#
        );
        assert_eq!(
            text(file::directory_exists("/d")),
            r#"["file:directory-exists","/d"]"#
        );
        assert_eq!(text(file::absent("/a")), r#"["file:absent","/a"]"#);
        assert_eq!(
            text(file::has_mode("/m", Mode::new(0o644).unwrap())),
            r#"["file:has-mode","/m","0644"]"#
        );
        assert_eq!(
            text(cmd::single(["touch", "/x"], Some("/x"))),
            r#"["cmd:single",["touch","/x"],"/x"]"#
        );
        assert_eq!(
            text(cmd::single(["true"], None)),
            r#"["cmd:single",["true"],null]"#
        );
    }
}
