//! `consfig:when-os`: forms applied only on systems whose os-release
//! matches.

use consfig_guest::host::OsRelease;
use consfig_guest::prelude::*;
use serde::{Deserialize, Serialize};

use crate::sequence::apply_in_order;

/// Which systems: each field given must equal the target's os-release
/// field of the same meaning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsMatch {
    /// `ID`, e.g. `debian`, `ubuntu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `VERSION_ID`, e.g. `12`, `24.04`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
}

/// An object of `id`, `version` and `codename` strings.
impl consfig_guest::HasSchema for OsMatch {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Object(Some(Box::new(Schema::String)))
    }
}

impl OsMatch {
    /// The first field that differs, as `field: wanted, found`; none when
    /// the system matches.
    fn mismatch(&self, os: &OsRelease) -> Option<String> {
        let fields = [
            ("id", &self.id, Some(&os.id)),
            ("version", &self.version, os.version_id.as_ref()),
            ("codename", &self.codename, os.version_codename.as_ref()),
        ];
        fields.into_iter().find_map(|(name, wanted, found)| {
            let wanted = wanted.as_ref()?;
            (Some(wanted) != found).then(|| {
                let found = found.map_or("none", String::as_str);
                format!("{name} is {found}, not {wanted}")
            })
        })
    }
}

/// Apply `forms` (in order, as `consfig:all`) only when the target's
/// os-release matches: `{"id": "debian", "version": "12"}` (also
/// `codename`); each field given must equal the target's `ID`,
/// `VERSION_ID` or `VERSION_CODENAME`.
///
/// On another system nothing is applied, it is logged why, and the form is
/// Unchanged. Inside a chroot the chroot's os-release is the one read.
#[property]
pub fn when_os(os: OsMatch, forms: Vec<Form>) -> Result<Change> {
    ensure!(
        os != OsMatch::default(),
        "give at least one of id, version and codename"
    );
    let release = host::os_release()?;
    if let Some(mismatch) = os.mismatch(&release) {
        log::info(format!("not applied: {mismatch}"));
        return Ok(Change::Unchanged);
    }
    apply_in_order(&forms)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn debian() -> FakeHost {
        FakeHost::new().os_release(OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: Some("bookworm".into()),
            pretty_name: None,
        })
    }

    fn motd() -> Form {
        Form::new("file:has-content")
            .arg("/etc/motd")
            .unwrap()
            .arg("hi\n")
            .unwrap()
    }

    fn matching(id: Option<&str>, version: Option<&str>, codename: Option<&str>) -> OsMatch {
        OsMatch {
            id: id.map(Into::into),
            version: version.map(Into::into),
            codename: codename.map(Into::into),
        }
    }

    #[test]
    fn applies_the_forms_on_a_matching_system() {
        for os in [
            matching(Some("debian"), None, None),
            matching(Some("debian"), Some("12"), None),
            matching(None, None, Some("bookworm")),
        ] {
            let host = debian().form(motd(), Change::Changed);
            assert_eq!(
                host.apply(|| when_os(os, vec![motd()])),
                Ok(Change::Changed)
            );
            assert_eq!(host.forms_applied(), [motd()]);
        }
    }

    #[test]
    fn skips_the_forms_elsewhere_and_says_why() {
        let host = debian();
        let os = matching(Some("debian"), Some("11"), None);
        assert_eq!(
            host.apply(|| when_os(os, vec![motd()])),
            Ok(Change::Unchanged)
        );
        assert!(host.forms_applied().is_empty());
        assert_eq!(host.logged(), ["info: not applied: version is 12, not 11"]);

        let ubuntu = debian();
        let os = matching(Some("ubuntu"), None, None);
        assert_eq!(
            ubuntu.apply(|| when_os(os, vec![motd()])),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            ubuntu.logged(),
            ["info: not applied: id is debian, not ubuntu"]
        );
    }

    #[test]
    fn a_field_the_system_lacks_never_matches() {
        let host = FakeHost::new().os_release(OsRelease {
            id: "debian".into(),
            version_id: None,
            version_codename: None,
            pretty_name: None,
        });
        let os = matching(None, Some("13"), None);
        assert_eq!(
            host.apply(|| when_os(os, vec![motd()])),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.logged(),
            ["info: not applied: version is none, not 13"]
        );
    }

    #[test]
    fn refuses_an_empty_match_and_unknown_fields() {
        let host = debian().module(&crate::MODULE);
        let empty = Form::from_value(consfig_guest::serde_json::json!([
            "consfig:when-os",
            {},
            []
        ]))
        .unwrap();
        assert_eq!(
            host.apply_form(&empty).unwrap_err().message(),
            "give at least one of id, version and codename"
        );
        let typo = Form::from_value(consfig_guest::serde_json::json!([
            "consfig:when-os",
            {"ID": "debian"},
            []
        ]))
        .unwrap();
        let err = host.apply_form(&typo).unwrap_err();
        assert!(
            err.message().contains("unknown field `ID`"),
            "{}",
            err.message()
        );
        assert!(host.forms_applied().is_empty());
    }
}
