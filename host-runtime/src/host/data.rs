//! The `data` call: this host's data (secrets) by key, given by the
//! consfig for this host only, to modules granted the key (`data:KEY`).
//! The runtime blanks every value out of what it reports; here it is only
//! handed to the module that asks.

use super::error::HostError;
use super::state::HostState;

impl HostState {
    pub fn data(&self, key: &str) -> Result<Vec<u8>, HostError> {
        self.effects_allowed("data")?;
        self.confinement()
            .data(key)
            .map_err(|denied| HostError::denied("data", key, denied))?;
        let data = &self.policy().data;
        data.get(key).map(<[u8]>::to_vec).ok_or_else(|| {
            let known: Vec<&str> = data.keys().collect();
            HostError::NoData {
                key: key.to_owned(),
                known: if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::host::error::HostError;
    use crate::host::test_support::{host_under, host_with};
    use crate::sandbox::policy::Policy;

    fn granted(grants: &[&str]) -> Policy {
        let mut policy = host_with(grants).policy().clone();
        policy.data.insert("db".into(), b"hunter22\n".to_vec());
        policy.data.insert("api".into(), b"token-1234".to_vec());
        policy
    }

    #[test]
    fn data_is_given_by_key_and_a_missing_key_lists_the_known_ones() {
        let mut policy = granted(&["data:*"]);
        policy.data = Default::default();
        policy.data.insert("db".into(), b"hunter22\n".to_vec());
        let host = host_under(policy);
        assert_eq!(host.data("db").unwrap(), b"hunter22\n");
        let missing = host.data("api").unwrap_err().to_string();
        assert!(
            missing.contains("\"api\"") && missing.contains("it has db"),
            "{missing}"
        );
        assert!(!missing.contains("hunter22"));
    }

    #[test]
    fn data_needs_a_grant_naming_the_key() {
        let none = host_under(granted(&[]));
        let refused = none.data("db").unwrap_err();
        assert!(matches!(refused, HostError::Denied { .. }), "{refused}");
        assert_eq!(
            refused.to_string(),
            "denied: module m may not data db: it has no grant data:db"
        );
        let one = host_under(granted(&["data:db"]));
        assert_eq!(one.data("db").unwrap(), b"hunter22\n");
        let other = one.data("api").unwrap_err().to_string();
        assert!(other.contains("no grant data:api"), "{other}");
        assert!(!other.contains("token-1234"));
    }
}
