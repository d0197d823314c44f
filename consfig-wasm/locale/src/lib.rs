//! The `locale` module: locales generated ([`available`], `/etc/locale.gen`
//! and `locale-gen`) and the system's default one ([`selected`],
//! `/etc/default/locale`), checked against the locales glibc supports
//! (`/usr/share/i18n/SUPPORTED`, from Debian's `locales` package).

pub mod available;
pub mod selected;

use consfig_guest::prelude::*;

/// Every locale glibc can generate, one `NAME CHARSET` per line.
pub const SUPPORTED: &str = "/usr/share/i18n/SUPPORTED";

/// The line of [`SUPPORTED`] for `locale`: `NAME CHARSET` itself, or the
/// line whose name is `locale`.
pub fn supported_line(locale: &str) -> Result<String> {
    ensure!(
        fs::exists(SUPPORTED)?,
        "{SUPPORTED} does not exist: install the locales package"
    );
    let text = fs::read_to_string(SUPPORTED)?;
    let found = text
        .lines()
        .map(str::trim)
        .find(|line| *line == locale || line.split_whitespace().next() == Some(locale));
    match found {
        Some(line) => Ok(line.split_whitespace().collect::<Vec<_>>().join(" ")),
        None => bail!("{locale:?} is not a supported locale (see {SUPPORTED})"),
    }
}

/// `NAME` or `NAME CHARSET`, each of letters, digits and `_.@+-`, not
/// starting with `-`: nothing else reaches a file.
pub fn check_locale(locale: &str) -> Result<()> {
    let word = |w: &str| {
        !w.is_empty()
            && !w.starts_with('-')
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.@+-".contains(c))
    };
    let words: Vec<&str> = locale.split(' ').collect();
    ensure!(
        (1..=2).contains(&words.len()) && words.iter().all(|w| word(w)),
        "{locale:?} is not a locale name such as en_US.UTF-8 (or a line of {SUPPORTED} such \
         as `en_US.UTF-8 UTF-8`)"
    );
    Ok(())
}

consfig_guest::module! {
    name: "locale",
    export: false,
    needs: [
        "read:/usr/share/i18n/SUPPORTED",
        "write:/etc/locale.gen",
        "write:/etc/default/locale",
        "command:/usr/sbin/locale-gen",
    ],
    doc: "Locales: generated (/etc/locale.gen, locale-gen) and selected (/etc/default/locale).",
    properties: [available::available, selected::selected],
}
