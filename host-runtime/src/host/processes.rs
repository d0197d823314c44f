//! Where the processes of running containers are, for the contexts that
//! enter them (`nsenter:PID`, `machine:NAME`) and for the calls that name
//! paths inside them: a machine's leader process, as systemd-machined
//! records it, and where a process's root lies among this process's files.
//! Only looked up here: entering is the runtime's.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use consfig_contract::Context;

/// Where systemd-machined records its machines, one file per name.
const MACHINES: &str = "/run/systemd/machines";

/// The leader process of the systemd container `name`, as systemd-machined
/// records it (`machinectl show NAME -p Leader` reads the same).
pub fn machine_leader(name: &str) -> Result<u32, String> {
    consfig_contract::check_machine_name(name)?;
    let file = Path::new(MACHINES).join(name);
    let text = std::fs::read_to_string(&file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "no such machine: systemd-machined lists none named so ({} is missing)",
            file.display()
        ),
        _ => format!("reading {}: {e}", file.display()),
    })?;
    parse_leader(&text).ok_or_else(|| format!("{} names no leader process", file.display()))
}

/// The `LEADER=` of a machine's state file.
fn parse_leader(text: &str) -> Option<u32> {
    text.lines()
        .find_map(|line| line.strip_prefix("LEADER="))
        .and_then(|pid| consfig_contract::parse_pid(pid.trim()).ok())
}

/// (device, inode) of a file, following links: a namespace's identity.
pub fn identity(path: &Path) -> Result<(u64, u64), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((meta.dev(), meta.ino()))
}

/// Where the root of process `pid` (of this process namespace) lies among
/// this process's files, when it can be told for sure: the path /proc gives
/// for it leads to the same directory. None when it cannot (the process is
/// gone, or its root is not reachable from here, e.g. a mount only its own
/// namespace has).
pub fn process_root(pid: u32) -> Option<PathBuf> {
    let link = PathBuf::from(format!("/proc/{pid}/root"));
    let path = std::fs::read_link(&link).ok()?;
    (path.is_absolute() && identity(&path).ok()? == identity(&link).ok()?).then_some(path)
}

/// The root of the process a namespace context enters, among this
/// process's files (see [`process_root`]); a machine is looked up first.
pub fn namespace_root(context: &Context) -> Option<PathBuf> {
    match context {
        Context::Nsenter { pid } => process_root(*pid),
        Context::Machine { name } => process_root(machine_leader(name).ok()?),
        Context::Chroot { .. } | Context::Setuid { .. } => None,
    }
}

/// Where `/` of a process inside `contexts` lies among this process's
/// files ([`Context::files_root`]), with a first container context's root
/// looked up: the directory it is, where that can be told, else its
/// `/proc/PID/root`.
pub fn files_root(contexts: &[Context]) -> PathBuf {
    let Some((first, rest)) = contexts.split_first() else {
        return PathBuf::from("/");
    };
    let leader = match first {
        Context::Machine { name } => machine_leader(name).ok(),
        Context::Nsenter { pid } => Some(*pid),
        Context::Chroot { .. } | Context::Setuid { .. } => None,
    };
    let Some(pid) = leader else {
        return Context::files_root(contexts);
    };
    let root = process_root(pid).unwrap_or_else(|| PathBuf::from(format!("/proc/{pid}/root")));
    let inner = Context::files_root(rest);
    root.join(inner.strip_prefix("/").unwrap_or(&inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_leader_is_read_from_machineds_state_file() {
        let state = "# This is private data. Do not parse.\nNAME=web\nSCOPE=machine-web.scope\nCLASS=container\nROOT=/var/lib/machines/web\nLEADER=4242\n";
        assert_eq!(parse_leader(state), Some(4242));
        assert_eq!(parse_leader("NAME=web\n"), None);
        for bad in ["LEADER=\n", "LEADER=0\n", "LEADER=-1\n", "LEADER=12x\n"] {
            assert_eq!(parse_leader(bad), None, "{bad:?}");
        }
        // A name is checked before it becomes a path.
        for name in ["../etc/passwd", "-H", ".x", "a/b"] {
            assert!(
                machine_leader(name).unwrap_err().contains("machine name"),
                "{name:?}"
            );
        }
        assert!(
            machine_leader("consfig-no-such-machine")
                .unwrap_err()
                .contains("no such machine")
        );
    }

    #[test]
    fn a_root_is_only_looked_up() {
        assert_eq!(namespace_root(&"setuid:root".parse().unwrap()), None);
        assert_eq!(process_root(consfig_contract::PID_MAX), None);
        assert_eq!(
            files_root(&["chroot:/srv/c1".parse().unwrap()]),
            Path::new("/srv/c1")
        );
        assert_eq!(
            files_root(&[format!("nsenter:{}", consfig_contract::PID_MAX)
                .parse()
                .unwrap()]),
            PathBuf::from(format!("/proc/{}/root", consfig_contract::PID_MAX))
        );
    }
}
