//! The confinement of a call: the modules whose grants bound it — the one
//! making it, then every untrusted, non-standard module it was called
//! through (by `apply` or a subdeployment) — and the decision each kind of
//! call gets from them. A call is allowed only when every one of them allows
//! it, so grants never grow by calling through another module.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use consfig_contract::{AddressPattern, Context, Grant};
use wasmtime_wasi::sockets::SocketAddrUse;

use super::grants::ModuleGrants;

/// The modules whose grants bound a call, by name (for messages).
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    pub modules: Vec<(String, ModuleGrants)>,
}

/// Why a call was refused: which module refused it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub module: String,
    pub why: Refusal,
}

/// What a module's grants lacked, or what they would have given away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The module has no grant that allows the call.
    NoGrant(Grant),
    /// A command's program (or what it loads first) lies beneath a
    /// directory the module may write: running it could run any code.
    WritesProgram { path: PathBuf, grant: Grant },
    /// A variable that steers the dynamic loader, never given to the
    /// commands of untrusted modules.
    LoaderVariable(String),
}

impl Denied {
    fn no_grant(module: &str, needed: Grant) -> Denied {
        Denied {
            module: module.to_owned(),
            why: Refusal::NoGrant(needed),
        }
    }

    /// The grant the module lacked, when that is why.
    pub fn needed(&self) -> Option<&Grant> {
        match &self.why {
            Refusal::NoGrant(grant) => Some(grant),
            _ => None,
        }
    }

    /// The message of the refusal of `action` (e.g. `run /bin/rm -f x`),
    /// the same for every kind of call: module, action, why.
    pub fn message(&self, action: &str) -> String {
        let why = match &self.why {
            Refusal::NoGrant(grant) => format!("it has no grant {grant}"),
            Refusal::WritesProgram { path, grant } => format!(
                "it may write {} ({grant}), so the command could run any code (grant command:* if that is meant)",
                path.display()
            ),
            Refusal::LoaderVariable(name) => format!(
                "{name} steers the dynamic loader and never reaches the commands of untrusted modules"
            ),
        };
        format!(
            "denied: module {} may not {}: {why}",
            self.module,
            action.trim_end(),
        )
    }
}

impl Confinement {
    fn first_denial(
        &self,
        needed: Grant,
        allows: impl Fn(&ModuleGrants) -> bool,
    ) -> Result<(), Denied> {
        match self
            .modules
            .iter()
            .find(|(_, grants)| !grants.trusted && !allows(grants))
        {
            Some((module, _)) => Err(Denied::no_grant(module, needed)),
            None => Ok(()),
        }
    }

    /// May `path` be read (or written)? The directory to confine the access
    /// to: the deepest granted directory among the modules (None when every
    /// module is trusted or granted `/`, which needs no confining).
    pub fn file_access(&self, path: &Path, write: bool) -> Result<Option<PathBuf>, Denied> {
        let needed = if write {
            Grant::Write(path.to_owned())
        } else {
            Grant::Read(path.to_owned())
        };
        self.first_denial(needed, |g| g.root_for(path, write).is_some())?;
        Ok(self
            .modules
            .iter()
            .filter(|(_, g)| !g.trusted)
            .filter_map(|(_, g)| g.root_for(path, write))
            .max_by_key(|dir| dir.components().count())
            .filter(|dir| *dir != Path::new("/"))
            .map(Path::to_owned))
    }

