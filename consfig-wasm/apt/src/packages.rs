//! Packages installed and removed: `apt:installed`, `apt:removed`, and what
//! dpkg and apt say of a package, which the other properties use too.

use std::collections::BTreeMap;

use consfig_guest::prelude::*;

use crate::apt_get::{APT_CACHE, DPKG_QUERY, apt_get, parsed, run_apt_get_with_policy};
use crate::names::check_packages;

/// What dpkg knows of a package (its `db:Status-Status`), for each of its
/// architectures installed or remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status(Vec<String>);

impl Status {
    /// Installed and configured (perhaps with triggers pending).
    pub fn installed(&self) -> bool {
        self.0.iter().any(|s| {
            matches!(
                s.as_str(),
                "installed" | "triggers-pending" | "triggers-awaiting"
            )
        })
    }

    /// Anything but its configuration files is on the system (even half-installed).
    pub fn present(&self) -> bool {
        self.0
            .iter()
            .any(|s| !matches!(s.as_str(), "not-installed" | "config-files"))
    }

    /// Anything of it is left, configuration files included.
    pub fn remembered(&self) -> bool {
        self.0.iter().any(|s| s != "not-installed")
    }
}

/// What `dpkg-query` says of `package` (a name checked by
/// [`check_package`](crate::names::check_package)): a query, run in check mode too.
pub fn status(package: &str) -> Result<Status> {
    let command = Command::query(DPKG_QUERY).args([
        "--show",
        "--showformat=${db:Status-Status} ",
        "--",
        package,
    ]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(Status(
            output
                .stdout_str()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        )),
        // No package of that name is known to dpkg.
        Some(1) => Ok(Status(Vec::new())),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}

/// The candidate version apt would install of each package (`apt-cache
/// policy`), `None` for a package it has none of: unknown, or purely
/// virtual. Only the section headed by the exact name counts, since
/// apt-cache reads a name it does not know as a regular expression.
pub fn candidates(packages: &[String]) -> Result<BTreeMap<String, Option<String>>> {
    let mut found: BTreeMap<String, Option<String>> =
        packages.iter().map(|p| (p.clone(), None)).collect();
    if packages.is_empty() {
        return Ok(found);
    }
    let output = parsed(
        Command::query(APT_CACHE)
            .env("LC_ALL", "C")
            .args(["policy", "--"])
            .args(packages),
    )?;
    let mut section: Option<String> = None;
    for line in output.stdout_str().lines() {
        if !line.starts_with(char::is_whitespace) {
            section = line.strip_suffix(':').map(str::to_owned);
            continue;
        }
        let Some(candidate) = line.trim().strip_prefix("Candidate:") else {
            continue;
        };
        let candidate = candidate.trim();
        if candidate == "(none)" {
            continue;
        }
        let Some(header) = &section else { continue };
        for package in packages {
            // A native architecture's name is shown without it.
            let base = package.split(':').next().unwrap_or(package);
            if header == package || header == base {
                found.insert(package.clone(), Some(candidate.to_owned()));
            }
        }
    }
    Ok(found)
}

/// The packages, each once, in the order given.
fn distinct(packages: &[String]) -> Vec<String> {
    let mut seen = Vec::new();
    for package in packages {
        if !seen.contains(package) {
            seen.push(package.clone());
        }
    }
    seen
}

/// The packages are installed (with `apt-get install`, from the package
/// lists as they are: see `apt:updated`).
///
/// PACKAGES are names, optionally with an architecture (`libc6:i386`);
/// versions, globs and patterns are refused. Option `no-recommends`
/// (default false): recommended packages are not installed with them.
///
/// Unchanged when dpkg says every one is installed (an installed package is
/// neither upgraded nor marked as installed by hand). Otherwise only the
/// missing ones are installed, after checking that apt has a candidate for
/// each (an unknown name fails before apt-get runs: `apt:updated` first,
/// or an `apt:source` may be missing). Never interactive: the dpkg lock is
/// waited for up to 120 s, configuration files changed locally are kept.
/// Where systemd does not run (a chroot, an image being built, a system
/// not booted with systemd) no service is started: /usr/sbin/policy-rc.d
/// forbids it while apt-get runs and is removed afterwards, even when
/// apt-get failed (a policy already there is the administrator's, used and
/// left as it is); the same holds for every property of this module that
/// runs apt-get or dpkg-reconfigure. Option `policy-rc-d` (Ansible's
/// `policy_rc_d`, a number 0–255): /usr/sbin/policy-rc.d answers every
/// service action with it while apt-get runs, wherever — 101 installs a
/// service without starting it, even where systemd runs, so that it starts
/// only once configured; a policy there before is put back afterwards.
/// Check mode asks dpkg and apt-cache, and predicts exactly.
#[property]
pub fn installed(
    packages: Vec<String>,
    #[default = false] no_recommends: bool,
    policy_rc_d: Option<u8>,
) -> Result<Change> {
    check_packages("packages", &packages)?;
    let mut missing = Vec::new();
    for package in &distinct(&packages) {
        if !status(package)?.installed() {
            missing.push(package.clone());
        }
    }
    if missing.is_empty() {
        return Ok(Change::Unchanged);
    }
    let unknown: Vec<String> = candidates(&missing)?
        .into_iter()
        .filter(|(_, candidate)| candidate.is_none())
        .map(|(package, _)| package)
        .collect();
    ensure!(
        unknown.is_empty(),
        "apt has no installation candidate for {}: the package lists may need updating \
         (apt:updated), or a source is missing",
        unknown.join(", ")
    );
    let mut args = vec!["install".to_owned()];
    if no_recommends {
        args.push("--no-install-recommends".to_owned());
    }
    args.push("--".to_owned());
    args.extend(missing.iter().cloned());
    run_apt_get_with_policy(apt_get(args), policy_rc_d)?;
    info!("installed {}", missing.join(" "));
    Ok(Change::Changed)
}

/// The packages are not installed: removed with `apt-get remove`, or with
/// option `purge` (default false) `apt-get purge`, which removes their
/// configuration files too.
///
/// Unchanged when dpkg has none of them installed (with `purge`: when it
/// keeps no configuration files of them either). Packages depending on a
/// removed one are removed with it, as apt-get does. Never interactive;
/// where systemd does not run, no service is stopped or started. Option
/// `policy-rc-d`: as for `apt:installed`. Check mode asks dpkg and predicts
/// exactly.
#[property]
pub fn removed(
    packages: Vec<String>,
    #[default = false] purge: bool,
    policy_rc_d: Option<u8>,
) -> Result<Change> {
    check_packages("packages", &packages)?;
    let mut present = Vec::new();
    for package in &distinct(&packages) {
        let status = status(package)?;
        let left = if purge {
            status.remembered()
        } else {
            status.present()
        };
        if left {
            present.push(package.clone());
        }
    }
    if present.is_empty() {
        return Ok(Change::Unchanged);
    }
    let verb = if purge { "purge" } else { "remove" };
    let mut args = vec![verb.to_owned(), "--".to_owned()];
    args.extend(present.iter().cloned());
    run_apt_get_with_policy(apt_get(args), policy_rc_d)?;
    info!(
        "{} {}",
        if purge { "purged" } else { "removed" },
        present.join(" ")
    );
    Ok(Change::Changed)
}
