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

fn optional(s: Option<&str>) -> Value {
    s.map_or(Value::Null, string)
}

/// Forms as one argument: a JSON array of forms.
fn form_list(forms: impl IntoIterator<Item = Form>) -> Value {
    Value::Array(forms.into_iter().map(|f| f.to_value()).collect())
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

/// The `chroot` module: deploying inside a directory tree.
pub mod chroot {
    use super::{form, form_list, string};
    use crate::Form;

    /// `chroot:deploys`: the forms hold inside the tree at `path`, applied as
    /// if it were the root.
    pub fn deploys(path: impl Into<String>, forms: impl IntoIterator<Item = Form>) -> Form {
        form("chroot:deploys", [string(path), form_list(forms)])
    }
}

/// The `user` module: accounts, and deploying as another user.
pub mod user {
    use super::{form, form_list, optional, string};
    use crate::Form;

    /// `user:as`: the forms hold when applied as the user with this name.
    pub fn as_user(user: impl Into<String>, forms: impl IntoIterator<Item = Form>) -> Form {
        form("user:as", [string(user), form_list(forms)])
    }

    /// `user:exists`: the account exists (made with a home directory and the
    /// system's default shell if not).
    pub fn exists(name: impl Into<String>) -> Form {
        form("user:exists", [string(name)])
    }

    /// `user:exists` with the home directory and login shell a new account gets.
    pub fn exists_with(name: impl Into<String>, home: Option<&str>, shell: Option<&str>) -> Form {
        form(
            "user:exists",
            [string(name), optional(home), optional(shell)],
        )
    }

    /// `user:group-exists`: the group exists.
    pub fn group_exists(name: impl Into<String>) -> Form {
        form("user:group-exists", [string(name)])
    }
}

/// The `image` module: bundles of the pristine image.
pub mod image {
    use super::{form, string};
    use crate::Form;
    use serde_json::Value;

    /// `image:dumped`: the executable at `path` is a bundle that applies
    /// `start` when run, with these grants for its modules.
    pub fn dumped(path: impl Into<String>, start: Form, grants: &[&str]) -> Form {
        let grants = Value::Array(grants.iter().map(|g| string(*g)).collect());
        form("image:dumped", [string(path), start.to_value(), grants])
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

    #[test]
    fn builds_forms_of_forms() {
        let text = |f: Form| f.to_string();
        assert_eq!(
            text(chroot::deploys(
                "/srv/c",
                [file::absent("/x"), cmd::single(["true"], None)]
            )),
            r#"["chroot:deploys","/srv/c",[["file:absent","/x"],["cmd:single",["true"],null]]]"#
        );
        assert_eq!(
            text(chroot::deploys("/srv/c", [])),
            r#"["chroot:deploys","/srv/c",[]]"#
        );
        assert_eq!(
            text(user::as_user(
                "ada",
                [file::directory_exists("/home/ada/bin")]
            )),
            r#"["user:as","ada",[["file:directory-exists","/home/ada/bin"]]]"#
        );
        assert_eq!(text(user::exists("ada")), r#"["user:exists","ada"]"#);
        assert_eq!(
            text(user::exists_with("ada", None, Some("/bin/zsh"))),
            r#"["user:exists","ada",null,"/bin/zsh"]"#
        );
        assert_eq!(
            text(user::group_exists("web")),
            r#"["user:group-exists","web"]"#
        );
        // Nested forms read back as forms.
        let outer = chroot::deploys("/c", [user::as_user("ada", [file::absent("/x")])]);
        let inner: Vec<Form> = serde_json::from_value(outer.args()[1].clone()).unwrap();
        assert_eq!(inner, [user::as_user("ada", [file::absent("/x")])]);
    }
}
