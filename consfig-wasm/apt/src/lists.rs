//! The package lists and what follows from them: `apt:updated`,
//! `apt:upgraded`, `apt:autoremoved`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use consfig_guest::prelude::*;
use consfig_guest::serde::de::{self, Deserializer, Visitor};
use consfig_guest::serde::{Deserialize, Serialize, Serializer};

use crate::apt_get::{apt_get, parsed, run_apt_get, run_apt_get_with_policy, simulate, simulated};
use crate::names::check_packages;
use crate::packages::candidates;

/// When the package lists were last updated successfully: the stamp apt's
/// own daily job (`apt.systemd.daily`) touches, and `apt:updated` too.
pub const UPDATE_STAMP: &str = "/var/lib/apt/periodic/update-success-stamp";
const PERIODIC: &str = "/var/lib/apt/periodic";
const LISTS: &str = "/var/lib/apt/lists";

/// What an update reads: a source or key newer than the stamp means the
/// lists are out of date.
const SOURCE_FILES: [&str; 2] = ["/etc/apt/sources.list", "/etc/apt/trusted.gpg"];
const SOURCE_DIRS: [&str; 3] = [
    "/etc/apt/sources.list.d",
    "/etc/apt/keyrings",
    "/etc/apt/trusted.gpg.d",
];

/// A length of time, given as seconds (`3600`) or as text with a unit:
/// `90s`, `30m`, `6h`, `1d`, `2w` (or a plain number of seconds, `"0"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(pub u64);

impl Age {
    pub fn parse(text: &str) -> Option<Age> {
        let text = text.trim();
        let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
            Some(at) => text.split_at(at),
            None => (text, "s"),
        };
        let unit = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return None,
        };
        let number: u64 = number.parse().ok()?;
        number.checked_mul(unit).map(Age)
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

impl Serialize for Age {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct AgeVisitor;

        impl Visitor<'_> for AgeVisitor {
            type Value = Age;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "seconds, or a duration such as \"90s\", \"30m\", \"6h\", \"1d\", \"2w\"",
                )
            }

            fn visit_u64<E: de::Error>(self, seconds: u64) -> std::result::Result<Age, E> {
                Ok(Age(seconds))
            }

            fn visit_i64<E: de::Error>(self, seconds: i64) -> std::result::Result<Age, E> {
                u64::try_from(seconds)
                    .map(Age)
                    .map_err(|_| E::custom(format!("{seconds} is negative: a duration is not")))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Age, E> {
                Age::parse(text).ok_or_else(|| {
                    E::custom(format!(
                        "{text:?} is not a duration: write seconds, or a number and a unit \
                         (s, m, h, d, w), e.g. \"6h\""
                    ))
                })
            }
        }

        deserializer.deserialize_any(AgeVisitor)
    }
}

/// Seconds since the Unix epoch, now.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Why the lists need updating, if they do.
fn stale(max_age: Age, packages: &[String]) -> Result<Option<String>> {
    // As Ansible's apt module reckons it: the stamp, or without one the
    // lists' directory, which an update changes.
    let (last_update, by) = match (fs::stat(UPDATE_STAMP)?, fs::stat(LISTS)?) {
        (Some(stamp), _) => (stamp.mtime, UPDATE_STAMP),
        (None, Some(lists)) if lists.is_dir() => (lists.mtime, LISTS),
        (None, _) => {
            return Ok(Some(format!(
                "no successful update is recorded ({UPDATE_STAMP}) and there are no lists"
            )));
        }
    };
    let age = now().saturating_sub(last_update);
    if u64::try_from(age).unwrap_or(0) >= max_age.0 {
        return Ok(Some(format!(
            "the lists were updated {age} s ago ({by}), max-age is {max_age}"
        )));
    }
    let has_lists = match fs::stat(LISTS)? {
        Some(stat) if stat.is_dir() => fs::list_dir(LISTS)?
            .iter()
            .any(|e| e.name.contains("_Packages") || e.name.contains("_Sources")),
        _ => false,
    };
    if !has_lists {
        return Ok(Some(format!("{LISTS} holds no package lists")));
    }
    if let Some(newer) = newer_source(last_update)? {
        return Ok(Some(format!("{newer} changed since the last update")));
    }
    let missing: Vec<String> = candidates(packages)?
        .into_iter()
        .filter(|(_, candidate)| candidate.is_none())
        .map(|(package, _)| package)
        .collect();
    if !missing.is_empty() {
        return Ok(Some(format!(
            "apt has no candidate for {}",
            missing.join(", ")
        )));
    }
    Ok(None)
}

