//! The confinement of a call: the modules whose grants bound it — the one
//! making it, then every untrusted, non-standard module it was called
//! through (by `apply` or a subdeployment) — and the decision each kind of
//! call gets from them. A call is allowed only when every one of them allows
//! it, so grants never grow by calling through another module.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use consfig_contract::{AddressPattern, Context, Grant};
use serde::{Deserialize, Serialize};
use wasmtime_wasi::sockets::SocketAddrUse;

use super::environment::{BASE_VARIABLES, steers_loader};
use super::grants::ModuleGrants;
use super::program::Program;

/// A directory an untrusted module bounding a call may write, as the call
/// sees it: through its own grant, or from outside a chroot entered since
/// (then `here` is the path inside the chroot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writer {
    pub module: String,
    /// The grant, as the module holds it.
    pub grant: Grant,
    pub here: PathBuf,
}

impl Writer {
    /// The directories a module's grants let it write.
    pub fn of(module: &str, grants: &ModuleGrants) -> Vec<Writer> {
        grants
            .write_roots()
            .map(|dir| Writer {
                module: module.to_owned(),
                grant: Grant::Write(dir.to_owned()),
                here: dir.to_owned(),
            })
            .collect()
    }

    /// What of this directory a process chrooted at `root` sees, if any.
    pub fn inside(&self, root: &Path) -> Option<Writer> {
        let here = if root.starts_with(&self.here) {
            PathBuf::from("/")
        } else {
            Path::new("/").join(self.here.strip_prefix(root).ok()?)
        };
        Some(Writer {
            here,
            ..self.clone()
        })
    }
}

