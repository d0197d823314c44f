//! Check mode's `--diff`: a unified diff of each file a form would change.

use crate::sandbox::overlay::{Entry, FileChange};
use crate::wire::terminal::one_line;

/// A unified diff of one change, for people.
pub fn render_diff(change: &FileChange) -> String {
    // On one line whatever its bytes, so it cannot pass for a line of its own.
    let path = one_line(&change.path.to_string_lossy()).into_owned();
    let text = |entry: &Entry| match entry {
        Entry::File { content, .. } => std::str::from_utf8(content).ok().map(str::to_owned),
        _ => Some(String::new()),
    };
    let describe = |entry: &Entry| match entry {
        Entry::File { mode, .. } => format!("file, mode {mode:o}"),
        Entry::Dir { mode } => format!("directory, mode {mode:o}"),
        Entry::Absent => "absent".to_owned(),
        Entry::Other => "not a file".to_owned(),
    };
    let mut out = format!(
        "--- {path} ({})\n+++ {path} ({})\n",
        describe(&change.before),
        describe(&change.after)
    );
    match (text(&change.before), text(&change.after)) {
        (Some(old), Some(new)) => {
            let diff = similar::TextDiff::from_lines(&old, &new);
            for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
                out.push_str(&hunk.to_string());
            }
        }
        _ => out.push_str("binary contents differ\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_unified_diffs() {
        let change = FileChange {
            path: "/etc/motd".into(),
            before: Entry::text("a\nb\n"),
            after: Entry::text("a\nc\n"),
        };
        let diff = render_diff(&change);
        assert!(diff.contains("--- /etc/motd (file, mode 644)"), "{diff}");
        assert!(diff.contains("-b\n+c\n"), "{diff}");
    }
}
