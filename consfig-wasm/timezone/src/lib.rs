//! The `timezone` module: the system's time zone, as Debian's `tzdata`
//! keeps it — its name in `/etc/timezone`, and `/etc/localtime` a symlink to
//! the zone's file under `/usr/share/zoneinfo`.

use consfig_guest::prelude::*;

const TIMEZONE: &str = "/etc/timezone";
const LOCALTIME: &str = "/etc/localtime";
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The system's time zone is ZONE, a name of the tz database such as
/// `Europe/Paris` or `Etc/UTC`: `/etc/timezone` holds the name, and
/// `/etc/localtime` is a symlink to `/usr/share/zoneinfo/ZONE` (replacing
/// whatever file or symlink was there), as `dpkg-reconfigure tzdata` leaves
/// them. The zone must exist under `/usr/share/zoneinfo` (the `tzdata`
/// package); a name that is not one — an absolute path, `..`, whitespace —
/// is refused before anything changes.
///
/// Unchanged when both already say ZONE. Check mode predicts exactly (only
/// files are read and written). Running programs keep the zone they read
/// when they started; new ones see the new zone.
#[property]
pub fn configured(zone: String) -> Result<Change> {
    check_zone(&zone)?;
    let file = format!("{ZONEINFO}/{zone}");
    match fs::stat(&file)? {
        Some(stat) if stat.is_file() || stat.is_symlink() => {}
        Some(stat) => bail!("{file} is a {}, not a time zone", stat.kind),
        None => {
            bail!("there is no time zone {zone:?}: {file} does not exist (is tzdata installed?)")
        }
    }
    let mut change = Change::Unchanged;
    let text = format!("{zone}\n");
    if !(fs::exists(TIMEZONE)? && fs::read(TIMEZONE)? == text.as_bytes()) {
        fs::write(TIMEZONE, &text, None)?;
        change = Change::Changed;
    }
    match fs::stat(LOCALTIME)? {
        Some(stat) if stat.is_symlink() && fs::readlink(LOCALTIME)? == file => {}
        Some(stat) if stat.is_dir() => bail!("{LOCALTIME} is a directory"),
        found => {
            if found.is_some() {
                fs::remove(LOCALTIME)?;
            }
            fs::symlink(&file, LOCALTIME)?;
            change = Change::Changed;
        }
    }
    if change == Change::Changed {
        info!("the time zone is {zone}");
    }
    Ok(change)
}

/// A zone name as the tz database spells them: `/`-separated parts of
/// letters, digits, `_`, `+` and `-`, none starting with `-` or `.`.
fn check_zone(zone: &str) -> Result<()> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && !part.starts_with(['-', '.'])
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
    };
    ensure!(
        zone.len() <= 255 && zone.split('/').all(part_ok),
        "{zone:?} is not a time zone name such as Europe/Paris (parts of letters, digits, \
         `_`, `+` and `-`, separated by `/`)"
    );
    Ok(())
}

consfig_guest::module! {
    name: "timezone",
    export: false,
    // /etc/localtime is a symlink, and no grant is followed through one:
    // hence /etc. A symlink's target must lie beneath a write grant: hence
    // /usr/share/zoneinfo, where nothing is written.
    needs: ["write:/etc", "write:/usr/share/zoneinfo"],
    doc: "The system time zone: /etc/timezone and the /etc/localtime symlink.",
    properties: [configured],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    use consfig_guest::testing::failure;

    fn debian() -> FakeHost {
        FakeHost::new()
            .file("/usr/share/zoneinfo/Etc/UTC", "TZif")
            .file("/usr/share/zoneinfo/Europe/Paris", "TZif")
            .symlink("/usr/share/zoneinfo/UTC", "Etc/UTC")
            .file(TIMEZONE, "Etc/UTC\n")
            .symlink(LOCALTIME, "/usr/share/zoneinfo/Etc/UTC")
    }

    #[test]
    fn sets_the_name_and_the_symlink_then_is_unchanged() {
        let host = debian();
        let paris = || configured("Europe/Paris".into());
        assert_eq!(host.apply(paris), Ok(Change::Changed));
        assert_eq!(host.text(TIMEZONE).as_deref(), Some("Europe/Paris\n"));
        assert_eq!(
            host.readlink(LOCALTIME).as_deref(),
            Some("/usr/share/zoneinfo/Europe/Paris")
        );
        assert_eq!(host.apply(paris), Ok(Change::Unchanged));
        assert_eq!(
            host.apply(|| configured("Etc/UTC".into())),
            Ok(Change::Changed)
        );
        // A zone that is itself a symlink in zoneinfo is a zone.
        assert_eq!(host.apply(|| configured("UTC".into())), Ok(Change::Changed));
        assert_eq!(host.text(TIMEZONE).as_deref(), Some("UTC\n"));
    }

    #[test]
    fn replaces_a_copied_localtime_and_makes_missing_files() {
        let host = FakeHost::new()
            .file("/usr/share/zoneinfo/Europe/Paris", "TZif")
            .file(LOCALTIME, "TZif copy");
        assert_eq!(
            host.apply(|| configured("Europe/Paris".into())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.readlink(LOCALTIME).as_deref(),
            Some("/usr/share/zoneinfo/Europe/Paris")
        );
        assert_eq!(host.text(TIMEZONE).as_deref(), Some("Europe/Paris\n"));
    }

    #[test]
    fn check_mode_predicts_from_the_files() {
        let host = debian().check_mode();
        assert_eq!(
            host.apply(|| configured("Etc/UTC".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(|| configured("Europe/Paris".into())),
            Ok(Change::Changed)
        );
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn refuses_unknown_zones_and_names_that_are_paths() {
        let host = debian();
        assert_eq!(
            failure(host.apply(|| configured("Mars/Olympus".into()))),
            "there is no time zone \"Mars/Olympus\": /usr/share/zoneinfo/Mars/Olympus does not \
             exist (is tzdata installed?)"
        );
        assert_eq!(
            failure(host.apply(|| configured("Europe".into()))),
            "/usr/share/zoneinfo/Europe is a directory, not a time zone"
        );
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "Europe/../../../etc/shadow",
            "Europe//Paris",
            "Europe/Paris\n",
            "Europe/ Paris",
            "-x",
            ".hidden",
            "",
        ] {
            assert!(
                failure(host.apply(|| configured(bad.into()))).contains("is not a time zone name"),
                "{bad:?}"
            );
        }
        assert_eq!(host.text(TIMEZONE).as_deref(), Some("Etc/UTC\n"));
        assert!(host.file_changes().is_empty());
    }
}
