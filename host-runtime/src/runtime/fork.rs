//! Forking safely. A fork of a multi-threaded process can inherit a lock
//! held by a thread that no longer exists, so every fork checks first that
//! the process has one thread of its own; and a forked child leaves with
//! `_exit`, so it never runs destructors or atexit handlers that belong to
//! its parent's copy. Threads the process had before its `main` ran are not
//! its own — an emulator's (qemu-user keeps one for itself, and makes it
//! again in every child) — and are not counted.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use nix::dir::Dir;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    #[error(
        "refusing to fork: this process has {0} threads, and a fork of a multi-threaded process is unsafe"
    )]
    Threads(usize),
    #[error("cannot count this process's threads in /proc/self/task: {0}")]
    ThreadCount(std::io::Error),
    #[error("fork: {0}")]
    Fork(nix::Error),
}

/// /proc, opened once, before any chroot: every forked descendant inherits
/// it, so the thread check works even in a chroot with no /proc of its own.
static PROC: OnceLock<Result<OwnedFd, nix::Error>> = OnceLock::new();

/// The host's /proc, as this process (or the first of its ancestors to ask)
/// opened it.
pub fn proc_dir() -> Result<BorrowedFd<'static>, nix::Error> {
    let proc = PROC.get_or_init(|| {
        nix::fcntl::open(
            "/proc",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
    });
    proc.as_ref().map(|fd| fd.as_fd()).map_err(|e| *e)
}

/// Threads of this process, as the kernel lists them.
pub fn thread_count() -> Result<usize, ForkError> {
    let proc = proc_dir().map_err(|e| ForkError::ThreadCount(std::io::Error::from(e)))?;
    // `self` is resolved when looked up, so it names the calling process.
    let mut task = Dir::openat(
        proc,
        "self/task",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ForkError::ThreadCount(e.into()))?;
    let entries = task.iter().filter_map(Result::ok);
    Ok(entries
        .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
        .count())
}

/// Threads the program found when it started beside its main thread:
/// none of its code runs on them.
static NOT_OURS: OnceLock<usize> = OnceLock::new();

/// Note, first thing in `main`, how many threads there are that this
/// program did not start.
pub fn note_threads_at_start() {
    let found = thread_count().map_or(0, |n| n.saturating_sub(1));
    let _ = NOT_OURS.set(found);
}

/// Refuse to go on unless this process has exactly one thread of its own.
pub fn ensure_single_threaded() -> Result<(), ForkError> {
    let not_ours = NOT_OURS.get().copied().unwrap_or(0);
    match thread_count()? {
        n if n <= 1 + not_ours => Ok(()),
        n => Err(ForkError::Threads(n - not_ours)),
    }
}

/// Fork, after checking the process is single-threaded.
pub fn fork() -> Result<nix::unistd::ForkResult, ForkError> {
    ensure_single_threaded()?;
    // SAFETY: the process is single-threaded (checked above), so the child
    // inherits no lock held by another thread.
    unsafe { nix::unistd::fork() }.map_err(ForkError::Fork)
}

/// Exit a forked child without running destructors or atexit handlers that
/// belong to the parent's copy of the process.
pub fn exit_child(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and always sound to call.
    unsafe { libc::_exit(code) }
}
