//! Module and property names.
//!
//! A *name* — a module's, or a property's within its module — is lowercase
//! ASCII letters, digits and single inner dashes, starting with a letter:
//! `file`, `has-content`, `x11-forwarding`. A property's own name may also
//! have single inner dots, as a file name it is named after does
//! (`standard-sources.list`); a module's may not, since it names files and
//! directories of its own. A property's *full name* is its module's name
//! and its own, joined by a colon: `file:has-content`.

/// Whether `name` may name a module, or a property within its module.
pub fn is_name(name: &str) -> bool {
    // Byte by byte: every module links this, and substring search would
    // add kilobytes to each.
    let bytes = name.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.last() != Some(&b'-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !bytes.windows(2).any(|pair| pair == b"--")
}

/// Whether `name` may name a property within its module: a [name](is_name),
/// or dot-separated names (`standard-sources.list`).
pub fn is_property_part(name: &str) -> bool {
    name.split('.').all(is_name)
}

/// The module and property parts of a full property name, when both are names.
pub fn split_property(full: &str) -> Option<(&str, &str)> {
    let (module, property) = full.split_once(':')?;
    (is_name(module) && is_property_part(property)).then_some((module, property))
}

/// Whether `full` is a well-formed full property name, `module:property`.
pub fn is_property_name(full: &str) -> bool {
    split_property(full).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_words_joined_by_single_dashes() {
        for good in ["file", "has-content", "x11-forwarding", "a1"] {
            assert!(is_name(good), "{good:?}");
        }
        for bad in [
            "", "Has", "a:b", "-a", "a-", "a--b", "1st", "a b", "a_b", "é",
        ] {
            assert!(!is_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn property_names_may_have_inner_dots_module_names_not() {
        for good in ["has-content", "standard-sources.list", "a.b.c", "x1.conf-d"] {
            assert!(is_property_part(good), "{good:?}");
        }
        for bad in [
            "", ".list", "list.", "a..b", "a.-b", "a-.b", "a.1b", "a.B", "a/b",
        ] {
            assert!(!is_property_part(bad), "{bad:?}");
        }
        assert!(!is_name("standard-sources.list"));
        assert_eq!(
            split_property("apt:standard-sources.list"),
            Some(("apt", "standard-sources.list"))
        );
        assert!(!is_property_name("a.pt:held"));
    }

    #[test]
    fn full_names_join_module_and_property() {
        assert_eq!(
            split_property("file:has-content"),
            Some(("file", "has-content"))
        );
        for bad in [
            "absent",
            "file:",
            ":absent",
            "File:absent",
            "file:has content",
            "a:b:c",
            "file:has_content",
            "9p:mounted",
            "apt:.list",
            "apt:a..b",
        ] {
            assert!(!is_property_name(bad), "{bad:?}");
        }
    }
}
