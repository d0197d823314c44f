//! The "become" hops: after an `ssh://` or `openssh://` hop, start the runtime as another
//! user through `sudo`, `su` or `doas` (`sudo`, `su`, `doas`: root;
//! `sudo:USER`, `su:USER`, `doas:USER`: that user).
//!
//! This file owns what those hops say (the method and a checked user name)
//! and the shell command that runs the bootstrap script through each:
//!
//! - `sudo`: `sudo -n -H -u USER`; with the login user's password from
//!   `sudo-password-file` when sudo needs one.
//! - `su`: `su -s /bin/sh -c … -- USER`, in a reset environment (`env -i`
//!   with a fixed PATH; su then sets HOME, SHELL, USER and LOGNAME of USER,
//!   and the system's PAM session config may add variables such as MAIL).
//!   The login session's variables, XDG_CACHE_HOME included, are not passed
//!   on: the runtime keeps its cache in USER's `~/.cache/consfig`, or
//!   where an XDG_CACHE_HOME set by PAM (/etc/environment) says. From root,
//!   su needs no password; from another login user it needs USER's, from
//!   `su-password-file`. util-linux su reads it through PAM from its
//!   standard input, which then holds that line only: the runtime's input
//!   reaches it on another descriptor, so su never reads protocol bytes.
//! - `doas`: `doas -n -u USER`. doas reads passwords from a terminal only,
//!   so a rule without `nopass` is an error that says which rule to add.
//!
//! Passwords travel on standard input and in shell variables only, never
//! in a command line or an error.

use std::fmt;

use super::bootstrap::{PASSWORD, Secret, sh_quote};

/// How a hop becomes another user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BecomeMethod {
    Sudo,
    Su,
    Doas,
}

impl BecomeMethod {
    pub const ALL: [BecomeMethod; 3] = [BecomeMethod::Sudo, BecomeMethod::Su, BecomeMethod::Doas];

    pub fn name(self) -> &'static str {
        match self {
            BecomeMethod::Sudo => "sudo",
            BecomeMethod::Su => "su",
            BecomeMethod::Doas => "doas",
        }
    }
}

impl fmt::Display for BecomeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A become hop: the method, and the user (`None`: root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Become {
    pub method: BecomeMethod,
    pub user: Option<String>,
}

/// Why a become hop's user name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadUser {
    #[error("{0}: names no user; write {1} (for root) or {1}:USER")]
    Empty(String, BecomeMethod),
    #[error(
        "{0}: a user name has at most 256 characters: letters, digits, '.', '_', '@', '-' (not first) and a final '$'{1}"
    )]
    Invalid(String, &'static str),
}

/// The longest user name accepted.
const MAX_USER: usize = 256;

/// Whether `name` may name a user: it is passed to sudo, su and doas as an
/// argument, so it may not look like an option, nor hold spaces, quotes,
/// newlines or anything else a shell or a name service would read twice.
/// sudo also takes `#UID`.
fn check_user(method: BecomeMethod, name: &str) -> bool {
    if method == BecomeMethod::Sudo
        && let Some(uid) = name.strip_prefix('#')
    {
        return !uid.is_empty() && uid.len() <= 10 && uid.bytes().all(|b| b.is_ascii_digit());
    }
    let body = name.strip_suffix('$').unwrap_or(name);
    !body.is_empty()
        && name.len() <= MAX_USER
        && !body.starts_with('-')
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
}

impl Become {
    /// `text` if it is a become hop (`sudo`, `su:USER`, …), checked.
    pub fn parse(text: &str) -> Option<Result<Become, BadUser>> {
        let (method_name, user) = match text.split_once(':') {
            Some((method, user)) => (method, Some(user)),
            None => (text, None),
        };
        let method = BecomeMethod::ALL
            .into_iter()
            .find(|m| m.name() == method_name)?;
        Some(match user {
            None => Ok(Become { method, user: None }),
            Some("") => Err(BadUser::Empty(text.to_owned(), method)),
            Some(user) if !check_user(method, user) => Err(BadUser::Invalid(
                format!("{text:?}"),
                if method == BecomeMethod::Sudo {
                    ", or #UID for sudo"
                } else {
                    ""
                },
            )),
            Some(user) => Ok(Become {
                method,
                user: Some(user.to_owned()),
            }),
        })
    }

