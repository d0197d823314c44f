//! One module's grants, and what they allow: a file beneath a granted
//! directory, a command by program and arguments, a variable, an address.
//! The grammar of grants is the contract's ([`Grant`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use consfig_contract::{Context, Grant, args_match};
use serde::{Deserialize, Serialize};
use wasmtime_wasi::sockets::SocketAddrUse;

/// What a module may do: its grants, or everything when trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleGrants {
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub trusted: bool,
    /// One of the modules that ship with Consfig (by content hash): calls
    /// through it are bounded by its own grants only.
    #[serde(default)]
    pub standard: bool,
}

impl ModuleGrants {
    pub fn trusted() -> Self {
        ModuleGrants {
            trusted: true,
            ..ModuleGrants::default()
        }
    }

    /// The needs (as declared) these grants do not cover.
    pub fn missing<'a>(&self, needs: &'a [Grant]) -> Vec<&'a Grant> {
        if self.trusted {
            return Vec::new();
        }
        needs
            .iter()
            .filter(|need| !self.grants.iter().any(|g| g.covers(need)))
            .collect()
    }

    /// The deepest granted directory holding `path`, for reading or writing.
    pub(super) fn root_for(&self, path: &Path, write: bool) -> Option<&Path> {
        self.grants
            .iter()
            .filter_map(|g| match g {
                Grant::Write(dir) => Some(dir),
                Grant::Read(dir) if !write => Some(dir),
                _ => None,
            })
            .filter(|dir| path.starts_with(dir))
            .max_by_key(|dir| dir.components().count())
            .map(PathBuf::as_path)
    }

    pub(super) fn allows_command(&self, program: &Path, args: &[String]) -> bool {
        self.grants.iter().any(|g| match g {
            Grant::Command { program: None, .. } => true,
            Grant::Command {
                program: Some(p),
                args: patterns,
            } => {
                p == program
                    && patterns
                        .as_ref()
                        .is_none_or(|patterns| args_match(patterns, args))
            }
            _ => false,
        })
    }

    /// Whether any program may run (`command:*`, or trusted): then the
    /// rules that keep a narrower command grant narrow do not apply.
    pub(super) fn any_command(&self) -> bool {
        self.trusted
            || self
                .grants
                .iter()
                .any(|g| matches!(g, Grant::Command { program: None, .. }))
    }

    /// The directories this module may write beneath.
    pub(super) fn write_roots(&self) -> impl Iterator<Item = &Path> {
        self.grants.iter().filter_map(|g| match g {
            Grant::Write(dir) => Some(dir.as_path()),
            _ => None,
        })
    }

    pub(super) fn allows_env(&self, name: &str) -> bool {
        self.trusted
            || self.grants.iter().any(|g| match g {
                Grant::Env(None) => true,
                Grant::Env(Some(n)) => n == name,
                _ => false,
            })
    }

    /// Whether commands may get variable `name` set by the module: only
    /// by a grant naming it, or `env:*` when any program may run anyway.
    pub(super) fn allows_variable_set(&self, name: &str) -> bool {
        self.trusted
            || self.grants.iter().any(|g| match g {
                Grant::Env(None) => self.any_command(),
                Grant::Env(Some(n)) => n == name,
                _ => false,
            })
    }

    pub(super) fn allows_setid(&self, path: &Path) -> bool {
        self.grants
            .iter()
            .any(|g| matches!(g, Grant::SetId(dir) if path.starts_with(dir)))
    }

    pub(super) fn allows_data(&self, key: &str) -> bool {
        self.grants.iter().any(|g| match g {
            Grant::Data(None) => true,
            Grant::Data(Some(k)) => k == key,
            _ => false,
        })
    }

    pub(super) fn allows_subdeploy(&self) -> bool {
        self.grants.contains(&Grant::Subdeploy)
    }

    pub(super) fn allows_context(&self, context: &Context) -> bool {
        self.grants.iter().any(|g| match (g, context) {
            (Grant::Chroot(dir), Context::Chroot { path, .. }) => path.starts_with(dir),
            (Grant::Setuid(None), Context::Setuid { .. }) => true,
            (Grant::Setuid(Some(granted)), Context::Setuid { user }) => granted == user,
            // Any process's namespaces: any machine's too. Whether the
            // process is in a container at all is the runtime's to check
            // when it enters (it refuses this system's own namespaces).
            (Grant::Nsenter(None), Context::Nsenter { .. } | Context::Machine { .. }) => true,
            (Grant::Nsenter(Some(granted)), Context::Nsenter { pid }) => granted == pid,
            (Grant::Machine(None), Context::Machine { .. }) => true,
            (Grant::Machine(Some(granted)), Context::Machine { name }) => granted == name,
            _ => false,
        })
    }

    pub fn any_network(&self) -> bool {
        self.trusted || self.grants.contains(&Grant::AnyNetwork)
    }

    fn has_network(&self) -> bool {
        self.trusted
            || self
                .grants
                .iter()
                .any(|g| matches!(g, Grant::AnyNetwork | Grant::Network(_)))
    }

    fn allows_address(&self, addr: SocketAddr) -> bool {
        self.trusted
            || self.grants.iter().any(|g| match g {
                Grant::AnyNetwork => true,
                Grant::Network(pattern) => pattern.matches(addr),
                _ => false,
            })
    }

    /// Whether a socket may use `addr` this way. A connect first binds to the
    /// wildcard address and port 0 implicitly, which reaches nothing by
    /// itself; a listener accepts whoever connects: the grant is checked on
    /// the address bound, listened on, connected or sent to.
    pub fn allows_socket(&self, addr: SocketAddr, used: SocketAddrUse) -> bool {
        let implicit_bind = addr.ip().is_unspecified() && addr.port() == 0;
        match used {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind if implicit_bind => true,
            SocketAddrUse::TcpAccept | SocketAddrUse::UdpReceive => self.has_network(),
            _ => self.allows_address(addr),
        }
    }
}

