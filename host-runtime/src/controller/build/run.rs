//! Running one build tool (pip, npm, componentize-py, esbuild, jco): its
//! output captured (the end of each stream kept, which is where tools say
//! what went wrong), a time limit, and at that limit, or when the
//! controller dies, the tool killed with everything it started.

use std::io;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::controller::own_group;
use crate::host::collect::{poll_timeout, read_both, wait_for_exit};

/// How much of the end of each stream is kept.
const KEPT: usize = 256 * 1024;

/// What a tool printed, and how it ended.
#[derive(Debug)]
pub struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ToolOutput {
    /// Its stderr, or its stdout when it said nothing there, as text.
    pub fn said(&self) -> String {
        let bytes = if self.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
            &self.stderr
        } else {
            &self.stdout
        };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Spawn(io::Error),
    #[error("reading its output: {0}")]
    Io(io::Error),
    #[error(
        "still running after {} and killed",
        humantime::format_duration(*limit)
    )]
    TimedOut { limit: Duration },
}

/// Keep the last [`KEPT`] bytes of what arrives.
fn keep_tail(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(bytes);
    if buffer.len() > KEPT {
        buffer.drain(..buffer.len() - KEPT);
    }
}

/// Run `cmd` (stdin from /dev/null) to its end, at most `limit`.
pub fn run_tool(cmd: &mut Command, limit: Duration) -> Result<ToolOutput, RunError> {
    let mut child = own_group::spawn(cmd).map_err(RunError::Spawn)?;
    let deadline = Instant::now() + limit;
    let mut streams = [Vec::new(), Vec::new()];
    let timeout = || poll_timeout(deadline).ok_or(RunError::TimedOut { limit });
    let result = read_both(
        &mut child,
        timeout,
        |stream, bytes| {
            keep_tail(&mut streams[stream as usize], bytes);
            Ok(())
        },
        RunError::Io,
    )
    .and_then(|()| wait_for_exit(&mut child, || timeout().map(drop), RunError::Io));
    match result {
        Ok(status) => {
            let [stdout, stderr] = streams;
            Ok(ToolOutput {
                status,
                stdout,
                stderr,
            })
        }
        Err(e) => {
            own_group::kill(&mut child);
            Err(e)
        }
    }
}

/// The last `lines` lines of `text`, at most about `chars` bytes of them,
/// saying how many lines were left out before.
pub fn tail(text: &str, lines: usize, chars: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    let mut start = all.len().saturating_sub(lines);
    while start + 1 < all.len() && all[start..].iter().map(|l| l.len() + 1).sum::<usize>() > chars {
        start += 1;
    }
    let mut kept = all[start..].join("\n");
    if kept.len() > chars {
        // One line longer than the whole allowance: its end.
        let cut = (kept.len() - chars..=kept.len())
            .find(|&i| kept.is_char_boundary(i))
            .unwrap_or(kept.len());
        kept = format!("…{}", &kept[cut..]);
    }
    if start > 0 {
        format!("[{start} earlier lines left out]\n{kept}")
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_captured_and_a_hang_is_killed_at_the_limit_with_its_children() {
        let out = run_tool(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.said(), "err\n");

        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        let e = run_tool(
            Command::new("sh").args([
                "-c",
                &format!("sleep 60 & echo $! > {}; wait", pid_file.display()),
            ]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(e, RunError::TimedOut { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The tool's own child is gone too (a zombie at most, until init reaps it).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let running = state
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'));
            if !running {
                break;
            }
            assert!(Instant::now() < deadline, "the tool's child still runs");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn the_tail_keeps_the_last_lines_and_says_what_was_left_out() {
        let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(
            tail(&text, 3, 1000),
            "[7 earlier lines left out]\nline 8\nline 9\nline 10"
        );
        assert_eq!(tail("a\nb\n", 5, 1000), "a\nb");
        assert_eq!(
            tail(&text, 10, 15),
            "[8 earlier lines left out]\nline 9\nline 10"
        );
        let long = format!("first\n{}", "é".repeat(100));
        assert_eq!(
            tail(&long, 3, 11),
            format!("[1 earlier lines left out]\n…{}", "é".repeat(5))
        );
    }
}
