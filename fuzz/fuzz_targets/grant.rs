//! Grants as written: parsed, shown and parsed back the same; each covers
//! itself; and any two lines compared both ways. Argument globs are
//! matched against the words of the last line.

#![no_main]

use consfig_contract::{Grant, args_match};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    let grants: Vec<Grant> = lines.iter().filter_map(|l| l.parse().ok()).collect();
    for grant in &grants {
        let shown = grant.to_string();
        assert_eq!(shown.parse::<Grant>().as_ref(), Ok(grant), "{shown:?}");
        assert!(grant.covers(grant), "{shown:?} does not cover itself");
    }
    for a in &grants {
        for b in &grants {
            let _ = a.covers(b);
        }
    }
    if let Some(Grant::Command {
        args: Some(patterns),
        ..
    }) = grants.first()
    {
        let args: Vec<String> = lines
            .last()
            .unwrap_or(&"")
            .split(' ')
            .map(str::to_owned)
            .collect();
        let _ = args_match(patterns, &args);
    }
});
