//! `log` and `panicked`: what a module says about the form it runs, kept
//! with the form's output. A panic's message (the guest SDK reports it from
//! its panic hook, before the module aborts) becomes part of the form's
//! failure reason.

use super::bindings::consfig::module::host::Level;
use super::state::HostState;

/// The most of a panic message kept for the form's reason: a module may
/// call `panicked` with anything, and a reason is not output to flood.
const MAX_PANIC_MESSAGE: usize = 4096;

impl HostState {
    pub fn log(&mut self, level: Level, message: &str) {
        let prefix = match level {
            Level::Debug => "debug: ",
            Level::Info => "",
            Level::Warn => "warning: ",
            Level::Error => "error: ",
        };
        let line = format!("{prefix}{}\n", message.trim_end_matches('\n'));
        self.output().log(&line);
    }

    pub fn panicked(&mut self, message: &str) {
        // The first panic is the one that aborts; a panic while panicking
        // says less.
        if self.panic.is_none() {
            let message = message.trim();
            let mut end = message.len().min(MAX_PANIC_MESSAGE);
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            let cut = if end < message.len() { "…" } else { "" };
            self.panic = Some(format!("{}{cut}", &message[..end]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::host_with;

    #[test]
    fn log_lines_and_panics_reach_the_report() {
        let mut host = host_with(&[]);
        host.log(Level::Info, "plain\n");
        host.log(Level::Warn, "careful");
        host.log(Level::Debug, "detail");
        host.panicked("panicked at src/lib.rs:1:1: first");
        host.panicked("panicked at src/lib.rs:2:1: second");
        let report = host.take_report();
        assert_eq!(report.output, "plain\nwarning: careful\ndebug: detail\n");
        assert_eq!(
            report.panic.as_deref(),
            Some("panicked at src/lib.rs:1:1: first")
        );
        assert!(host.take_report().panic.is_none(), "one form's panic only");
        // A module may say anything here: what is kept is bounded.
        host.panicked(&"é".repeat(MAX_PANIC_MESSAGE));
        let kept = host.take_report().panic.unwrap();
        assert!(
            kept.len() <= MAX_PANIC_MESSAGE + "…".len(),
            "{}",
            kept.len()
        );
        assert!(kept.ends_with('…'));
    }
}
