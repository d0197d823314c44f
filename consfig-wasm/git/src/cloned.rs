//! `git:cloned`: a working copy of a URL at a path, at a revision.

use consfig_guest::prelude::*;

use crate::git::{self, Target};

/// DEST is a working copy cloned from URL (its `origin` remote is URL), at
/// the revision `rev` when one is given.
///
/// When DEST is missing or an empty directory, URL is cloned there
/// (`git clone`, with `--branch REV` when `rev` is a branch or tag; a `rev`
/// of hex digits is a commit, checked out detached). When DEST is
/// anything else that is not a working copy whose `remote.origin.url` is
/// exactly URL, it is removed (with everything beneath it) and URL cloned in
/// its place. A working copy of URL is left where it is, unless `rev` is
/// given and its checked-out commit is not the one `rev` names at the
/// remote (asked with `git ls-remote`): then the commit is fetched if the
/// copy lacks it and checked out — a branch as that local branch, tracking
/// `origin`; a tag or a commit detached. Without `rev`, an existing copy is
/// not updated (see `git:pulled`).
///
/// Options: `rev`, a branch, tag or commit (a commit written out in full
/// when `depth` is given); `depth`, a shallow clone (and fetch) of that many
/// commits; `user`, the account that runs git and owns the working copy (a
/// subdeployment as that user, so the whole property, its file calls
/// included, runs as them).
///
/// Unchanged when DEST is a working copy of URL at `rev` (or any revision
/// when none is given). Check mode runs the queries (`git config`,
/// `git rev-parse`, `git ls-remote`) and skips clone, fetch and checkout,
/// so it predicts exactly. A fresh clone asks the remote nothing, but
/// moving an existing working copy to `rev` asks it with `git ls-remote`,
/// and commands have no network in check mode: there a remote across the
/// network fails the check.
/// URLs starting with `-`, `ext::` or `fd::` are refused; DEST must be an
/// absolute path.
#[property]
pub fn cloned(
    url: String,
    dest: String,
    rev: Option<String>,
    depth: Option<u32>,
    user: Option<String>,
) -> Result<Change> {
    git::check_url(&url)?;
    git::check_path("DEST", &dest)?;
    if let Some(rev) = &rev {
        git::check_rev(rev)?;
    }
    ensure!(depth != Some(0), "depth must be at least 1");
    if let Some(user) = user {
        git::check_user(&user)?;
        let mut form = crate::forms::cloned(url, dest);
        if let Some(rev) = rev {
            form = form.rev(rev);
        }
        if let Some(depth) = depth {
            form = form.depth(depth);
        }
        return subdeploy(&[Context::setuid(&user)], &[form.into()]);
    }
    let rev = rev.as_deref();
    match fs::stat(&dest)? {
        None => {}
        Some(stat) if stat.is_dir() && fs::list_dir(&dest)?.is_empty() => {}
        Some(stat) => {
            if stat.is_dir() && origin_of(&dest)?.as_deref() == Some(url.as_str()) {
                return match rev {
                    Some(rev) => moved_to(&url, &dest, rev, depth),
                    None => Ok(Change::Unchanged),
                };
            }
            info!("{dest} is not a clone of {url}: replacing it");
            git::remove_tree(&dest)?;
        }
    }
    clone(&url, &dest, rev, depth)?;
    Ok(Change::Changed)
}

/// The URL of the `origin` remote of the working copy at `dest`, if it is
/// one and has that remote.
fn origin_of(dest: &str) -> Result<Option<String>> {
    if !git::is_working_copy(dest)? {
        return Ok(None);
    }
    let command = git::query().args(["-C", dest, "config", "--get", "--", "remote.origin.url"]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(Some(output.stdout_str().trim_end_matches('\n').to_owned())),
        Some(1) => Ok(None),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}

fn depth_args(depth: Option<u32>) -> Vec<String> {
    depth.map_or_else(Vec::new, |d| vec!["--depth".to_owned(), d.to_string()])
}

/// Clone `url` into `dest` (missing or empty) at `rev`, asking the remote
/// nothing first, so that a check (where commands have no network) can
/// predict a clone: a branch or tag is cloned with `--branch`; a commit
/// (a `rev` of hex digits) is checked out detached after the clone, fetched
/// by itself into a shallow one.
fn clone(url: &str, dest: &str, rev: Option<&str>, depth: Option<u32>) -> Result<()> {
    let commit = rev.filter(|rev| git::looks_like_commit(rev));
    if let (Some(rev), Some(_)) = (commit, depth) {
        ensure!(
            git::is_full_hash(rev),
            "rev {rev:?} is an abbreviated commit: with depth, give it in full"
        );
    }
    let mut command = git::change().arg("clone").args(depth_args(depth));
    match (rev, commit) {
        (_, Some(_)) => command = command.arg("--no-checkout"),
        (Some(name), None) => command = command.args(["--branch", name]),
        (None, None) => {}
    }
    command.args(["--", url, dest]).succeed()?;
    info!("cloned {url} into {dest}");
    if let Some(commit) = commit {
        if depth.is_some() {
            fetch(dest, depth, commit)?;
        }
        checkout_commit(dest, commit)?;
    }
    Ok(())
}

/// Move the working copy at `dest` to `rev`: fetched if it lacks the commit,
/// then checked out. Unchanged when it is there already.
fn moved_to(url: &str, dest: &str, rev: &str, depth: Option<u32>) -> Result<Change> {
    let target = git::remote_target(Some(dest), url, rev)?;
    let head = git::head(dest)?;
    match &target {
        Target::Branch(name, sha) => {
            if head.as_deref() == Some(sha) {
                return Ok(Change::Unchanged);
            }
            // The remote-tracking branch is updated, and the local branch
            // made to start from it, tracking it.
            let refspec = format!("+refs/heads/{name}:refs/remotes/origin/{name}");
            fetch(dest, depth, &refspec)?;
            git::change()
                .args(["-C", dest, "checkout", "-B", name])
                .arg(format!("refs/remotes/origin/{name}"))
                .arg("--")
                .succeed()?;
        }
        Target::Tag(name, sha) => {
            if head.as_deref() == Some(sha) {
                return Ok(Change::Unchanged);
            }
            if git::local_commit(dest, sha)?.is_none() {
                fetch(dest, depth, &format!("+refs/tags/{name}:refs/tags/{name}"))?;
            }
            checkout_commit(dest, sha)?;
        }
        Target::Commit(rev) => {
            let known = git::local_commit(dest, rev)?;
            if known.is_some() && known == head {
                return Ok(Change::Unchanged);
            }
            if known.is_none() {
                match git::is_full_hash(rev) {
                    true => fetch(dest, depth, rev)?,
                    false => fetch(dest, depth, "+refs/heads/*:refs/remotes/origin/*")?,
                }
            }
            checkout_commit(dest, rev)?;
        }
    }
    info!("{dest} moved to {rev}");
    Ok(Change::Changed)
}

fn fetch(dest: &str, depth: Option<u32>, refspec: &str) -> Result<()> {
    git::change()
        .args(["-C", dest, "fetch"])
        .args(depth_args(depth))
        .args(["origin", "--", refspec])
        .succeed()?;
    Ok(())
}

fn checkout_commit(dest: &str, commit: &str) -> Result<()> {
    git::change()
        .args(["-C", dest, "checkout", "--detach", commit, "--"])
        .succeed()?;
    Ok(())
}
