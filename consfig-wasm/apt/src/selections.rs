//! Packages held at their version: `apt:held` and `apt:unheld`, through
//! dpkg's selections (what `apt-mark hold` and `apt-mark unhold` set, and
//! Ansible's `dpkg_selections` too).

use consfig_guest::prelude::*;

use crate::apt_get::{DPKG, DPKG_QUERY};
use crate::names::check_packages;

/// The format of the query: the selection and the status of each instance
/// (architecture) of a package, as `WANT/STATUS `.
const FORMAT: &str = "--showformat=${db:Status-Want}/${db:Status-Status} ";

/// What dpkg records of a package: its selection (`install`, `hold`,
/// `deinstall`, `purge`, `unknown`) and status, for each instance of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selections(Vec<(String, String)>);

impl Selections {
    /// dpkg knows the package: it is, or was, on the system.
    pub fn known(&self) -> bool {
        !self.0.is_empty()
    }

    /// Every instance of it is held.
    pub fn held(&self) -> bool {
        self.known() && self.0.iter().all(|(want, _)| want == "hold")
    }

    /// Some instance of it is held.
    pub fn any_held(&self) -> bool {
        self.0.iter().any(|(want, _)| want == "hold")
    }

    /// Anything but its configuration files is on the system.
    pub fn present(&self) -> bool {
        self.0
            .iter()
            .any(|(_, status)| !matches!(status.as_str(), "not-installed" | "config-files"))
    }
}

/// What dpkg records of `package` (a checked name): a query, run in check
/// mode too. No instance when dpkg knows no package of that name.
pub fn selections(package: &str) -> Result<Selections> {
    let command = Command::query(DPKG_QUERY).args(["--show", FORMAT, "--", package]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => {
            let mut found = Vec::new();
            for word in output.stdout_str().split_whitespace() {
                let Some((want, status)) = word.split_once('/') else {
                    bail!("{shown}: unexpected output {word:?}");
                };
                found.push((want.to_owned(), status.to_owned()));
            }
            Ok(Selections(found))
        }
        Some(1) => Ok(Selections(Vec::new())),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}

/// Set the selection of each package with `dpkg --set-selections`, the
/// lines on its standard input (names checked: no whitespace or newline
/// can add a line or a field).
fn set_selections(lines: &[(String, &str)]) -> Result<()> {
    let input: String = lines
        .iter()
        .map(|(package, selection)| format!("{package} {selection}\n"))
        .collect();
    Command::change(DPKG)
        .arg("--set-selections")
        .stdin(input)
        .succeed()?;
    Ok(())
}

/// The packages in the order given, each once.
fn distinct(packages: &[String]) -> Vec<&String> {
    let mut seen: Vec<&String> = Vec::new();
    for package in packages {
        if !seen.contains(&package) {
            seen.push(package);
        }
    }
    seen
}

/// The packages are held: dpkg's selection of each is `hold`, so apt
/// neither upgrades nor removes them (`apt-mark hold`; set with `dpkg
/// --set-selections`, as Ansible's `dpkg_selections` does).
///
/// PACKAGES are names as for `apt:installed` (`libc6:i386` names one
/// architecture's). A package dpkg knows nothing of (never installed) is
/// an error naming it, before anything is held — as Ansible's
/// `dpkg_selections` fails for a package it cannot find; one removed with
/// its configuration files left is known, and held. Unchanged when every
/// one is held already. Check mode asks dpkg-query and predicts exactly.
#[property]
pub fn held(packages: Vec<String>) -> Result<Change> {
    check_packages("packages", &packages)?;
    let mut unknown = Vec::new();
    let mut to_hold = Vec::new();
    for package in distinct(&packages) {
        let selections = selections(package)?;
        if !selections.known() {
            unknown.push(package.as_str());
        } else if !selections.held() {
            to_hold.push((package.clone(), "hold"));
        }
    }
    ensure!(
        unknown.is_empty(),
        "packages: dpkg knows no package {}: install it before holding it (apt:installed)",
        unknown.join(", ")
    );
    if to_hold.is_empty() {
        return Ok(Change::Unchanged);
    }
    set_selections(&to_hold)?;
    let names: Vec<&str> = to_hold.iter().map(|(p, _)| p.as_str()).collect();
    info!("held {}", names.join(" "));
    Ok(Change::Changed)
}

/// The packages are not held (`apt-mark unhold`): the selection of each
/// held one becomes `install` when it is installed, `deinstall` when only
/// its configuration files are left — as apt-mark sets them.
///
/// PACKAGES as for `apt:held`. A package dpkg knows nothing of is not held:
/// unchanged, not an error (unlike `apt:held`, nothing needs it there).
/// Unchanged when none is held. Check mode asks dpkg-query and predicts
/// exactly.
#[property]
pub fn unheld(packages: Vec<String>) -> Result<Change> {
    check_packages("packages", &packages)?;
    let mut to_release = Vec::new();
    for package in distinct(&packages) {
        let selections = selections(package)?;
        if selections.any_held() {
            let selection = if selections.present() {
                "install"
            } else {
                "deinstall"
            };
            to_release.push((package.clone(), selection));
        }
    }
    if to_release.is_empty() {
        return Ok(Change::Unchanged);
    }
    set_selections(&to_release)?;
    let names: Vec<&str> = to_release.iter().map(|(p, _)| p.as_str()).collect();
    info!("released the hold on {}", names.join(" "));
    Ok(Change::Changed)
}