    /// The user the runtime runs as.
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or("root")
    }

    /// The shell command that runs `script` (the bootstrap) as the user.
    /// It may first print [`PASSWORD`] and read a line: the password this
    /// hop takes ([`Passwords::get`]).
    pub fn command(&self, script: &str) -> String {
        match self.method {
            BecomeMethod::Sudo => via_sudo(self.user(), script),
            BecomeMethod::Su => via_su(self.user(), script),
            BecomeMethod::Doas => via_doas(self.user(), script),
        }
    }

    /// The error when this hop needs a password the host was not given.
    pub fn needs_password(&self) -> String {
        match self.method {
            BecomeMethod::Sudo => "sudo on the target needs a password: give this host a sudo-password-file in Consfig.toml, or allow the login user sudo without one".to_owned(),
            BecomeMethod::Su => format!(
                "su on the target needs the password of {}: give this host an su-password-file in Consfig.toml holding it, or log in as root (su from root needs none)",
                self.user()
            ),
            BecomeMethod::Doas => "doas asked for a password, which it reads only from a terminal: allow the login user in /etc/doas.conf with `permit nopass`".to_owned(),
        }
    }
}

impl fmt::Display for Become {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            None => write!(f, "{}", self.method),
            Some(user) => write!(f, "{}:{user}", self.method),
        }
    }
}

/// The passwords a host's become hop may be given, from its Consfig.toml
/// settings: sudo takes the login user's, su the target user's.
#[derive(Debug, Clone, Default)]
pub struct Passwords {
    /// `sudo-password-file`: the login user's password.
    pub sudo: Option<Secret>,
    /// `su-password-file`: the password of the user su switches to.
    pub su: Option<Secret>,
}

impl Passwords {
    /// The password `method` is answered with when it asks.
    pub fn get(&self, method: BecomeMethod) -> Option<&Secret> {
        match method {
            BecomeMethod::Sudo => self.sudo.as_ref(),
            BecomeMethod::Su => self.su.as_ref(),
            BecomeMethod::Doas => None,
        }
    }
}

/// The command that runs `script` as `user` through sudo. Without a password
/// for the login user, `sudo -n`. Otherwise, if sudo needs one, the command asks
/// for it, checks it once (a wrong one fails at once rather than re-prompting),
/// then gives it to `sudo -S` ahead of the script's input. `-k` makes both ignore
/// and not update sudo's cached credentials, so the second always reads exactly
/// the password line and never lets it through to the script. Given no
/// password (the host has none), it ends without trying one.
fn via_sudo(user: &str, script: &str) -> String {
    let (u, s) = (sh_quote(user), sh_quote(script));
    format!(
        r#"if sudo -n -u {u} true 2>/dev/null; then exec sudo -n -H -u {u} -- sh -c {s}; fi
echo "{PASSWORD}"
IFS= read -r pw || exit 5
if ! printf '%s\n' "$pw" | sudo -S -k -p '' -u {u} true 2>/dev/null; then
  echo "consfig-bootstrap: sudo refused to run as "{u}" for $(id -un) with the password given" >&2
  exit 5
fi
{{ printf '%s\n' "$pw"; exec cat; }} | sudo -S -k -p '' -H -u {u} -- sh -c {s}
"#
    )
}

/// The PATH su's environment starts from (Debian's for root, which has
/// every other's directories too): the login session's is not passed on.
const SU_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The command that runs `script` as `user` through su, in a reset
/// environment. The script's input (the connection) is kept as descriptor
/// 3 and made standard input again only inside su, whose own standard
/// input is /dev/null, or the password line alone: whatever su or PAM
/// reads, they never read the protocol. From root, or where su needs no
/// password, su runs at once; otherwise the command asks for USER's
/// password, checks it once (a wrong one fails at once, with su's words),
/// then runs su with it; given none, it ends without trying one (a failed
/// attempt may count towards locking the account).
fn via_su(user: &str, script: &str) -> String {
    let u = sh_quote(user);
    let inner = sh_quote(&format!("exec 0<&3 3<&-\n{script}"));
    let su = format!("env -i PATH={SU_PATH} su -s /bin/sh -c");
    format!(
        r#"exec 3<&0
if [ "$(id -u)" = 0 ] || {su} true -- {u} </dev/null >/dev/null 2>&1 3<&-; then
  exec {su} {inner} -- {u} </dev/null
fi
echo "{PASSWORD}"
IFS= read -r pw || exit 5
if ! said=$(printf '%s\n' "$pw" | {su} true -- {u} 2>&1 >/dev/null 3<&-); then
  echo "consfig-bootstrap: su refused to switch to "{u}" for $(id -un) with the password given (su-password-file holds the password of "{u}"): $said" >&2
  exit 5
fi
printf '%s\n' "$pw" | {su} {inner} -- {u}
"#
    )
}