#[cfg(test)]
pub(crate) fn grants(texts: &[&str]) -> ModuleGrants {
    ModuleGrants {
        grants: consfig_contract::parse_grants(texts).unwrap(),
        ..ModuleGrants::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn missing_needs() {
        let g = |t: &str| t.parse::<Grant>().unwrap();
        let m = grants(&["write:/srv", "subdeploy"]);
        assert_eq!(
            m.missing(&[g("read:/srv/a"), g("command:/bin/sh"), g("subdeploy")]),
            [&g("command:/bin/sh")]
        );
        assert!(ModuleGrants::trusted().missing(&[g("net")]).is_empty());
    }

    #[test]
    fn the_deepest_granted_directory_roots_a_path() {
        let m = grants(&["read:/srv", "write:/srv/www", "write:/srv/www/static"]);
        assert_eq!(
            m.root_for(Path::new("/srv/www/static/a.css"), true),
            Some(Path::new("/srv/www/static"))
        );
        assert_eq!(
            m.root_for(Path::new("/srv/other"), false),
            Some(Path::new("/srv"))
        );
        assert_eq!(m.root_for(Path::new("/srv/other"), true), None);
        assert_eq!(m.root_for(Path::new("/srvx"), false), None);
    }

    #[test]
    fn data_is_granted_by_key_or_all() {
        let one = grants(&["data:db", "read:/"]);
        assert!(one.allows_data("db"));
        assert!(!one.allows_data("api"));
        assert!(!one.allows_data("d"), "a key, not a prefix");
        assert!(grants(&["data:*"]).allows_data("api"));
        assert!(!grants(&["write:/", "env:*", "subdeploy"]).allows_data("db"));
    }

    #[test]
    fn subdeployments_and_their_contexts_are_granted_apart() {
        assert!(grants(&["subdeploy"]).allows_subdeploy());
        assert!(!grants(&["context:setuid:*", "context:chroot:/"]).allows_subdeploy());
        let ctx = |t: &str| t.parse::<Context>().unwrap();
        let m = grants(&["context:chroot:/srv/c", "context:setuid:www"]);
        assert!(m.allows_context(&ctx("chroot:/srv/c")));
        assert!(m.allows_context(&ctx("chroot-bare:/srv/c/inner")));
        assert!(!m.allows_context(&ctx("chroot:/srv/cx")));
        assert!(!m.allows_context(&ctx("chroot:/srv")));
        assert!(m.allows_context(&ctx("setuid:www")));
        assert!(!m.allows_context(&ctx("setuid:root")));
        assert!(!m.allows_context(&ctx("setuid:ww")));
        let any_user = grants(&["context:setuid:*"]);
        assert!(any_user.allows_context(&ctx("as:root")));
        assert!(
            !any_user.allows_context(&ctx("chroot:/")),
            "a user is no chroot"
        );
        assert!(
            !grants(&["context:chroot:/", "subdeploy"]).allows_context(&ctx("setuid:www")),
            "a chroot is no user"
        );
        assert!(!grants(&["subdeploy", "write:/"]).allows_context(&ctx("chroot:/srv/c")));
    }

    #[test]
    fn namespaces_are_granted_by_process_or_machine() {
        let ctx = |t: &str| t.parse::<Context>().unwrap();
        let one = grants(&["context:nsenter:42", "context:machine:web"]);
        assert!(one.allows_context(&ctx("nsenter:42")));
        assert!(!one.allows_context(&ctx("nsenter:43")));
        assert!(!one.allows_context(&ctx("nsenter:1")));
        assert!(one.allows_context(&ctx("machine:web")));
        assert!(!one.allows_context(&ctx("machine:db")));
        let any = grants(&["context:nsenter:*"]);
        assert!(any.allows_context(&ctx("nsenter:1")));
        assert!(any.allows_context(&ctx("machine:db")));
        assert!(
            !any.allows_context(&ctx("chroot:/")),
            "a process is no chroot"
        );
        assert!(!any.allows_context(&ctx("setuid:root")));
        let machines = grants(&["context:machine:*"]);
        assert!(machines.allows_context(&ctx("machine:db")));
        assert!(
            !machines.allows_context(&ctx("nsenter:42")),
            "a machine's leader is not any process"
        );
        assert!(
            !grants(&["context:chroot:/", "context:setuid:*", "subdeploy"])
                .allows_context(&ctx("nsenter:42"))
        );
    }

    #[test]
    fn variables_pass_by_name_or_all() {
        let named = grants(&["env:TZ"]);
        assert!(named.allows_env("TZ"));
        assert!(!named.allows_env("LANG"));
        assert!(named.allows_variable_set("TZ"));
        assert!(!named.allows_variable_set("PATH"));
        assert!(grants(&["env:*"]).allows_env("ANYTHING"));
        assert!(!grants(&["read:/"]).allows_env("TZ"));
    }

    #[test]
    fn checks_addresses() {
        let m = grants(&["net:127.0.0.1:8080"]);
        assert!(m.allows_socket(addr("127.0.0.1:8080"), SocketAddrUse::TcpBind));
        assert!(m.allows_socket(addr("127.0.0.1:8080"), SocketAddrUse::TcpListen));
        assert!(m.allows_socket(addr("10.1.2.3:5555"), SocketAddrUse::TcpAccept));
        assert!(!m.allows_socket(addr("127.0.0.1:8081"), SocketAddrUse::TcpBind));
        assert!(!m.allows_socket(addr("0.0.0.0:8080"), SocketAddrUse::TcpBind));
        assert!(!m.allows_socket(addr("127.0.0.1:22"), SocketAddrUse::TcpConnect));
        let none = ModuleGrants::default();
        assert!(none.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(!none.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpListen));
        assert!(!none.allows_socket(addr("127.0.0.1:80"), SocketAddrUse::TcpConnect));
        assert!(!none.allows_socket(addr("10.1.2.3:5555"), SocketAddrUse::TcpAccept));
        let any_port = grants(&["net:*:443"]);
        assert!(any_port.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(any_port.allows_socket(addr("[::1]:443"), SocketAddrUse::TcpConnect));
        assert!(!any_port.allows_socket(addr("[::1]:80"), SocketAddrUse::TcpConnect));
    }
}
