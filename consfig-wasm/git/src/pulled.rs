//! `git:pulled`: a working copy fast-forwarded to its upstream.

use consfig_guest::prelude::*;

use crate::git;

/// The branch checked out at DEST has every commit of its upstream (the
/// remote and branch `git branch --set-upstream-to` set, as `git clone`
/// sets them): when it lacks some, the upstream is fetched and the branch
/// fast-forwarded to it (`git merge --ff-only`). A branch that has diverged
/// from its upstream fails, and is left as it was.
///
/// Options: `user`, the account that runs git (a subdeployment as that
/// user: a working copy owned by another user is refused by git otherwise).
///
/// Unchanged when the upstream's head (asked with `git ls-remote`) is the
/// checked-out commit or one of its ancestors. Check mode runs the queries
/// and skips fetch and merge, so it predicts exactly — but commands have no
/// network in check mode, so an upstream across the network cannot be
/// asked there, which fails the check. DEST must be a working copy (holding
/// `.git`) with a branch checked out that has an upstream.
#[property]
pub fn pulled(dest: String, user: Option<String>) -> Result<Change> {
    git::check_path("DEST", &dest)?;
    if let Some(user) = user {
        git::check_user(&user)?;
        let form = crate::forms::pulled(dest);
        return subdeploy(&[Context::setuid(&user)], &[form.into()]);
    }
    ensure!(
        git::is_working_copy(&dest)?,
        "{dest} is not a git working copy (it has no .git)"
    );
    let branch = git::ask(git::query().args(["-C", &dest, "symbolic-ref", "--quiet", "HEAD"]))
        .map_err(|e| Error::new(format!("{dest} has no branch checked out: {e}")))?;
    let branch = branch.strip_prefix("refs/heads/").unwrap_or(&branch);
    let config = |key: &str| {
        git::ask(git::query().args(["-C", &dest, "config", "--get", "--", key]))
            .map_err(|_| Error::new(format!("the branch {branch} of {dest} has no upstream")))
    };
    let remote = config(&format!("branch.{branch}.remote"))?;
    let merge = config(&format!("branch.{branch}.merge"))?;
    ensure!(
        !remote.starts_with('-') && !merge.starts_with('-'),
        "the upstream of {branch} in {dest} ({remote} {merge}) is not a remote and branch"
    );
    let listing = git::ask(git::query().args(["-C", &dest, "ls-remote", "--", &remote, &merge]))
        .map_err(|e| Error::new(format!("cannot ask {remote} for {merge}: {e}")))?;
    let upstream = listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .find(|(_, name)| *name == merge)
        .map(|(sha, _)| sha.to_owned())
        .ok_or_else(|| Error::new(format!("{remote} has no {merge}")))?;
    // With the upstream's commit at hand, whether a fast-forward is needed,
    // or possible, is known before fetching: a check predicts a divergence.
    if git::local_commit(&dest, &upstream)?.is_some() {
        if is_ancestor(&dest, &upstream, "HEAD")? {
            return Ok(Change::Unchanged);
        }
        ensure!(
            is_ancestor(&dest, "HEAD", &upstream)?,
            "{branch} of {dest} has diverged from {remote} {merge}: not fast-forwarding it"
        );
    }
    git::change()
        .args(["-C", &dest, "fetch", "--", &remote, &merge])
        .succeed()?;
    git::change()
        .args(["-C", &dest, "merge", "--ff-only", &upstream])
        .succeed()?;
    info!("{dest}: {branch} fast-forwarded to {upstream}");
    Ok(Change::Changed)
}

/// Whether the commit `ancestor` is `descendant` or one of its ancestors.
fn is_ancestor(dest: &str, ancestor: &str, descendant: &str) -> Result<bool> {
    let command = git::query().args([
        "-C",
        dest,
        "merge-base",
        "--is-ancestor",
        ancestor,
        descendant,
    ]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}
