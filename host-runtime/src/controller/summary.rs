//! What a deploy came to, per host and for the whole run: counts of the
//! host's forms by status (a subdeployment's forms are part of the form that
//! started them, counted once, as it), whether the host could be reached,
//! bytes sent, and the exit code Consfigurator uses (0 no change, 23
//! changes, 22 failures). In check mode a form that is `unknown` counts
//! apart: not a failure, but not known to be unchanged either (23).

use serde::Serialize;

use crate::wire::outcome::Status;

/// Exit codes, as Consfigurator's.
pub const EXIT_UNCHANGED: i32 = 0;
pub const EXIT_CHANGED: i32 = 23;
pub const EXIT_FAILED: i32 = 22;

/// Totals for one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostSummary {
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Check mode: forms that failed after a step check mode could not take.
    pub unknown: usize,
    /// Set when the host could not be deployed at all (connection, runtime, load).
    pub error: Option<String>,
    /// The error was in reaching the host: connecting, its key, logging in.
    pub unreachable: bool,
    pub modules_sent: usize,
    /// Files of the consfig sent (each content once).
    pub files_sent: usize,
    /// Module, file and runtime bytes sent, as they crossed the wire (compressed).
    pub bytes_sent: u64,
    pub runtime_bytes_sent: u64,
}

impl HostSummary {
    pub fn count(&mut self, status: Status) {
        match status {
            Status::Unchanged => self.unchanged += 1,
            Status::Changed => self.changed += 1,
            Status::Failed => self.failed += 1,
            Status::Unknown => self.unknown += 1,
        }
    }

    /// One word for the recap.
    pub fn state(&self) -> &'static str {
        match (
            self.unreachable,
            &self.error,
            self.failed,
            self.unknown,
            self.changed,
        ) {
            (true, ..) => "unreachable",
            (_, Some(_), ..) | (_, _, 1.., _, _) => "failed",
            (_, _, _, 1.., _) => "unknown",
            (_, _, _, _, 1..) => "changed",
            _ => "unchanged",
        }
    }

    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 || self.error.is_some() {
            EXIT_FAILED
        } else if self.changed > 0 || self.unknown > 0 {
            EXIT_CHANGED
        } else {
            EXIT_UNCHANGED
        }
    }
}

/// The exit code of a deploy of several hosts: the worst of them.
pub fn combined_exit_code<'a>(summaries: impl IntoIterator<Item = &'a HostSummary>) -> i32 {
    summaries
        .into_iter()
        .map(HostSummary::exit_code)
        .fold(EXIT_UNCHANGED, |worst, code| match (worst, code) {
            (EXIT_FAILED, _) | (_, EXIT_FAILED) => EXIT_FAILED,
            (EXIT_CHANGED, _) | (_, EXIT_CHANGED) => EXIT_CHANGED,
            _ => EXIT_UNCHANGED,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_consfigurator() {
        let mut s = HostSummary::default();
        s.count(Status::Unchanged);
        assert_eq!(s.exit_code(), 0);
        s.count(Status::Unknown);
        assert_eq!((s.exit_code(), s.state()), (23, "unknown"));
        let mut unknown_only = HostSummary::default();
        unknown_only.count(Status::Unknown);
        assert_eq!(unknown_only.exit_code(), 23, "unknown is not a failure");
        s.count(Status::Changed);
        assert_eq!(s.exit_code(), 23);
        s.count(Status::Failed);
        assert_eq!(s.exit_code(), 22);
        let unreachable = HostSummary {
            error: Some("down".into()),
            ..Default::default()
        };
        assert_eq!(unreachable.exit_code(), 22);
        let changed = HostSummary {
            changed: 1,
            ..Default::default()
        };
        assert_eq!(combined_exit_code([&HostSummary::default(), &changed]), 23);
        assert_eq!(combined_exit_code([&changed, &unreachable]), 22);
        assert_eq!(combined_exit_code([]), 0);
    }
}
