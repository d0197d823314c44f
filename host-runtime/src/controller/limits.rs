//! Limits as Consfig.toml writes them — `[limits]` for every form and
//! `limits = {…}` under `[module.NAME]` — read into the sandbox's limits,
//! with errors that name the table and the key.

use std::time::Duration;

use serde::Deserialize;

use crate::sandbox::policy::Limits;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    time: Option<String>,
    memory: Option<String>,
    output: Option<String>,
}

impl RawLimits {
    /// `place` names the table in errors, e.g. `[limits]`.
    pub fn parse(&self, place: &str) -> Result<Limits, String> {
        let size = |key: &str, text: &Option<String>| {
            text.as_ref()
                .map(|t| {
                    t.parse::<bytesize::ByteSize>()
                        .map(|b| b.as_u64())
                        .ok()
                        .filter(|&b| b > 0)
                        .ok_or_else(|| {
                            format!("{place} {key} = {t:?}: not a size (write e.g. \"64MiB\" or \"1MB\")")
                        })
                })
                .transpose()
        };
        Ok(Limits {
            time: self
                .time
                .as_ref()
                .map(|t| parse_duration(&format!("{place} time"), t))
                .transpose()?,
            memory: size("memory", &self.memory)?,
            output: size("output", &self.output)?,
        })
    }
}

pub fn parse_duration(what: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{what} = {text:?}: {e} (write e.g. \"30s\" or \"5m\")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_times_and_sizes_and_names_what_is_wrong() {
        let raw = RawLimits {
            time: Some("30s".into()),
            memory: Some("64MiB".into()),
            output: None,
        };
        let limits = raw.parse("[limits]").unwrap();
        assert_eq!(limits.time, Some(Duration::from_secs(30)));
        assert_eq!(limits.memory, Some(64 << 20));
        assert_eq!(limits.output, None);
        let bad = RawLimits {
            time: None,
            memory: None,
            output: Some("0".into()),
        };
        let e = bad.parse("[module.web] limits").unwrap_err();
        assert!(
            e.starts_with("[module.web] limits output = \"0\": not a size"),
            "{e}"
        );
        assert!(
            parse_duration("form-timeout", "soon")
                .unwrap_err()
                .contains("\"30s\"")
        );
    }
}
