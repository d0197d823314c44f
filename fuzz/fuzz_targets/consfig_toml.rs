//! `Consfig.toml` as the controller reads it — modules, limits, grants,
//! hosts, connections, forms with their lines, groups — without looking at
//! the file system: every `modules` pattern stands for one file. Then the
//! hosts are selected by name, as `consfig deploy` does.

#![no_main]

use std::path::{Path, PathBuf};

use consfig::controller::consfig_file::Consfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let patterns_as_files = |base: &Path, patterns: &[String]| -> Result<Vec<PathBuf>, String> {
        Ok(patterns.iter().map(|p| base.join(p)).collect())
    };
    let Ok(consfig) =
        Consfig::parse_with(Path::new("/consfig/Consfig.toml"), text, patterns_as_files)
    else {
        return;
    };
    let mut names: Vec<String> = consfig.hosts.keys().cloned().collect();
    names.extend(consfig.groups.keys().cloned());
    names.push("no-such-host".into());
    let _ = consfig.select(&names);
    for host in consfig.hosts.values() {
        for form in &host.forms {
            assert!(form.line >= 1 && form.line <= text.lines().count().max(1));
            let _ = form.form.summary().to_string();
        }
    }
});
