//! Nothing a form starts outlives it. Each form's process (the grandchild)
//! leads a process group of its own, which its commands join; when the form
//! ends — with an outcome, killed at its time limit, or because the runtime
//! is gone — the control child kills that group whole. A control child is
//! also a child subreaper, so a process that left the group (`setsid`) is
//! handed to it when its parent dies, and is killed too. If the control child
//! itself is told to stop (its parent died: SIGTERM, the parent-death signal),
//! it kills the form's group on its way out.
//!
//! What this cannot reach: a set-uid program a command started under another
//! user (a process may only signal its own user's), and what a service
//! manager starts on a command's request (`systemctl start`): that is not a
//! descendant. Under an emulator without child subreapers (qemu-user 7 says
//! EINVAL; a Linux kernel never does), a process that left the group is not
//! caught either.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, killpg, sigaction};
use nix::sys::stat::Mode;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::{Pid, getpid, getppid, setpgid};

use super::fork::proc_dir;

/// The signal a control child gets when its parent dies.
pub const PARENT_DEATH: Signal = Signal::SIGTERM;

/// Rounds of killing orphans before giving up on a process that keeps forking.
const MAX_ROUNDS: usize = 10_000;

/// The process group of the form running in this control child; 0 for none.
static FORM_GROUP: AtomicI32 = AtomicI32::new(0);

/// A pidfd of this control child, which its forms inherit: a form in a
/// container's process namespace cannot see its parent's id (getppid is 0)
/// and asks this instead whether its parent still runs. -1 for none.
static CONTROL_PIDFD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn stop_form_and_exit(_: libc::c_int) {
    let group = FORM_GROUP.load(Ordering::Relaxed);
    // SAFETY: kill and _exit are async-signal-safe.
    unsafe {
        if group > 0 {
            libc::kill(-group, libc::SIGKILL);
        }
        libc::_exit(1)
    }
}

/// Make this process (a control child, after entering its contexts, which
/// clear the parent-death signal) one that stops with its parent, taking its
/// form down with it, and that is handed the orphans of its forms. Fails if
/// the parent `parent` is already gone.
pub fn become_control(parent: Pid) -> Result<(), String> {
    let action = SigAction::new(
        SigHandler::Handler(stop_form_and_exit),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe { sigaction(PARENT_DEATH, &action) }
        .map_err(|e| format!("handling the parent's death: {e}"))?;
    nix::sys::prctl::set_pdeathsig(PARENT_DEATH)
        .map_err(|e| format!("setting the parent-death signal: {e}"))?;
    match nix::sys::prctl::set_child_subreaper(true) {
        Ok(()) => {}
        // Every Linux since 3.4 has it; an emulator may not (qemu-user 7):
        // there, the form's process group is all that is stopped.
        Err(Errno::EINVAL) => {}
        Err(e) => return Err(format!("becoming the reaper of the forms' orphans: {e}")),
    }
    // The parent may have died before the signal was asked for.
    if getppid() != parent {
        return Err("the process that asked for it is gone".to_owned());
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // (close-on-exec: commands never get it).
    let own = unsafe { libc::syscall(libc::SYS_pidfd_open, getpid().as_raw(), 0) };
    // One inherited from the control child this one was forked under is not ours.
    let inherited = CONTROL_PIDFD.swap(if own < 0 { -1 } else { own as i32 }, Ordering::Relaxed);
    if inherited >= 0 {
        // SAFETY: that descriptor is used nowhere else in this process.
        unsafe { libc::close(inherited) };
    }
    Ok(())
}

/// Whether the control child this form was forked by still runs, asked
/// through its pidfd (readable once it has exited).
fn control_running() -> bool {
    let fd = CONTROL_PIDFD.load(Ordering::Relaxed);
    if fd < 0 {
        return false;
    }
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    unsafe { libc::poll(&mut poll, 1, 0) == 0 }
}

/// In a form's process, right after the fork: its own process group, the
/// default action for the control child's signal, and death with it.
pub fn become_form(parent: Pid) {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: restoring the default action.
    let _ = unsafe { sigaction(PARENT_DEATH, &default) };
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    // In a container's process namespace the parent, outside it, has no id
    // here: getppid says 0.
    let ppid = getppid();
    if ppid != parent && !(ppid.as_raw() == 0 && control_running()) {
        crate::runtime::fork::exit_child(1);
    }
}

/// In the control child, right after forking a form's process `child`.
pub fn form_started(child: Pid) {
    // Both sides set the group, so it is set whichever runs first.
    let _ = setpgid(child, child);
    FORM_GROUP.store(child.as_raw(), Ordering::Relaxed);
}

/// End the form whose process is `child`: kill it first when `kill_it`,
/// else wait for it to exit; then kill everything left of it, and reap it.
/// Its exit status.
pub fn end_form(child: Pid, kill_it: bool) -> nix::Result<WaitStatus> {
    if kill_it {
        let _ = killpg(child, Signal::SIGKILL);
        let _ = kill(child, Signal::SIGKILL);
    }
    // Waited for without reaping: while it is a zombie its pid cannot be
    // reused, so the group below is surely its own.
    retry(|| waitid(Id::Pid(child), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT))?;
    let _ = killpg(child, Signal::SIGKILL);
    let status = retry(|| waitpid(child, None));
    FORM_GROUP.store(0, Ordering::Relaxed);
    reap_orphans();
    status
}

/// `call` again while a signal interrupts it.
fn retry<T>(mut call: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match call() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Wait for `pid` (a child) to end, and reap it.
pub fn reap(pid: Pid) -> nix::Result<WaitStatus> {
    retry(|| waitpid(pid, None))
}

/// Ask `pid` (a control child) to stop with `PARENT_DEATH`, which stops its
/// form too; kill it if it has not within `grace`. Reaped either way.
pub fn stop(pid: Pid, grace: Duration) {
    let _ = kill(pid, PARENT_DEATH);
    let until = Instant::now() + grace;
    while Instant::now() < until {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => return,
        }
    }
    let _ = kill(pid, Signal::SIGKILL);
    let _ = reap(pid);
}

/// Kill and reap every child of this process: the orphans its forms left,
/// handed to it as their subreaper, until none is left.
pub fn reap_orphans() {
    for _ in 0..MAX_ROUNDS {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::EINTR) => {}
            Err(_) => return,
            Ok(WaitStatus::StillAlive) => {
                for pid in children() {
                    let _ = killpg(pid, Signal::SIGKILL);
                    let _ = kill(pid, Signal::SIGKILL);
                }
                let _ = waitpid(None::<Pid>, None);
            }
            Ok(_) => {}
        }
    }
}

/// This process's living children, as /proc lists them.
fn children() -> Vec<Pid> {
    let Ok(proc) = proc_dir() else {
        return Vec::new();
    };
    let read = |path: &str| {
        let file = nix::fcntl::openat(
            proc,
            path,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(file), &mut text).ok()?;
        Some(text)
    };
    // The kernel's list, where it keeps one; else every process's parent.
    if let Some(list) = read("thread-self/children") {
        return list
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .map(Pid::from_raw)
            .collect();
    }
    let Ok(mut dir) = Dir::openat(
        proc,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let me = getpid();
    let pids: Vec<i32> = dir
        .iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().ok()?.parse().ok())
        .collect();
    pids.into_iter()
        .filter(|pid| {
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            read(&format!("{pid}/stat")).is_some_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok())
                    == Some(me.as_raw())
            })
        })
        .map(Pid::from_raw)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_listed_from_proc() {
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let listed = children();
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert!(
            listed.contains(&Pid::from_raw(sleeper.id() as i32)),
            "{listed:?}"
        );
    }
}