/// A source or key file modified after `since`, if any.
fn newer_source(since: i64) -> Result<Option<String>> {
    let mut paths: Vec<String> = SOURCE_FILES.iter().map(|p| (*p).to_owned()).collect();
    for dir in SOURCE_DIRS {
        if fs::stat(dir)?.is_some_and(|s| s.is_dir()) {
            for entry in fs::list_dir(dir)? {
                paths.push(format!("{dir}/{}", entry.name));
            }
        }
    }
    for path in paths {
        if fs::stat(&path)?.is_some_and(|s| s.mtime > since) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// The package lists are up to date: `apt-get update` runs when they are
/// older than option `max-age` (seconds, or text with a unit: `"30m"`,
/// `"6h"`, `"1d"`; default `"1d"`; `0` updates every time), when a source
/// or key under /etc/apt changed since the last update, when there are no
/// lists, or when one of option `packages` has no installation candidate.
///
/// Their age is that of /var/lib/apt/periodic/update-success-stamp, which
/// this property (like apt's daily job) touches after each successful
/// update; with no stamp, that of /var/lib/apt/lists, as Ansible's
/// `cache_valid_time` reckons it. An update that could not
/// fetch every list (apt-get warns and exits 0) fails, and is not recorded. Unchanged when none of the
/// above holds. Check mode reads the same files and asks apt-cache, and
/// predicts exactly.
#[property]
pub fn updated(
    #[default = "1d"] max_age: Age,
    #[default = []] packages: Vec<String>,
) -> Result<Change> {
    check_packages("packages", &packages)?;
    let Some(why) = stale(max_age, &packages)? else {
        return Ok(Change::Unchanged);
    };
    info!("updating the package lists: {why}");
    let output = run_apt_get(apt_get(["update"]))?;
    // apt-get exits 0 when some lists could not be fetched: those are stale
    // still, so the update is not recorded as a success.
    let stderr = output.stderr_str();
    if let Some(failure) = stderr.lines().find(|line| {
        line.starts_with("E: ")
            || line.starts_with("W: Failed to fetch")
            || line.starts_with("W: Some index files failed")
    }) {
        bail!("apt-get update could not update every list: {failure}");
    }
    if fs::stat(PERIODIC)?.is_none() {
        fs::mkdir(PERIODIC, None)?;
    }
    fs::write(UPDATE_STAMP, "", None)?;
    Ok(Change::Changed)
}

/// Every installed package is at its candidate version: `apt-get upgrade`,
/// or with option `dist` (default false) `apt-get dist-upgrade`, which also
/// installs and removes packages as dependencies change.
///
/// From the package lists as they are (`apt:updated` first). Unchanged when
/// a simulation (`apt-get -s`, run in check mode too) would upgrade
/// nothing; packages apt holds back are not counted. Never interactive,
/// configuration files changed locally are kept; where systemd does not run
/// no service is restarted. Option `policy-rc-d`: as for `apt:installed`.
#[property]
pub fn upgraded(#[default = false] dist: bool, policy_rc_d: Option<u8>) -> Result<Change> {
    let verb = if dist { "dist-upgrade" } else { "upgrade" };
    let simulation = parsed(simulate([verb]))?;
    let upgrades = simulated(&simulation, "Inst");
    let removals = simulated(&simulation, "Remv");
    if upgrades.is_empty() && removals.is_empty() {
        return Ok(Change::Unchanged);
    }
    run_apt_get_with_policy(apt_get([verb]), policy_rc_d)?;
    info!("upgraded {}", upgrades.join(" "));
    Ok(Change::Changed)
}

/// No package is left that was installed only as a dependency of packages
/// now gone: `apt-get autoremove`.
///
/// Unchanged when a simulation (`apt-get -s autoremove`, run in check mode
/// too) would remove nothing. Never interactive; where systemd does not run
/// no service is stopped.
#[property]
pub fn autoremoved() -> Result<Change> {
    let simulation = parsed(simulate(["autoremove"]))?;
    let removals = simulated(&simulation, "Remv");
    if removals.is_empty() {
        return Ok(Change::Unchanged);
    }
    run_apt_get(apt_get(["autoremove"]))?;
    info!("removed {}", removals.join(" "));
    Ok(Change::Changed)
}

/// Seconds, or text with a unit.
impl consfig_guest::HasSchema for Age {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::Integer, Schema::String])
    }
}
