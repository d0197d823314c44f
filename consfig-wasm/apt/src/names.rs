//! What may reach a command line or a path: package names, the names of
//! source and keyring files, debconf questions and values. Each check
//! refuses what would become an option, a second argument, a pattern apt
//! would expand, or a path out of its directory.

use consfig_guest::prelude::*;

/// A package name as Debian policy has it — lowercase letters, digits, `+`,
/// `-` and `.`, starting with a letter or digit — optionally qualified by an
/// architecture (`libc6:i386`). Refused as well: a name ending in `-`,
/// which apt-get reads as "remove" whatever the command (a name ending in
/// `+`, "install", is allowed for `g++`: only names dpkg or apt-cache know
/// exactly reach apt-get), and anything with a glob or pattern character
/// (`*`, `?`, `~`, `[`). Since apt-get reads a name it does not know as a
/// regular expression (`.` matching anything), the properties pass it only
/// names that dpkg-query or apt-cache found exactly.
pub fn check_package(name: &str) -> Result<()> {
    let (base, arch) = match name.split_once(':') {
        Some((base, arch)) => (base, Some(arch)),
        None => (name, None),
    };
    let valid_base = base.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && base
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        && !base.ends_with('-');
    let valid_arch = arch.is_none_or(|arch| {
        arch.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && arch
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    ensure!(
        valid_base && valid_arch,
        "{name:?} is not a package name: use lowercase letters, digits, `+`, `-` and `.`, \
         starting with a letter or digit and not ending with `-`, optionally followed \
         by `:ARCH`"
    );
    Ok(())
}

/// Check every package name of a list, naming the argument.
pub fn check_packages(argument: &str, packages: &[String]) -> Result<()> {
    for package in packages {
        check_package(package).map_err(|e| Error::new(format!("{argument}: {e}")))?;
    }
    Ok(())
}

/// The name of a file apt reads from a directory: letters, digits, `_`,
/// `-` and `.` (apt ignores files with other characters), not starting
/// with `.` or `-` — so no `/`, no `..`, nothing hidden.
pub fn check_file_name(what: &str, name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    ensure!(
        valid,
        "{name:?} is not a valid {what} name: use letters, digits, `_`, `-` and `.`, \
         not starting with `.` or `-`"
    );
    Ok(())
}

/// A word of a one-line value (a URI, a suite, a debconf question): not
/// empty, no whitespace or control characters.
pub fn is_word(text: &str) -> bool {
    !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        for valid in [
            "hello",
            "libc6:i386",
            "g++",
            "libstdc++6",
            "0ad",
            "python3.11",
            "a",
        ] {
            check_package(valid).unwrap();
        }
        for invalid in [
            "",
            "-o",
            "--purge",
            "Hello",
            "hello world",
            "hello\n",
            "libc6-",
            "bas.*",
            "hell?",
            "~nnginx",
            "?exact-name(x)",
            "a:",
            "a:-x",
            "a/b",
            "../x",
            ":amd64",
            "hello=2.10",
            "a:b:c",
        ] {
            assert!(check_package(invalid).is_err(), "{invalid:?} was accepted");
        }
        assert_eq!(
            check_packages("packages", &["ok".into(), "-oAPT::X=1".into()])
                .unwrap_err()
                .to_string(),
            "packages: \"-oAPT::X=1\" is not a package name: use lowercase letters, digits, \
             `+`, `-` and `.`, starting with a letter or digit and not ending with `-`, \
             optionally followed by `:ARCH`"
        );
    }

    #[test]
    fn file_names() {
        for valid in ["docker", "nodesource_20.x", "a-b.c"] {
            check_file_name("source", valid).unwrap();
        }
        for invalid in [
            "",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "../etc/passwd",
            "a b",
            "a\nb",
            "é",
        ] {
            assert!(check_file_name("source", invalid).is_err(), "{invalid:?}");
        }
    }
}
