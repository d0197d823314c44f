//! Facts about the machine and the process: `whoami`, `hostname`,
//! `architecture`. They read, never act, so they need no grant.

use super::bindings::consfig::module::host::Identity;
use super::state::HostState;

impl HostState {
    pub fn whoami(&self) -> Identity {
        let uid = nix::unistd::getuid();
        Identity {
            uid: uid.as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            user: nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name),
            home: std::env::var("HOME").ok(),
        }
    }

    pub fn hostname(&self) -> String {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// As `uname -m` says.
    pub fn architecture(&self) -> String {
        nix::sys::utsname::uname()
            .map(|u| u.machine().to_string_lossy().into_owned())
            .unwrap_or_else(|_| std::env::consts::ARCH.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::host::test_support::host_with;

    #[test]
    fn facts_describe_this_process() {
        let host = host_with(&[]);
        let me = host.whoami();
        assert_eq!(me.uid, nix::unistd::getuid().as_raw());
        assert_eq!(me.gid, nix::unistd::getgid().as_raw());
        assert!(!host.hostname().is_empty());
        let arch = host.architecture();
        assert!(
            arch == std::env::consts::ARCH || arch.starts_with("arm"),
            "{arch}"
        );
    }
}
