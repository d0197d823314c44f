//! `log` and `panicked`: what a module says about the form it runs, kept
//! with the form's output. A panic's message (the guest SDK reports it from
//! its panic hook, before the module aborts) becomes part of the form's
//! failure reason.

use super::bindings::consfig::module::host::Level;
use super::state::HostState;

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
            self.panic = Some(message.trim().to_owned());
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
    }
}
