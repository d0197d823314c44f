//! Entering a context — a chroot, another user, a running container's
//! namespaces — for good, in a process forked for the purpose (a control
//! child), never in the one that asked, so the asker is never stuck inside a
//! chroot or a lower uid. Contexts are entered in order, each resolved inside
//! the ones before it: a chroot's path inside the previous chroot, a user in
//! the chroot's passwd, a process id in the container's process namespace.
//! What a context says is the contract's ([`Context`]).
//!
//! A process's namespaces are entered with setns(2) on a pidfd, so the
//! process entered is the one looked up even if its id is reused meanwhile:
//! its root is opened through /proc, then the pidfd shows it was still alive
//! (so that /proc entry was its own), then every namespace is entered at
//! once. The process namespace applies to children: the forms run in
//! processes the control child forks afterwards, each one a process of the
//! container.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use consfig_contract::Context;

use crate::host::processes::{identity, machine_leader};
use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Uid, User, chdir, chroot, geteuid, initgroups, setgid, setuid};

/// Directories of the host bind-mounted into a chroot, unless it is bare.
const CHROOT_MOUNTS: [&str; 3] = ["proc", "sys", "dev"];

/// Why a context could not be entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{context}: {message}")]
pub struct EnterError {
    pub context: String,
    pub message: String,
}

/// Enter `context` in the calling process. Only a child forked for the
/// purpose may call this, and only while it is single-threaded.
pub fn enter(context: &Context) -> Result<(), EnterError> {
    let result = match context {
        Context::Chroot { path, mounts } => enter_chroot(path, *mounts),
        Context::Setuid { user } => enter_user(user),
        Context::Nsenter { pid } => enter_process(*pid, None),
        Context::Machine { name } => {
            machine_leader(name).and_then(|pid| enter_process(pid, Some(name)))
        }
    };
    result.map_err(|message| EnterError {
        context: context.to_string(),
        message,
    })
}

/// Whether entering `context` here would make this process another user
/// than the one it is (a user that does not exist: no, entering fails).
pub fn changes_user(context: &Context) -> bool {
    match context {
        Context::Setuid { user } => {
            matches!(User::from_name(user), Ok(Some(found)) if found.uid != geteuid())
        }
        _ => false,
    }
}

fn need_root(what: &str) -> Result<(), String> {
    if geteuid().is_root() {
        Ok(())
    } else {
        Err(format!(
            "{what} needs root, and this process runs as uid {}",
            geteuid()
        ))
    }
}

fn enter_chroot(path: &Path, mounts: bool) -> Result<(), String> {
    need_root("entering a chroot")?;
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err("not a directory".into()),
        Err(e) => return Err(e.to_string()),
    }
    // The grant was checked on the path as written: a symlink on the way
    // would lead elsewhere.
    match std::fs::canonicalize(path) {
        Ok(real) if real == path => {}
        Ok(real) => {
            return Err(format!(
                "the path leads through a symlink to {}: name the chroot by its real path",
                real.display()
            ));
        }
        Err(e) => return Err(e.to_string()),
    }
    // A private mount namespace: the mounts below are seen by this process and
    // its children only, and vanish with them, with nothing to clean up.
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("private mount namespace: {e}"))?;
    let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    match mount(None::<&str>, "/", None::<&str>, private, None::<&str>) {
        // "/" is not a mount point inside a chroot; one Consfig entered is in a
        // namespace whose mounts it already made private, and so are their copies.
        Ok(()) | Err(nix::Error::EINVAL) => {}
        Err(e) => return Err(format!("making mounts private: {e}")),
    }
    // The chroot's root a mount point of its own (in this namespace only):
    // check mode makes every mount from the root read-only for commands.
    let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(path), path, None::<&str>, bind, None::<&str>)
        .map_err(|e| format!("bind-mounting the chroot on itself: {e}"))?;
    if mounts {
        for dir in CHROOT_MOUNTS {
            let target = path.join(dir);
            // Only where the tree has a mount point: a chroot is not modified.
            if target.is_dir() {
                let source = Path::new("/").join(dir);
                mount(Some(&source), &target, None::<&str>, bind, None::<&str>)
                    .and_then(|()| {
                        mount(None::<&str>, &target, None::<&str>, private, None::<&str>)
                    })
                    .map_err(|e| {
                        format!(
                            "bind-mounting {} on {}: {e}",
                            source.display(),
                            target.display()
                        )
                    })?;
            }
        }
    }
    chroot(path).map_err(|e| format!("chroot: {e}"))?;
    crate::host::facts::note_chroot_entered();
    chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    Ok(())
}

/// The namespaces a process shares with a container's, entered together;
/// the user namespace joins them when it differs from this process's.
const NAMESPACES: [(&str, CloneFlags); 6] = [
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
];

/// A pidfd for process `pid` of this process's process namespace.
fn pidfd_open(pid: u32) -> Result<OwnedFd, String> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(match nix::Error::last() {
            nix::Error::ESRCH => "no such process".to_owned(),
            e => format!("pidfd_open: {e}"),
        });
    }
    // SAFETY: the descriptor was just made, and is owned here alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Whether the process of `pidfd` is still running (not exited).
fn still_running(pidfd: &OwnedFd) -> bool {
    // Signal 0 checks without sending anything.
    // SAFETY: a valid pidfd, no siginfo, no flags.
    let sent = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    sent == 0
}

