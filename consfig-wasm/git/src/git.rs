//! Running git safely, and what every property checks of its arguments
//! before git sees them: URLs, paths, revisions, user names.

use consfig_guest::prelude::*;

/// The program every grant and command names.
pub const GIT: &str = "/usr/bin/git";

/// What removes a DEST that is not a clone of the URL.
pub const RM: &str = "/usr/bin/rm";

/// What gives a configuration file that git replaced back to its owner.
pub const CHOWN: &str = "/usr/bin/chown";

/// What every git command is given first: no `ext::` transport (it runs a
/// shell command from the URL), no hooks and no file-system monitor (both
/// run programs a repository names).
pub const SAFE: [&str; 6] = [
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
];

/// A git command that only looks: check mode runs it.
pub fn query() -> Command {
    safe(Command::query(GIT))
}

/// A git command that changes the host: check mode skips it.
pub fn change() -> Command {
    safe(Command::change(GIT))
}

fn safe(command: Command) -> Command {
    // Never wait for a password on a terminal: fail instead.
    command.args(SAFE).env("GIT_TERMINAL_PROMPT", "0")
}

/// A git query's output, which must exit 0, without its final newline.
pub fn ask(command: Command) -> Result<String> {
    let output = command.succeed_quietly()?;
    Ok(output.trim_end_matches('\n').to_owned())
}

/// Running a query without logging what it printed (plumbing output is
/// data, not news).
trait Quietly {
    fn succeed_quietly(self) -> Result<String>;
}

impl Quietly for Command {
    fn succeed_quietly(self) -> Result<String> {
        let shown = self.to_string();
        let output = run(self)?;
        ensure!(
            output.success(),
            "{shown}: {}{}",
            output.status(),
            output.stderr_suffix()
        );
        Ok(output.stdout_str().into_owned())
    }
}

/// A URL git may fetch from: not an option, one word, and no `ext::` or
/// `fd::` transport (the first runs a shell command given in the URL).
pub fn check_url(url: &str) -> Result<()> {
    ensure!(!url.is_empty(), "the URL is empty");
    ensure!(
        !url.starts_with('-'),
        "the URL {url:?} starts with `-`: git would read it as an option"
    );
    ensure!(
        !url.chars().any(|c| c.is_whitespace() || c.is_control()),
        "the URL {url:?} contains whitespace or control characters"
    );
    let lower = url.to_ascii_lowercase();
    ensure!(
        !lower.starts_with("ext::") && !lower.starts_with("fd::"),
        "the URL {url:?} uses the `ext::` or `fd::` transport, which runs commands: refused"
    );
    Ok(())
}

/// An absolute path of a working copy: no `.` or `..` component, no
/// control characters, not `/`.
pub fn check_path(what: &str, path: &str) -> Result<()> {
    ensure!(
        path.starts_with('/')
            && path != "/"
            && !path.chars().any(char::is_control)
            && !path.split('/').any(|c| c == "." || c == ".."),
        "the {what} {path:?} is not an absolute path other than `/` (without `.`, `..` or \
         control characters)"
    );
    Ok(())
}

/// A revision: a branch, a tag or a commit, spelled as `git check-ref-format`
/// allows (so never an option, a range or a revision expression).
pub fn check_rev(rev: &str) -> Result<()> {
    let valid = !rev.is_empty()
        && !rev.starts_with(['-', '/', '.'])
        && !rev.ends_with(['/', '.'])
        && !rev.ends_with(".lock")
        && !rev.contains("..")
        && !rev.contains("@{")
        && !rev.contains("//")
        && rev != "@"
        && !rev
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c));
    ensure!(
        valid,
        "the rev {rev:?} is not a branch, tag or commit name (no leading `-`, whitespace, \
         `..`, `@{{` or any of ~^:?*[\\)"
    );
    Ok(())
}

/// A user to run git as: a name the `user` module would accept.
pub fn check_user(user: &str) -> Result<()> {
    let valid = user.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-$".contains(c));
    ensure!(valid, "the user {user:?} is not a user name");
    Ok(())
}

/// Whether a revision is spelled as a commit (hex digits, at least 4): it
/// is cloned as one rather than as a branch or tag.
pub fn looks_like_commit(rev: &str) -> bool {
    rev.len() >= 4 && rev.chars().all(|c| c.is_ascii_hexdigit())
}

/// A commit written out in full (40 hex digits, or 64 in a SHA-256 repository).
pub fn is_full_hash(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.chars().all(|c| c.is_ascii_hexdigit())
}