/// The modules whose grants bound a call, by name (for messages), and the
/// directories the untrusted ones among them may write, here or from
/// outside the chroots entered.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    pub modules: Vec<(String, ModuleGrants)>,
    pub writers: Vec<Writer>,
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
    /// directory an untrusted module may write: running it could run any code.
    WritesProgram {
        path: PathBuf,
        writer: String,
        grant: Grant,
    },
    /// A variable that steers the dynamic loader, never given to the
    /// commands of untrusted modules.
    LoaderVariable(String),
    /// Check mode changes nothing and reaches no other host.
    CheckMode,
    /// The path is (or holds) the runtime's own files: its cache of
    /// compiled code, its executable.
    RuntimeFiles,
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
            Refusal::WritesProgram {
                path,
                writer,
                grant,
            } => format!(
                "module {writer} may write {} ({grant}), so the command could run any code (grant command:* if that is meant)",
                path.display()
            ),
            Refusal::LoaderVariable(name) => format!(
                "{name} steers the dynamic loader and never reaches the commands of untrusted modules"
            ),
            Refusal::CheckMode => "check mode reaches no other host".to_owned(),
            Refusal::RuntimeFiles => {
                "that is the runtime's own cache and executable, which no module changes".to_owned()
            }
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

    fn untrusted(&self) -> impl Iterator<Item = &(String, ModuleGrants)> {
        self.modules.iter().filter(|(_, grants)| !grants.trusted)
    }

    /// May `path` — as written, and as it resolves — be changed, given the
    /// runtime's own files `protected`? Not by an untrusted module when it
    /// lies beneath one of them or holds one.
    pub fn protects(&self, protected: &[PathBuf], paths: &[&Path]) -> Result<(), Denied> {
        let Some((module, _)) = self.untrusted().next() else {
            return Ok(());
        };
        let touches = |path: &Path| {
            protected
                .iter()
                .any(|own| path.starts_with(own) || own.starts_with(path))
        };
        if paths.iter().any(|path| touches(path)) {
            return Err(Denied {
                module: module.clone(),
                why: Refusal::RuntimeFiles,
            });
        }
        Ok(())
    }

    /// May `program` run with `args`, and with the variables the module
    /// sets, named `variables`? A grant may name the program by the path
    /// given or by the file it resolves to (`/sbin/useradd` where /sbin is
    /// /usr/sbin). Unless every module may run anything, the program must
    /// not be one an untrusted module can write (nor its interpreter, nor
    /// the loader's files); a loader variable never passes; every other
    /// variable set needs its own grant.
    pub fn command(
        &self,
        program: &Program,
        args: &[String],
        variables: &[&str],
    ) -> Result<(), Denied> {
        let needed = Grant::Command {
            program: Some(program.given.clone()),
            args: (!args.is_empty()).then(|| args.to_vec()),
        };
        self.first_denial(needed, |g| {
            g.allows_command(&program.given, args) || g.allows_command(&program.real, args)
        })?;
        if let Some((module, _)) = self.untrusted().find(|(_, g)| !g.any_command()) {
            for writer in &self.writers {
                if let Some(path) = program.decided_beneath(&writer.here) {
                    return Err(Denied {
                        module: module.clone(),
                        why: Refusal::WritesProgram {
                            path,
                            writer: writer.module.clone(),
                            grant: writer.grant.clone(),
                        },
                    });
                }
            }
        }
        for name in variables {
            if steers_loader(name)
                && let Some((module, _)) = self.untrusted().next()
            {
                return Err(Denied {
                    module: module.clone(),
                    why: Refusal::LoaderVariable((*name).to_owned()),
                });
            }
            self.first_denial(Grant::Env(Some((*name).to_owned())), |g| {
                g.allows_variable_set(name)
            })?;
        }
        Ok(())
    }

    pub fn subdeploy(&self) -> Result<(), Denied> {
        self.first_denial(Grant::Subdeploy, ModuleGrants::allows_subdeploy)
    }

    /// May a subdeployment enter `context`?
    pub fn context(&self, context: &Context) -> Result<(), Denied> {
        let needed = match context {
            Context::Chroot { path, .. } => Grant::Chroot(path.clone()),
            Context::Setuid { user } => Grant::Setuid(Some(user.clone())),
            Context::Nsenter { pid } => Grant::Nsenter(Some(*pid)),
            Context::Machine { name } => Grant::Machine(Some(name.clone())),
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

    /// Whether commands may get the runtime's variable `name`: a base
    /// variable, or one every module is granted; never a loader variable
    /// when an untrusted module is among them.
    pub fn env(&self, name: &str) -> bool {
        if steers_loader(name) && self.untrusted().next().is_some() {
            return false;
        }
        BASE_VARIABLES.contains(&name) || self.modules.iter().all(|(_, g)| g.allows_env(name))
    }

    pub fn socket(&self, addr: SocketAddr, used: SocketAddrUse) -> Result<(), Denied> {
        let needed = Grant::Network(AddressPattern {
            ip: Some(addr.ip()),
            port: Some(addr.port()),
        });
        self.first_denial(needed, |g| g.allows_socket(addr, used))
    }

    /// May a bundle be given `grants`? Only what every untrusted,
    /// non-standard module it is asked for through holds itself: a module
    /// cannot write itself a service with more than it has.
    pub fn bundle_grants(&self, grants: &[Grant]) -> Result<(), Denied> {
        for grant in grants {
            let lacking = self
                .modules
                .iter()
                .filter(|(_, g)| !g.trusted && !g.standard)
                .find(|(_, g)| !g.grants.iter().any(|held| held.covers(grant)));
            if let Some((module, _)) = lacking {
                return Err(Denied::no_grant(module, grant.clone()));
            }
        }
        Ok(())
    }

    /// May names be looked up? Only when every module may use any address.
    pub fn lookup(&self) -> Result<(), Denied> {
        self.first_denial(Grant::AnyNetwork, ModuleGrants::any_network)
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
            ..Confinement::default()
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
            ..Confinement::default()
        };
        assert_eq!(alone.file_access(Path::new("/etc/passwd"), true), Ok(None));
    }

    fn program(path: &str) -> Program {
        Program {
            given: PathBuf::from(path),
            real: PathBuf::from(path),
            interpreters: Vec::new(),
        }
    }

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_runtimes_own_files_are_changed_by_no_untrusted_module() {
        let protected = [
            PathBuf::from("/var/cache/consfig"),
            PathBuf::from("/usr/bin/consfig"),
        ];
        let untrusted = Confinement {
            modules: vec![("web".into(), grants(&["write:/"]))],
            ..Confinement::default()
        };
        let refused = Err(Denied {
            module: "web".into(),
            why: Refusal::RuntimeFiles,
        });
        // Beneath one, or holding one (a directory that would be removed
        // or replaced whole).
        for path in [
            "/var/cache/consfig/modules/x.cwasm",
            "/usr/bin/consfig",
            "/var/cache",
        ] {
            assert_eq!(
                untrusted.protects(&protected, &[Path::new(path)]),
                refused,
                "{path}"
            );
        }
        // Any of the paths: as written or as it resolves.
        assert_eq!(
            untrusted.protects(
                &protected,
                &[Path::new("/srv/link"), Path::new("/usr/bin/consfig")]
            ),
            refused
        );
        assert_eq!(
            untrusted.protects(&protected, &[Path::new("/usr/bin/consfigure")]),
            Ok(())
        );
        assert_eq!(
            untrusted.protects(&protected, &[Path::new("/srv/www/x")]),
            Ok(())
        );
        let trusted = Confinement {
            modules: vec![("mine".into(), ModuleGrants::trusted())],
            ..Confinement::default()
        };
        assert_eq!(
            trusted.protects(&protected, &[Path::new("/usr/bin/consfig")]),
            Ok(())
        );
    }

    #[test]
    fn commands_match_program_and_one_glob_per_argument() {
        let c = Confinement {
            modules: vec![(
                "m".into(),
                grants(&["command:/bin/sh -c 'echo *'", "command:/usr/bin/make"]),
            )],
            ..Confinement::default()
        };
        let sh = program("/bin/sh");
        assert!(c.command(&sh, &argv(&["-c", "echo hi"]), &[]).is_ok());
        assert!(c.command(&sh, &argv(&["-c", "rm -rf /"]), &[]).is_err());
        assert!(c.command(&sh, &argv(&["-c", "echo hi", "x"]), &[]).is_err());
        let make = program("/usr/bin/make");
        assert!(c.command(&make, &argv(&["-C", "/x"]), &[]).is_ok());
        let denied = c
            .command(&program("/bin/rm"), &argv(&["-rf", "/"]), &[])
            .unwrap_err();
        assert_eq!(
            denied.needed().unwrap().to_string(),
            "command:/bin/rm -rf /"
        );
        // Named by the file a symlink resolves to.
        let linked = Program {
            given: PathBuf::from("/sbin/make"),
            ..program("/usr/bin/make")
        };
        assert!(c.command(&linked, &[], &[]).is_ok());
    }

    #[test]
    fn a_program_an_untrusted_module_can_write_is_refused() {
        let writers = vec![Writer {
            module: "web".into(),
            grant: Grant::Write("/srv/root".into()),
            here: "/".into(),
        }];
        let c = |module: &[&str], writers: Vec<Writer>| Confinement {
            modules: vec![("m".into(), grants(module))],
            writers,
        };
        let id = program("/usr/bin/id");
        let exact = c(&["command:/usr/bin/id -u"], writers.clone());
        let denied = exact.command(&id, &argv(&["-u"]), &[]).unwrap_err();
        assert_eq!(
            denied.message("run /usr/bin/id -u"),
            "denied: module m may not run /usr/bin/id -u: module web may write /usr/bin/id (write:/srv/root), so the command could run any code (grant command:* if that is meant)"
        );
        // Its own grant over the program's directory, or over a library
        // directory, or over the loader's files.
        for dir in ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/etc"] {
            let own = c(
                &["command:/usr/bin/id", &format!("write:{dir}")],
                Vec::new(),
            );
            let own = Confinement {
                writers: own
                    .modules
                    .iter()
                    .flat_map(|(n, g)| Writer::of(n, g))
                    .collect(),
                ..own
            };
            assert!(
                matches!(
                    own.command(&id, &[], &[]).unwrap_err().why,
                    Refusal::WritesProgram { .. }
                ),
                "{dir}"
            );
        }
        // A script's interpreter counts as the program.
        let script = Program {
            interpreters: vec![PathBuf::from("/opt/tools/python")],
            ..program("/usr/local/bin/tool")
        };
        let opt = Writer {
            module: "web".into(),
            grant: Grant::Write("/opt/tools".into()),
            here: "/opt/tools".into(),
        };
        let denied = c(&["command:/usr/local/bin/tool"], vec![opt.clone()])
            .command(&script, &[], &[])
            .unwrap_err();
        assert!(
            matches!(&denied.why, Refusal::WritesProgram { path, .. } if path == Path::new("/opt/tools/python")),
            "{denied:?}"
        );
        // Elsewhere, and with command:* (which already allows anything), it runs.
        assert!(
            c(&["command:/usr/bin/id"], vec![opt.clone()])
                .command(&id, &[], &[])
                .is_ok()
        );
        assert!(c(&["command:*"], writers).command(&id, &[], &[]).is_ok());
    }

    #[test]
    fn variables_a_module_sets_need_their_own_grant_and_loader_ones_never_pass() {
        let c = |module: &[&str]| Confinement {
            modules: vec![("m".into(), grants(module))],
            ..Confinement::default()
        };
        let id = program("/usr/bin/id");
        let named = c(&["command:/usr/bin/id", "env:LC_ALL", "env:LD_PRELOAD"]);
        assert!(named.command(&id, &[], &["LC_ALL"]).is_ok());
        let denied = named.command(&id, &[], &["TZ"]).unwrap_err();
        assert_eq!(denied.needed().unwrap().to_string(), "env:TZ");
        for loader in ["LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH"] {
            let denied = named.command(&id, &[], &[loader]).unwrap_err();
            assert_eq!(denied.why, Refusal::LoaderVariable(loader.into()));
        }
        // env:* passes the runtime's variables; it names the module's own
        // only when any program may run anyway.
        let star = c(&["command:/usr/bin/id", "env:*"]);
        assert!(star.command(&id, &[], &["TZ"]).is_err());
        assert!(star.env("TZ") && star.env("PATH") && !star.env("LD_PRELOAD"));
        assert!(
            c(&["command:*", "env:*"])
                .command(&id, &[], &["TZ"])
                .is_ok()
        );
        assert!(c(&[]).env("PATH") && !c(&[]).env("TZ"));
        let trusted = Confinement {
            modules: vec![("t".into(), ModuleGrants::trusted())],
            ..Confinement::default()
        };
        assert!(trusted.command(&id, &[], &["LD_PRELOAD"]).is_ok());
        assert!(trusted.env("LD_LIBRARY_PATH"));
    }

    #[test]
    fn a_bundle_gets_no_grant_its_asker_lacks() {
        let asked = |grants: &[&str]| consfig_contract::parse_grants(grants).unwrap();
        let c = Confinement {
            modules: vec![
                (
                    "image".into(),
                    ModuleGrants {
                        standard: true,
                        ..grants(&["write:/"])
                    },
                ),
                ("web".into(), grants(&["net:*:80", "write:/srv/www"])),
            ],
            ..Confinement::default()
        };
        assert!(
            c.bundle_grants(&asked(&["net:127.0.0.1:80", "read:/srv/www/a"]))
                .is_ok()
        );
        let denied = c
            .bundle_grants(&asked(&["net:*:80", "write:/etc"]))
            .unwrap_err();
        assert_eq!(
            (
                denied.module.as_str(),
                denied.needed().unwrap().to_string().as_str()
            ),
            ("web", "write:/etc")
        );
        let alone = Confinement {
            modules: vec![c.modules[0].clone()],
            ..Confinement::default()
        };
        assert!(
            alone.bundle_grants(&asked(&["command:*"])).is_ok(),
            "the consfig's own choice"
        );
    }

    #[test]
    fn writers_are_seen_through_the_chroots_entered() {
        let writer = Writer {
            module: "web".into(),
            grant: Grant::Write("/srv/c1/usr".into()),
            here: "/srv/c1/usr".into(),
        };
        assert_eq!(
            writer.inside(Path::new("/srv/c1")).unwrap().here,
            Path::new("/usr")
        );
        assert_eq!(
            writer.inside(Path::new("/srv/c1/usr/local")).unwrap().here,
            Path::new("/")
        );
        assert_eq!(writer.inside(Path::new("/srv/c2")), None);
        assert_eq!(writer.inside(Path::new("/srv/c1/usrx")), None);
    }

    #[test]
    fn set_id_bits_need_a_setid_grant_from_every_confining_module() {
        let bin = Path::new("/srv/app/bin/tool");
        let alone = |texts: &[&str]| Confinement {
            modules: vec![("app".into(), grants(texts))],
            ..Confinement::default()
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
            ..Confinement::default()
        };
        assert_eq!(through.setid(bin).unwrap_err().module, "web");
        let trusted = Confinement {
            modules: vec![("legacy".into(), ModuleGrants::trusted())],
            ..Confinement::default()
        };
        assert_eq!(trusted.setid(bin), Ok(()));
    }

    #[test]
    fn contexts_and_data_need_a_grant_from_every_confining_module() {
        let ctx = |t: &str| t.parse::<Context>().unwrap();
        let c = Confinement {
            modules: vec![
                (
                    "user".into(),
                    grants(&["subdeploy", "context:setuid:*", "data:*"]),
                ),
                (
                    "web".into(),
                    grants(&[
                        "subdeploy",
                        "context:setuid:www",
                        "context:chroot:/srv",
                        "data:db",
                    ]),
                ),
            ],
            ..Confinement::default()
        };
        assert_eq!(c.context(&ctx("setuid:www")), Ok(()));
        let denied = c.context(&ctx("setuid:root")).unwrap_err();
        assert_eq!(denied.module, "web");
        assert_eq!(
            denied.message("subdeploy into setuid:root"),
            "denied: module web may not subdeploy into setuid:root: it has no grant context:setuid:root"
        );
        let denied = c.context(&ctx("chroot:/srv/c1")).unwrap_err();
        assert_eq!(
            (denied.module.as_str(), denied.needed().unwrap().to_string()),
            ("user", "context:chroot:/srv/c1".to_owned()),
            "the first module without the grant is named"
        );
        assert_eq!(c.data("db"), Ok(()));
        let denied = c.data("api").unwrap_err();
        assert_eq!(
            denied.message("read data api"),
            "denied: module web may not read data api: it has no grant data:api"
        );
        let trusted = Confinement {
            modules: vec![("legacy".into(), ModuleGrants::trusted())],
            ..Confinement::default()
        };
        assert_eq!(trusted.context(&ctx("setuid:root")), Ok(()));
        assert_eq!(trusted.data("api"), Ok(()));
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
            ..Confinement::default()
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