/// Enter the namespaces and root of process `pid`; for a machine, `machine`
/// names it, and its leader must still be `pid` once the process is held.
fn enter_process(pid: u32, machine: Option<&str>) -> Result<(), String> {
    need_root("entering a process's namespaces")?;
    // A chroot's processes are this system's: a process id from inside one
    // would lead out of it.
    if crate::host::facts::in_chroot() {
        return Err(
            "this process is in a chroot, whose processes are the system's own: entering one would leave the chroot".into(),
        );
    }
    // Process ids are this process's process namespace's; so must /proc's be.
    let me = std::fs::read_link("/proc/self")
        .map_err(|e| format!("/proc is not mounted here, to find the process: {e}"))?;
    if me != Path::new(&nix::unistd::getpid().to_string()) {
        return Err("/proc here belongs to another process namespace than this process's".into());
    }
    let pidfd = pidfd_open(pid).map_err(|e| format!("process {pid}: {e}"))?;
    if let Some(name) = machine {
        // The machine may have been restarted since its leader was read.
        if machine_leader(name)? != pid {
            return Err(format!(
                "the leader of machine {name} changed while it was entered"
            ));
        }
    }
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let root = nix::fcntl::open(
        &proc.join("root"),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("opening the root of process {pid}: {e}"))?;
    let mut flags = CloneFlags::empty();
    for (name, flag) in NAMESPACES {
        // Each must be there to be entered (and readable: the kernel's own check).
        identity(&proc.join("ns").join(name))?;
        flags |= flag;
    }
    if identity(&proc.join("ns/user"))? != identity(Path::new("/proc/self/ns/user"))? {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    // The pid was the process held only if it is still running now.
    if !still_running(&pidfd) {
        return Err(format!("process {pid} ended while it was entered"));
    }
    // A process whose root is this system's own is in no container (PID 1,
    // the runtime's own processes, a service with private mounts or network):
    // its files are this system's, which no namespace grant is for.
    if identity(&proc.join("root"))? == identity(Path::new("/"))? {
        return Err(format!(
            "process {pid} is in no container: its root directory is this system's own"
        ));
    }
    nix::sched::setns(&pidfd, flags)
        .map_err(|e| format!("entering the namespaces of process {pid}: {e}"))?;
    // setns moved this process to the root of the mount namespace; the
    // process's own root may lie beneath it (a chroot inside the container).
    nix::unistd::fchdir(&root).map_err(|e| format!("fchdir to the root: {e}"))?;
    chroot(".").map_err(|e| format!("chroot to the root of process {pid}: {e}"))?;
    chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    Ok(())
}

fn enter_user(name: &str) -> Result<(), String> {
    let user = User::from_name(name)
        .map_err(|e| format!("looking up the user: {e}"))?
        .ok_or_else(|| "no such user".to_owned())?;
    if user.uid != geteuid() {
        need_root("becoming another user")?;
        let c_name = CString::new(name).map_err(|_| "user name has a NUL byte".to_owned())?;
        // Groups first: once the uid is dropped, they can no longer be changed.
        initgroups(&c_name, user.gid).map_err(|e| format!("initgroups: {e}"))?;
        setgid(user.gid).map_err(|e| format!("setgid {}: {e}", user.gid))?;
        setuid(user.uid).map_err(|e| format!("setuid {}: {e}", user.uid))?;
    }
    let path = if user.uid == Uid::from_raw(0) {
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    } else {
        "/usr/local/bin:/usr/bin:/bin"
    };
    // SAFETY: a control child enters contexts right after fork, single-threaded
    // (checked before the fork), so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("HOME", &user.dir);
        std::env::set_var("USER", name);
        std::env::set_var("LOGNAME", name);
        std::env::set_var("SHELL", &user.shell);
        std::env::set_var("PATH", path);
    }
    umask(Mode::from_bits_truncate(0o022));
    if chdir(&user.dir).is_err() {
        chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Only failures are tried in the test process: they are refused before
    // anything changes. Entering for real is tested end to end.
    #[test]
    fn a_context_that_cannot_be_entered_says_which_and_why() {
        let missing: Context = "chroot:/no/such/dir".parse().unwrap();
        let error = enter(&missing).unwrap_err();
        assert_eq!(error.context, "chroot:/no/such/dir");
        assert!(
            error.message.contains("No such file") || error.message.contains("needs root"),
            "{error}"
        );
        let nobody: Context = "setuid:no-such-user-here".parse().unwrap();
        assert_eq!(
            enter(&nobody).unwrap_err().to_string(),
            "setuid:no-such-user-here: no such user"
        );
    }

    #[test]
    fn a_process_that_cannot_be_entered_says_why() {
        let gone: Context = format!("nsenter:{}", consfig_contract::PID_MAX)
            .parse()
            .unwrap();
        let error = enter(&gone).unwrap_err();
        assert!(
            error.message.contains("no such process") || error.message.contains("needs root"),
            "{error}"
        );
    }

    #[test]
    fn a_process_in_a_chroot_it_entered_says_so_without_proc() {
        use nix::sys::wait::{WaitStatus, waitpid};
        use nix::unistd::{ForkResult, fork};
        if !geteuid().is_root() {
            return; // Entering a chroot needs root.
        }
        let dir = tempfile::tempdir().unwrap();
        let bare = Context::Chroot {
            path: std::fs::canonicalize(dir.path()).unwrap(),
            mounts: false,
        };
        // SAFETY: the child enters the chroot, asks, and exits.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let code = match enter(&bare) {
                    Ok(()) if crate::host::facts::in_chroot() => 0,
                    Ok(()) => 1,
                    Err(_) => 2,
                };
                unsafe { nix::libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
            }
        }
    }
}
