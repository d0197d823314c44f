//! The `data` call: this host's data (secrets) by key, given by the
//! consfig for this host only. The runtime blanks every value out of what it
//! reports; here it is only handed to the module that asks.

use super::error::HostError;
use super::state::HostState;

impl HostState {
    pub fn data(&self, key: &str) -> Result<Vec<u8>, HostError> {
        self.effects_allowed("data")?;
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
    use crate::host::test_support::host_under;
    use crate::sandbox::policy::Policy;

    #[test]
    fn data_is_given_by_key_and_a_missing_key_lists_the_known_ones() {
        let mut policy = Policy::default();
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
}
