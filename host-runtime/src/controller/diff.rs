//! Check mode's `--diff`: a unified diff of each file a form would change.

use crate::sandbox::overlay::{Entry, FileChange};
use crate::wire::redact::WITHHELD;
use crate::wire::terminal::one_line;

/// A unified diff of one change, for people.
pub fn render_diff(change: &FileChange) -> String {
    // On one line whatever its bytes, so it cannot pass for a line of its own.
    let path = one_line(&change.path.to_string_lossy()).into_owned();
    let text = |entry: &Entry| match entry {
        Entry::File { content, .. } => std::str::from_utf8(content).ok().map(str::to_owned),
        _ => Some(String::new()),
    };
    // The owner is shown where it changes, and known on both sides.
    let owners = matches!(
        (change.before.owner(), change.after.owner()),
        (Some(before), Some(after)) if before != after
    );
    let describe = |entry: &Entry| {
        let what = match entry {
            Entry::File { mode, .. } => format!("file, mode {mode:o}"),
            Entry::Dir { mode, .. } => format!("directory, mode {mode:o}"),
            Entry::Symlink { target, .. } => format!("symlink to {}", one_line(target)),
            Entry::Absent => "absent".to_owned(),
            Entry::Other => "not a file".to_owned(),
        };
        match entry.owner() {
            Some(owner) if owners => format!("{what}, owner {}:{}", owner.uid, owner.gid),
            _ => what,
        }
    };
    let mut out = format!(
        "--- {path} ({})\n+++ {path} ({})\n",
        describe(&change.before),
        describe(&change.after)
    );
    let withheld =
        |entry: &Entry| matches!(entry, Entry::File { content, .. } if content == WITHHELD);
    if withheld(&change.before) || withheld(&change.after) {
        out.push_str("contents not shown: this file holds the host's data\n");
        return out;
    }
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

    #[test]
    fn a_file_holding_data_shows_no_contents() {
        let change = FileChange {
            path: "/etc/db.conf".into(),
            before: Entry::Absent,
            after: Entry::File {
                content: WITHHELD.to_vec(),
                mode: 0o600,
                owner: None,
            },
        };
        let diff = render_diff(&change);
        assert_eq!(
            diff,
            "--- /etc/db.conf (absent)\n+++ /etc/db.conf (file, mode 600)\ncontents not shown: this file holds the host's data\n"
        );
    }

    #[test]
    fn owners_and_symlinks_are_described() {
        let owned = |uid, gid| Entry::File {
            content: b"x\n".to_vec(),
            mode: 0o644,
            owner: Some(crate::sandbox::overlay::Owner { uid, gid }),
        };
        let chowned = render_diff(&FileChange {
            path: "/srv/www/index.html".into(),
            before: owned(0, 0),
            after: owned(33, 33),
        });
        assert_eq!(
            chowned,
            "--- /srv/www/index.html (file, mode 644, owner 0:0)\n+++ /srv/www/index.html (file, mode 644, owner 33:33)\n"
        );
        let unchanged_owner = render_diff(&FileChange {
            path: "/etc/motd".into(),
            before: owned(0, 0),
            after: Entry::text("y\n"),
        });
        assert!(
            unchanged_owner.starts_with("--- /etc/motd (file, mode 644)\n"),
            "{unchanged_owner}"
        );
        let linked = render_diff(&FileChange {
            path: "/srv/app/current".into(),
            before: Entry::Absent,
            after: Entry::Symlink {
                target: "releases/2\nfake".into(),
                owner: None,
            },
        });
        assert_eq!(
            linked.lines().nth(1),
            Some("+++ /srv/app/current (symlink to releases/2\\nfake)"),
            "{linked}"
        );
    }
}