/// What a revision names at the remote, from `git ls-remote`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A branch, and the commit it points to.
    Branch(String, String),
    /// A tag, and the commit it points to (peeled).
    Tag(String, String),
    /// A commit, written out in full or abbreviated.
    Commit(String),
}

/// What `rev` names at `remote` (a URL or a remote's name): a branch, else a
/// tag, else — when it looks like one — a commit. The remote is asked with
/// `git ls-remote`, a query: a check asks it too (but commands have no
/// network in check mode, so a remote across the network cannot be asked
/// there).
pub fn remote_target(dir: Option<&str>, remote: &str, rev: &str) -> Result<Target> {
    let mut command = query();
    if let Some(dir) = dir {
        command = command.args(["-C", dir]);
    }
    let command = command.args(["ls-remote", "--", remote]);
    let listing =
        ask(command).map_err(|e| Error::new(format!("cannot list the refs of {remote}: {e}")))?;
    let refs: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect();
    let find = |name: &str| {
        refs.iter()
            .find(|(_, r)| *r == name)
            .map(|(sha, _)| (*sha).to_owned())
    };
    if let Some(sha) = find(&format!("refs/heads/{rev}")) {
        return Ok(Target::Branch(rev.to_owned(), sha));
    }
    let tag = format!("refs/tags/{rev}");
    if let Some(sha) = find(&format!("{tag}^{{}}")).or_else(|| find(&tag)) {
        return Ok(Target::Tag(rev.to_owned(), sha));
    }
    ensure!(
        looks_like_commit(rev),
        "{remote} has no branch or tag {rev:?}"
    );
    Ok(Target::Commit(rev.to_ascii_lowercase()))
}

/// The commit `rev` names in the repository at `dir`, if it has it.
pub fn local_commit(dir: &str, rev: &str) -> Result<Option<String>> {
    let command = query().args([
        "-C",
        dir,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        &format!("{rev}^{{commit}}"),
    ]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(Some(output.stdout_str().trim().to_owned())),
        Some(1) => Ok(None),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}

/// The commit checked out at `dir`; `None` in a repository without commits.
pub fn head(dir: &str) -> Result<Option<String>> {
    local_commit(dir, "HEAD")
}

/// Whether `dir` is the top of a working copy: it holds `.git`.
pub fn is_working_copy(dir: &str) -> Result<bool> {
    Ok(fs::stat(format!("{dir}/.git"))?.is_some())
}

/// Remove what is at `path` and everything beneath it (`rm -rf`), not
/// crossing into other file systems mounted beneath it.
pub fn remove_tree(path: &str) -> Result<()> {
    Command::change(RM)
        .args(["-rf", "--one-file-system", "--", path])
        .succeed()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_would_be_options_or_run_commands_are_refused() {
        for url in [
            "https://example.org/r.git",
            "git@example.org:r.git",
            "/srv/repo",
            "file:///srv/repo",
        ] {
            check_url(url).unwrap();
        }
        for url in [
            "",
            "-uhttps://x",
            "--upload-pack=touch /tmp/x",
            "ext::sh -c touch% /tmp/pwned",
            "EXT::sh",
            "fd::3",
            "https://x/ y",
            "https://x/\ny",
        ] {
            assert!(check_url(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn paths_are_absolute_and_plain() {
        check_path("DEST", "/srv/app").unwrap();
        for path in [
            "srv/app",
            "-C",
            "/",
            "/srv/../etc",
            "/srv/./app",
            "/srv/a\nb",
        ] {
            assert!(check_path("DEST", path).is_err(), "{path:?}");
        }
    }

    #[test]
    fn revisions_are_names_not_options_or_expressions() {
        for rev in ["main", "v1.2.0", "release/2024", "0123abcd", "feature_x-1"] {
            check_rev(rev).unwrap();
        }
        for rev in [
            "",
            "-b",
            "--upload-pack=x",
            "main..evil",
            "HEAD~1",
            "main^",
            "a b",
            "a\nb",
            "@{-1}",
            "x:y",
            "/abs",
            "a.lock",
        ] {
            assert!(check_rev(rev).is_err(), "{rev:?}");
        }
    }

    #[test]
    fn hashes_in_full() {
        assert!(is_full_hash(&"a".repeat(40)));
        assert!(!is_full_hash("abc123"));
        assert!(!is_full_hash(&"g".repeat(40)));
    }
}