/// The command that runs `script` as `user` through `doas -n`: a rule that
/// would make doas prompt (no `nopass`), or no rule, fails at once with
/// what doas said and the rule to add.
fn via_doas(user: &str, script: &str) -> String {
    let (u, s) = (sh_quote(user), sh_quote(script));
    format!(
        r#"if ! said=$(doas -n -u {u} -- sh -c : 2>&1 </dev/null >/dev/null); then
  me=$(id -un)
  echo "consfig-bootstrap: doas refused to run as "{u}" for $me without a password ($said). doas reads passwords only from a terminal: allow it in /etc/doas.conf with the rule: permit nopass $me as "{u} >&2
  exit 5
fi
exec doas -n -u {u} -- sh -c {s}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Become {
        Become::parse(text).expect("a become hop").expect("valid")
    }

    #[test]
    fn every_method_reads_and_writes_the_same() {
        for text in [
            "sudo",
            "sudo:www-data",
            "sudo:#1000",
            "su",
            "su:deploy",
            "su:ad.user@example.org",
            "doas",
            "doas:build_1",
            "doas:host$",
        ] {
            let hop = parsed(text);
            assert_eq!(hop.to_string(), text);
            assert_eq!(parsed(&hop.to_string()), hop);
        }
        assert_eq!(
            parsed("su"),
            Become {
                method: BecomeMethod::Su,
                user: None
            }
        );
        assert_eq!(parsed("doas").user(), "root");
        assert_eq!(parsed("su:web").user(), "web");
        for other in ["sudoer", "su-l", "doas2", "local", "setuid:www"] {
            assert!(Become::parse(other).is_none(), "{other}");
        }
    }

    /// Names that would be read as options, or split, quoted or cut by a
    /// shell or a name service, are refused before anything connects.
    #[test]
    fn user_names_that_are_not_names_are_refused() {
        for text in [
            "su:-c",
            "su:-",
            "doas:-u",
            "sudo:-i",
            "su:a b",
            "su:a'b",
            "doas:\"root\"",
            "su:root\nid",
            "doas:root;id",
            "su:$(id)",
            "su:a$b",
            "su:$",
            "su:../x",
            "su:#0",
            "doas:#0",
            "sudo:#",
            "sudo:#1x",
            "su:a\\b",
            "su:é",
            "doas:x\0",
        ] {
            let error = Become::parse(text)
                .expect("a become hop")
                .expect_err(text)
                .to_string();
            assert!(error.contains("a user name has"), "{text}: {error}");
        }
        let long = format!("su:{}", "a".repeat(MAX_USER + 1));
        assert!(Become::parse(&long).unwrap().is_err());
        assert!(
            Become::parse(&format!("su:{}", "a".repeat(MAX_USER)))
                .unwrap()
                .is_ok()
        );
        for text in ["su:", "doas:", "sudo:"] {
            let error = Become::parse(text).unwrap().unwrap_err().to_string();
            assert!(error.contains("names no user"), "{error}");
        }
        // `su:../x` is refused because of '/', not allowed in a name.
        assert!(!check_user(BecomeMethod::Su, "a/b"));
    }

    #[test]
    fn each_method_takes_its_own_password() {
        let passwords = Passwords {
            sudo: Some(Secret("login's".into())),
            su: Some(Secret("target's".into())),
        };
        assert_eq!(passwords.get(BecomeMethod::Sudo).unwrap().0, "login's");
        assert_eq!(passwords.get(BecomeMethod::Su).unwrap().0, "target's");
        assert!(passwords.get(BecomeMethod::Doas).is_none());
        let su = parsed("su:web");
        assert!(su.needs_password().contains("su-password-file"));
        assert!(su.needs_password().contains("password of web"));
    }

    /// The user is quoted wherever it is put, and every command ends by
    /// running the script as given.
    #[test]
    fn commands_quote_the_user_and_carry_the_script() {
        for method in BecomeMethod::ALL {
            let hop = Become {
                method,
                user: Some("web".into()),
            };
            let command = hop.command("echo it's");
            assert!(command.contains("'web'"), "{command}");
            assert!(!command.contains(" web "), "{command}");
            assert!(command.contains(r"it'\''s"), "{command}");
        }
    }
}
