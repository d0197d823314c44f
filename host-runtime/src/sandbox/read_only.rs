//! Check mode's promise that nothing changes, kept by the kernel for the
//! commands a module says only look: each runs in a mount namespace of its
//! own where every mount is read-only, and a network namespace of its own
//! with no interface up. A command that would write fails instead of
//! changing the host, whatever its module said of it. Only a scratch
//! directory is writable, a fresh tmpfs over /dev/shm that `TMPDIR` names
//! and that vanishes with the command: programs that only look but need a
//! temporary file (apt-get -s and apt-cache, reading signed package lists)
//! can run.
//!
//! A check-mode subdeployment as another user enters the view once, for
//! the whole process, while it is still root ([`confine_process`]): after
//! the change of user it could make one only in a user namespace of its
//! own, whose maps a process that changed its uid may not write (it is no
//! longer dumpable). Its commands then run in that view, sharing its
//! scratch directory, which vanishes with the subdeployment.

use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{getgid, getuid};

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const AT_RECURSIVE: libc::c_int = 0x8000;

/// Where a confined command may write: a tmpfs of its own, mounted over
/// the tree's /dev/shm (where it has one), gone when the command ends.
pub const SCRATCH: &str = "/dev/shm";

/// Whether this whole process is in the read-only view already
/// ([`confine_process`]): its commands are then, without more ado.
static PROCESS_IN_VIEW: AtomicBool = AtomicBool::new(false);

/// Put this whole process (and so every command it runs) in the read-only
/// view, with one scratch directory for all. Only a control child forked
/// for the purpose calls this, single-threaded, as root, before it becomes
/// another user.
pub fn confine_process() -> io::Result<()> {
    enter_read_only_view()?;
    PROCESS_IN_VIEW.store(true, Ordering::SeqCst);
    Ok(())
}

/// Make `command` run in a read-only view of the host, without network.
/// If the view cannot be made, the command fails to start, saying why.
pub fn confine(command: &mut Command) {
    command.env("TMPDIR", SCRATCH);
    // SAFETY: the closure runs in the child between fork and exec. The
    // runtime is single-threaded when it runs commands (it forks per form),
    // so nothing it uses can be held by another thread.
    unsafe {
        command.pre_exec(enter_read_only_view);
    }
}

fn enter_read_only_view() -> io::Result<()> {
    if PROCESS_IN_VIEW.load(Ordering::SeqCst) {
        return Ok(());
    }
    let (uid, gid) = (getuid(), getgid());
    let private = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET;
    if unshare(private).is_err() {
        // Not root (a `setuid:` subdeployment): a user namespace of its own
        // gives the right to, mapping only this user, so nothing is gained.
        unshare(private | CloneFlags::CLONE_NEWUSER).map_err(|e| {
            io::Error::other(format!(
                "check mode runs read-only commands in a read-only view of the host, and none could be made here: {e}"
            ))
        })?;
        write_proc("/proc/self/setgroups", format_args!("deny"))?;
        write_proc("/proc/self/uid_map", format_args!("{uid} {uid} 1"))?;
        write_proc("/proc/self/gid_map", format_args!("{gid} {gid} 1"))?;
    }
    // Inside a chroot the root may not be a mount point: then its mounts
    // were made private when it was entered.
    match mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    ) {
        Ok(()) | Err(nix::Error::EINVAL) => {}
        Err(e) => return Err(e.into()),
    }
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a valid path and a mount_attr of the size given.
    let done = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if done != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::other(format!(
            "check mode runs read-only commands with every mount read-only, and could not make them so: {e}"
        )));
    }
    // A tree without /dev/shm has no scratch directory: commands needing
    // one fail there as they would with no tmpfs at all.
    if std::path::Path::new(SCRATCH).is_dir() {
        mount(
            Some("tmpfs"),
            SCRATCH,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=64m,mode=1777"),
        )
        .map_err(|e| {
            io::Error::other(format!(
                "check mode gives read-only commands a scratch tmpfs at {SCRATCH}, and could not mount it: {e}"
            ))
        })?;
    }
    Ok(())
}

fn write_proc(path: &str, text: std::fmt::Arguments<'_>) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_fmt(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confined_command_reads_but_cannot_write_or_connect() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("seen"), "seen\n").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = format!(
            "cat seen; echo x > written || echo refused; echo > /dev/null && echo null-ok; \
             (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo connected || echo offline; \
             echo x > \"$TMPDIR/consfig-scratch-test\" && echo scratch-ok"
        );
        let mut command = Command::new("bash");
        command.args(["-c", &script]).current_dir(dir.path());
        confine(&mut command);
        let output = command.output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "seen\nrefused\nnull-ok\noffline\nscratch-ok\n",
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!dir.path().join("written").exists());
        // The scratch directory was the command's own.
        assert!(
            !std::path::Path::new(SCRATCH)
                .join("consfig-scratch-test")
                .exists()
        );
        // Outside the view, the same command writes.
        let free = Command::new("bash")
            .args(["-c", "echo x > written"])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(free.success() && dir.path().join("written").exists());
    }
}
