//! `locale:available`: a locale generated from `/etc/locale.gen`.

use consfig_guest::prelude::*;

use crate::{check_locale, supported_line};

const LOCALE_GEN: &str = "/etc/locale.gen";
const PROGRAM: &str = "/usr/sbin/locale-gen";

/// The locale LOCALE (`en_US.UTF-8`, or a line of
/// `/usr/share/i18n/SUPPORTED` such as `en_US.UTF-8 UTF-8`) is generated:
/// its line of `SUPPORTED` is in `/etc/locale.gen`, uncommented where it is
/// commented out (as Debian ships every one) or appended, and `locale-gen`
/// runs when the file changed. The locale must be listed in `SUPPORTED`.
///
/// Unchanged when the line is in the file already (whether `locale-gen` ran
/// since is not looked at). Check mode reads both files and skips
/// `locale-gen`, so it predicts exactly.
#[property]
pub fn available(locale: String) -> Result<Change> {
    check_locale(&locale)?;
    let entry = supported_line(&locale)?;
    let text = match fs::exists(LOCALE_GEN)? {
        true => fs::read_to_string(LOCALE_GEN)?,
        false => String::new(),
    };
    let Some(new) = enabled(&text, &entry) else {
        return Ok(Change::Unchanged);
    };
    fs::write(LOCALE_GEN, new, None)?;
    Command::change(PROGRAM).succeed()?;
    info!("generated {entry}");
    Ok(Change::Changed)
}

/// The text of locale.gen with `entry` enabled, or `None` when it is.
fn enabled(text: &str, entry: &str) -> Option<String> {
    let same = |line: &str| line.split_whitespace().eq(entry.split_whitespace());
    if text.lines().any(same) {
        return None;
    }
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    match lines
        .iter()
        .position(|line| line.strip_prefix('#').is_some_and(same))
    {
        Some(index) => lines[index] = entry.to_owned(),
        None => lines.push(entry.to_owned()),
    }
    Some(lines.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::SUPPORTED;

    const SUPPORTED_TEXT: &str =
        "en_US.UTF-8 UTF-8\nen_US ISO-8859-1\nfr_FR.UTF-8 UTF-8\nsr_RS@latin UTF-8\n";
    const DEBIAN_GEN: &str = "# This file lists locales\n#\n# en_US ISO-8859-1\n# en_US.UTF-8 UTF-8\n# fr_FR.UTF-8 UTF-8\n";

    use consfig_guest::testing::failure;

    fn debian() -> FakeHost {
        FakeHost::new()
            .file(SUPPORTED, SUPPORTED_TEXT)
            .file(LOCALE_GEN, DEBIAN_GEN)
            .command(
                [PROGRAM],
                0,
                "Generating locales (this might take a while)...\n",
            )
    }

    #[test]
    fn uncomments_the_line_and_generates_then_is_unchanged() {
        let host = debian();
        assert_eq!(
            host.apply(|| available("en_US.UTF-8".into())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.text(LOCALE_GEN).unwrap(),
            DEBIAN_GEN.replace("# en_US.UTF-8 UTF-8", "en_US.UTF-8 UTF-8")
        );
        assert_eq!(host.commands_run(), [[PROGRAM]]);
        // Given as the line of SUPPORTED: the same locale.
        assert_eq!(
            host.apply(|| available("en_US.UTF-8 UTF-8".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(host.commands_run().len(), 1);
    }

    #[test]
    fn appends_a_line_the_file_lacks() {
        let host = debian();
        assert_eq!(
            host.apply(|| available("sr_RS@latin".into())),
            Ok(Change::Changed)
        );
        assert!(
            host.text(LOCALE_GEN)
                .unwrap()
                .ends_with("\nsr_RS@latin UTF-8\n")
        );
        let host = FakeHost::new()
            .dir("/etc")
            .file(SUPPORTED, SUPPORTED_TEXT)
            .command([PROGRAM], 0, "");
        assert_eq!(
            host.apply(|| available("en_US".into())),
            Ok(Change::Changed)
        );
        assert_eq!(host.text(LOCALE_GEN).as_deref(), Some("en_US ISO-8859-1\n"));
    }

    #[test]
    fn check_mode_skips_locale_gen() {
        let host = debian().check_mode();
        assert_eq!(
            host.apply(|| available("fr_FR.UTF-8".into())),
            Ok(Change::Changed)
        );
        assert_eq!(host.commands_skipped(), [[PROGRAM]]);
        assert_eq!(
            host.apply(|| available("fr_FR.UTF-8".into())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn refuses_unsupported_and_malformed_locales() {
        let host = debian();
        assert_eq!(
            failure(host.apply(|| available("xx_XX.UTF-8".into()))),
            "\"xx_XX.UTF-8\" is not a supported locale (see /usr/share/i18n/SUPPORTED)"
        );
        for bad in [
            "",
            "-a",
            "en_US.UTF-8\nde_DE UTF-8",
            "en US UTF-8",
            "../x",
            "en_US.UTF-8  UTF-8",
        ] {
            let message = failure(host.apply(|| available(bad.into())));
            assert!(
                message.contains("is not a locale name") || message.contains("is not a supported"),
                "{bad:?}: {message}"
            );
        }
        assert!(host.file_changes().is_empty());
        assert!(host.commands_run().is_empty());
        let bare = FakeHost::new();
        assert_eq!(
            failure(bare.apply(|| available("en_US.UTF-8".into()))),
            "/usr/share/i18n/SUPPORTED does not exist: install the locales package"
        );
    }
}
