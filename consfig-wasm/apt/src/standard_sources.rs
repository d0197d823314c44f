//! Debian's own archive as apt's sources: `apt:standard-sources.list`, the
//! one-line-style /etc/apt/sources.list for the system's release, as
//! Consfigurator's property of that name writes it.

use consfig_guest::prelude::*;

use crate::names::is_word;
use crate::sources::{SOURCES_DIR, Words, file_holds};

pub const SOURCES_LIST: &str = "/etc/apt/sources.list";
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
pub const SECURITY_MIRROR: &str = "http://security.debian.org/debian-security";

/// A URI apt reads on a source line: a scheme (`http:`, `https:`,
/// `file:`, `tor+https:`, …), then no whitespace or control character —
/// so nothing that starts a `[option=value]` list (such as
/// `[trusted=yes]`), a second field or a second line.
fn check_mirror(mirror: &str) -> Result<()> {
    let scheme = mirror.split_once(':').map(|(scheme, _)| scheme);
    let valid_scheme = scheme.is_some_and(|s| {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
    });
    ensure!(
        valid_scheme && is_word(mirror) && !mirror.contains(['[', ']', '#']),
        "mirror: {mirror:?} is not a URI (such as {DEFAULT_MIRROR}): a scheme, and no \
         spaces, brackets, `#` or control characters"
    );
    Ok(())
}

/// Components: letters, digits, `-`, `_`, `.`, `+` and `/`, starting with
/// a letter or digit (`main`, `non-free-firmware`).
fn check_components(components: &[&str]) -> Result<()> {
    ensure!(
        !components.is_empty(),
        "components is empty: give main at least"
    );
    for component in components {
        ensure!(
            component.starts_with(|c: char| c.is_ascii_alphanumeric())
                && component
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.+/".contains(c)),
            "components: {component:?} is not a component (such as main, contrib, \
             non-free-firmware)"
        );
    }
    Ok(())
}

/// The release's codename, from os-release: Debian's, and a stable
/// release's (one with a `VERSION_ID`), since only a stable release has
/// the `-updates` suite and os-release does not tell testing from unstable.
fn debian_codename() -> Result<String> {
    let os = host::os_release()?;
    let shown = os.pretty_name.clone().unwrap_or_else(|| os.id.clone());
    ensure!(
        os.id == "debian",
        "apt:standard-sources.list writes Debian's sources, and this system is {shown} \
         (os-release ID {:?}): use apt:source for its own",
        os.id
    );
    let Some(codename) = os.version_codename.filter(|c| !c.is_empty()) else {
        bail!(
            "os-release of {shown} names no VERSION_CODENAME: the release whose sources \
             to write is unknown"
        )
    };
    ensure!(
        codename.starts_with(|c: char| c.is_ascii_lowercase())
            && codename
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "os-release's VERSION_CODENAME {codename:?} is not a Debian codename"
    );
    ensure!(
        os.version_id.is_some(),
        "{shown} is Debian testing or unstable (os-release has no VERSION_ID), which \
         os-release does not tell apart: write its sources with apt:source"
    );
    Ok(codename)
}

/// The text of the file: the release, its `-updates` suite, and its
/// security updates.
fn render(mirror: &str, codename: &str, components: &str) -> String {
    format!(
        "deb {mirror} {codename} {components}\n\
         deb {mirror} {codename}-updates {components}\n\
         deb {SECURITY_MIRROR} {codename}-security {components}\n"
    )
}

/// /etc/apt/sources.list names Debian's archive for this system's release
/// (its codename from os-release, such as `bookworm`): the release and its
/// `-updates` suite from the mirror, and its security updates from
/// http://security.debian.org/debian-security (`bookworm-security`), one
/// `deb` line each — as Consfigurator's property of that name writes it
/// (which adds `deb-src` lines and the backports suite too).
///
/// Option `mirror` (default `http://deb.debian.org/debian`): the archive's
/// URI. Option `components` (a list, or one string of words separated by
/// spaces; default `main`): `main contrib non-free-firmware`, for instance.
/// Only for Debian's stable releases: another OS (its os-release `ID` not
/// `debian`), a missing `VERSION_CODENAME`, or Debian testing or unstable
/// (no `VERSION_ID`, and os-release does not tell them apart) is an error,
/// before anything is written. The file is replaced whole, with mode 0644;
/// sources in /etc/apt/sources.list.d are left as they are (one naming
/// Debian's archive too, as debian.sources does on newer systems, makes
/// apt warn of sources configured twice: it is mentioned in the form's
/// output). The package lists are not updated here: `apt:updated`
/// afterwards sees the newer file and updates them.
///
/// Unchanged when the file already holds exactly this, with mode 0644.
/// Check mode reads the file and predicts exactly.
#[property(name = "standard-sources.list")]
pub fn standard_sources_list(
    #[default = "http://deb.debian.org/debian"] mirror: String,
    components: Option<Words>,
) -> Result<Change> {
    check_mirror(&mirror)?;
    let default_components = Words::One("main".into());
    let components = components.unwrap_or(default_components);
    let components = components.items();
    check_components(&components)?;
    let codename = debian_codename()?;
    let text = render(&mirror, &codename, &components.join(" "));
    let change = file_holds("/etc/apt", SOURCES_LIST, text.as_bytes())?;
    let deb822 = format!("{SOURCES_DIR}/debian.sources");
    if fs::exists(&deb822)? {
        info!(
            "{deb822} is there too: if it names Debian's archive as well, apt warns of \
             sources configured twice (remove it with file:absent)"
        );
    }
    if change == Change::Changed {
        info!("wrote {SOURCES_LIST} for {codename} from {mirror}");
    }
    Ok(change)
}
