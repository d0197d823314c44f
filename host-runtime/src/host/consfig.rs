//! What the consfig gives this host besides its forms: its variables
//! (`var`, `vars`) and the files of the consfig its forms name
//! (`consfig-file`). Neither needs a grant: the consfig chose to send them to
//! this host, and they are not secrets (data is, and has its own call).

use super::error::HostError;
use super::state::HostState;

impl HostState {
    /// This host's variable `key` as JSON text; none when it has none.
    pub fn var(&self, key: &str) -> Option<String> {
        self.policy().vars.get(key).map(|value| value.to_string())
    }

    /// Every variable of this host as one JSON object.
    pub fn vars(&self) -> String {
        serde_json::Value::Object(self.policy().vars.clone()).to_string()
    }

    /// The file of the consfig at `path` (relative to Consfig.toml), as the
    /// controller sent it.
    pub fn consfig_file(&self, path: &str) -> Result<Vec<u8>, HostError> {
        self.effects_allowed("consfig-file")?;
        let files = &self.policy().files;
        files
            .get(path)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| HostError::NoConsfigFile {
                path: path.to_owned(),
                sent: sent_list(files.paths()),
            })
    }
}

/// The most paths a refusal lists of the files sent.
const LISTED: usize = 10;

/// The paths sent, for an error: at most [`LISTED`], saying how many more.
fn sent_list<'p>(paths: impl ExactSizeIterator<Item = &'p str>) -> String {
    let total = paths.len();
    if total == 0 {
        return "none".to_owned();
    }
    let mut listed: Vec<&str> = paths.take(LISTED).collect();
    let more = total - listed.len();
    let more = (more > 0).then(|| format!("and {more} more"));
    listed.extend(more.as_deref());
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::host::error::HostError;
    use crate::host::test_support::{host_under, inspecting};
    use crate::sandbox::policy::{ConsfigFiles, Policy};

    fn given() -> Policy {
        let mut policy = Policy::default();
        policy.vars.insert("port".into(), 8080.into());
        policy
            .vars
            .insert("names".into(), serde_json::json!(["a", "b"]));
        policy.files = ConsfigFiles::new(BTreeMap::from([
            (
                "templates/motd.j2".to_owned(),
                b"hello {{ name }}\n".to_vec(),
            ),
            ("./keys.txt".to_owned(), b"\x00\xffbytes".to_vec()),
        ]));
        policy
    }

    #[test]
    fn variables_are_json_by_key_and_all_at_once() {
        let host = host_under(given());
        assert_eq!(host.var("port").as_deref(), Some("8080"));
        assert_eq!(host.var("names").as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(host.var("nope"), None);
        assert_eq!(host.vars(), r#"{"names":["a","b"],"port":8080}"#);
        assert_eq!(host_under(Policy::default()).vars(), "{}");
    }

    #[test]
    fn consfig_files_are_read_by_their_relative_path_however_spelled() {
        let host = host_under(given());
        assert_eq!(
            host.consfig_file("templates/motd.j2").unwrap(),
            b"hello {{ name }}\n"
        );
        assert_eq!(
            host.consfig_file("./templates//motd.j2").unwrap(),
            b"hello {{ name }}\n"
        );
        assert_eq!(host.consfig_file("keys.txt").unwrap(), b"\x00\xffbytes");
        let missing = host.consfig_file("../secret").unwrap_err();
        assert!(
            matches!(&missing, HostError::NoConsfigFile { .. }),
            "{missing}"
        );
        let text = missing.to_string();
        assert!(
            text.contains("\"../secret\"")
                && text.contains("only files that this host's forms name")
                && text.contains("keys.txt, templates/motd.j2"),
            "{text}"
        );
    }

    #[test]
    fn a_refusal_lists_at_most_ten_paths_sent() {
        let many: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
        assert_eq!(
            super::sent_list(many.iter().map(String::as_str)),
            "f00, f01, f02, f03, f04, f05, f06, f07, f08, f09, and 2 more"
        );
        assert_eq!(super::sent_list(std::iter::empty()), "none");
    }

    #[test]
    fn consfig_files_are_not_read_while_modules_are_inspected() {
        let host = inspecting(&[]);
        assert!(matches!(
            host.consfig_file("a"),
            Err(HostError::Inspecting { .. })
        ));
    }
}
