//! Public keys as text: a line of `authorized_keys` (options, type, key,
//! comment) or of `known_hosts` (host, type, key), and which key a line
//! holds.

use consfig_guest::prelude::*;

/// Whether `word` names a public key type (`ssh-ed25519`, `ssh-rsa`,
/// `ecdsa-sha2-nistp256`, the `sk-` security-key types, certificates).
fn is_key_type(word: &str) -> bool {
    ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-"]
        .iter()
        .any(|prefix| word.starts_with(prefix))
}

fn is_base64(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
}

/// The key of a line — its type and base64 blob — wherever it is in the
/// line (after options in `authorized_keys`); `None` for a line with no key.
pub fn key_of(line: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .find(|pair| is_key_type(pair[0]) && is_base64(pair[1]))
        .map(|pair| (pair[0], pair[1]))
}

/// A key line as given, trimmed: one line holding a key, not a comment.
pub fn checked_key<'a>(what: &str, line: &'a str) -> Result<&'a str> {
    let line = line.trim();
    ensure!(
        !line.chars().any(|c| c.is_control() && c != '\t')
            && !line.starts_with('#')
            && key_of(line).is_some(),
        "{line:?} is not {what}: one line with a key type (`ssh-ed25519`, `ssh-rsa`, \
         `ecdsa-sha2-…`) and its base64 key"
    );
    Ok(line)
}

/// `lines` as the text of a file: each line ended by a newline.
pub fn text_of<S: AsRef<str>>(lines: &[S]) -> String {
    lines.iter().map(|l| format!("{}\n", l.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_key_of_a_line() {
        assert_eq!(
            key_of("ssh-ed25519 AAAAC3Nz ada@laptop"),
            Some(("ssh-ed25519", "AAAAC3Nz"))
        );
        assert_eq!(
            key_of(r#"from="10.0.0.0/8",no-pty ssh-rsa AAAAB3= x"#),
            Some(("ssh-rsa", "AAAAB3="))
        );
        assert_eq!(
            key_of("host.example ecdsa-sha2-nistp256 AAAAE2"),
            Some(("ecdsa-sha2-nistp256", "AAAAE2"))
        );
        assert_eq!(key_of("# a comment"), None);
        assert_eq!(key_of("ssh-ed25519"), None);
        assert!(checked_key("a key", "ssh-ed25519 AAAA\nssh-rsa BBBB").is_err());
        assert!(checked_key("a key", "#ssh-ed25519 AAAA").is_err());
        assert_eq!(
            checked_key("a key", " ssh-ed25519 AAAA c \n"),
            Ok("ssh-ed25519 AAAA c")
        );
    }
}
