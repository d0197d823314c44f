//! Programs the controller runs for itself — a data command, a build tool —
//! each in a process group of its own that dies with the controller: at a
//! limit, the whole group is killed, so what the program started goes too.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Start `cmd` with stdin from /dev/null, stdout and stderr piped, in a
/// process group of its own.
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe, and nothing else runs between
    // fork and exec. In a group of its own it misses the terminal's Ctrl-C:
    // it dies with the controller instead.
    unsafe {
        cmd.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from));
    }
    cmd.spawn()
}

/// Kill the group of `child`, which is not reaped yet (so its id is still
/// the group's), and reap it.
pub fn kill(child: &mut Child) {
    let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let _ = child.wait();
}