    /// May `program` (as found in PATH, or as given) run with `args`? A
    /// grant may name the program by that path or by the file it resolves to
    /// (`/sbin/useradd` on a system where /sbin is /usr/sbin).
    pub fn command(&self, program: &Path, args: &[String]) -> Result<(), Denied> {
        let needed = Grant::Command {
            program: Some(program.to_owned()),
            args: (!args.is_empty()).then(|| args.to_vec()),
        };
        let real = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_owned());
        self.first_denial(needed, |g| {
            g.allows_command(program, args) || g.allows_command(&real, args)
        })
    }

    pub fn subdeploy(&self) -> Result<(), Denied> {
        self.first_denial(Grant::Subdeploy, ModuleGrants::allows_subdeploy)
    }

    /// May a subdeployment enter `context`?
    pub fn context(&self, context: &Context) -> Result<(), Denied> {
        let needed = match context {
            Context::Chroot { path, .. } => Grant::Chroot(path.clone()),
            Context::Setuid { user } => Grant::Setuid(Some(user.clone())),
        };
        self.first_denial(needed, |g| g.allows_context(context))
    }

    /// May set-uid and set-gid bits be set on `path`?
    pub fn setid(&self, path: &Path) -> Result<(), Denied> {
        self.first_denial(Grant::SetId(path.to_owned()), |g| g.allows_setid(path))
    }

    /// May the host's data `key` be read?
    pub fn data(&self, key: &str) -> Result<(), Denied> {
        self.first_denial(Grant::Data(Some(key.to_owned())), |g| g.allows_data(key))
    }

    /// Whether commands may get the runtime's variable `name`.
    pub fn env(&self, name: &str) -> bool {
        self.modules.iter().all(|(_, g)| g.allows_env(name))
    }

    pub fn socket(&self, addr: SocketAddr, used: SocketAddrUse) -> Result<(), Denied> {
        let needed = Grant::Network(AddressPattern {
            ip: Some(addr.ip()),
            port: Some(addr.port()),
        });
        self.first_denial(needed, |g| g.allows_socket(addr, used))
    }

    /// The modules that bound a subdeployment started under this
    /// confinement: the untrusted, non-standard ones.
    pub fn ceiling(self) -> Vec<(String, ModuleGrants)> {
        self.modules
            .into_iter()
            .filter(|(_, grants)| !grants.trusted && !grants.standard)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::grants::grants;
    use super::*;

    #[test]
    fn a_call_must_be_granted_by_every_confining_module() {
        let confinement = Confinement {
            modules: vec![
                ("file".into(), grants(&["write:/"])),
                ("web".into(), grants(&["write:/srv/www", "read:/etc"])),
            ],
        };
        assert_eq!(
            confinement.file_access(Path::new("/srv/www/index.html"), true),
            Ok(Some(PathBuf::from("/srv/www")))
        );
        assert_eq!(
            confinement.file_access(Path::new("/etc/passwd"), false),
            Ok(Some(PathBuf::from("/etc")))
        );
        let denied = confinement
            .file_access(Path::new("/etc/passwd"), true)
            .unwrap_err();
        assert_eq!(denied.module, "web");
        assert_eq!(denied.needed().unwrap().to_string(), "write:/etc/passwd");
        assert_eq!(
            denied.message("write-file /etc/passwd"),
            "denied: module web may not write-file /etc/passwd: it has no grant write:/etc/passwd"
        );
        let alone = Confinement {
            modules: vec![("file".into(), grants(&["write:/"]))],
        };
        assert_eq!(alone.file_access(Path::new("/etc/passwd"), true), Ok(None));
    }

    #[test]
    fn commands_match_program_and_argument_pattern() {
        let c = Confinement {
            modules: vec![(
                "m".into(),
                grants(&["command:/bin/sh -c 'echo *'", "command:/usr/bin/make"]),
            )],
        };
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            c.command(Path::new("/bin/sh"), &args(&["-c", "echo hi"]))
                .is_ok()
        );
        assert!(
            c.command(Path::new("/bin/sh"), &args(&["-c", "rm -rf /"]))
                .is_err()
        );
        assert!(
            c.command(Path::new("/usr/bin/make"), &args(&["-C", "/x"]))
                .is_ok()
        );
        let denied = c
            .command(Path::new("/bin/rm"), &args(&["-rf", "/"]))
            .unwrap_err();
        assert_eq!(
            denied.needed().unwrap().to_string(),
            "command:/bin/rm -rf /"
        );
    }

    #[test]
    fn set_id_bits_need_a_setid_grant_from_every_confining_module() {
        let bin = Path::new("/srv/app/bin/tool");
        let alone = |texts: &[&str]| Confinement {
            modules: vec![("app".into(), grants(texts))],
        };
        assert_eq!(
            alone(&["write:/srv/app", "setid:/srv/app/bin"]).setid(bin),
            Ok(())
        );
        let denied = alone(&["write:/srv/app", "setid:/srv/app/bi"])
            .setid(bin)
            .unwrap_err();
        assert_eq!(
            denied.needed().unwrap().to_string(),
            "setid:/srv/app/bin/tool"
        );
        assert!(alone(&["write:/srv/app"]).setid(bin).is_err());
        assert!(alone(&["write:/", "read:/srv/app/bin"]).setid(bin).is_err());
        let through = Confinement {
            modules: vec![
                ("file".into(), grants(&["write:/", "setid:/"])),
                ("web".into(), grants(&["write:/srv/app"])),
            ],
        };
        assert_eq!(through.setid(bin).unwrap_err().module, "web");
        let trusted = Confinement {
            modules: vec![("legacy".into(), ModuleGrants::trusted())],
        };
        assert_eq!(trusted.setid(bin), Ok(()));
    }

    #[test]
    fn trusted_modules_allow_everything_and_the_ceiling_keeps_the_others() {
        let c = Confinement {
            modules: vec![
                ("legacy".into(), ModuleGrants::trusted()),
                ("web".into(), grants(&["env:LANG"])),
                (
                    "file".into(),
                    ModuleGrants {
                        standard: true,
                        ..grants(&["write:/", "env:*"])
                    },
                ),
            ],
        };
        assert!(c.env("LANG"));
        assert!(!c.env("SECRET"));
        assert_eq!(
            c.subdeploy().unwrap_err().module,
            "web",
            "the first untrusted module without the grant is named"
        );
        let ceiling: Vec<String> = c.ceiling().into_iter().map(|(name, _)| name).collect();
        assert_eq!(ceiling, ["web"]);
    }
}
