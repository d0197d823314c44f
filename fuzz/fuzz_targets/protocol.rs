//! The protocol as each side hears it. The bytes are what a runtime says to
//! a controller: a whole conversation is held over them (greeting, code,
//! forms, outcomes reported as text and as JSON lines), and what reaches the
//! report must hold no character a terminal acts on. The same bytes are
//! then read as a controller's messages to a runtime, each re-encoded and
//! read back the same.

#![no_main]

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, OnceLock};

use consfig::controller::compiler::Compiler;
use consfig::controller::connection::{RuntimeChannel, RuntimeProcess};
use consfig::controller::consfig_files::HostFiles;
use consfig::controller::reporter::Reporter;
use consfig::controller::session::Session;
use consfig::controller::summary::HostSummary;
use consfig::engine::cache::Cache;
use consfig::sandbox::policy::Policy;
use consfig::wire::protocol::{self, ToRuntime};
use consfig_contract::Form;
use libfuzzer_sys::fuzz_target;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Gone;

impl RuntimeProcess for Gone {
    fn finish(&mut self) -> String {
        String::new()
    }
}

/// The compiler of every conversation, with a cache of its own.
fn compiler() -> &'static Compiler {
    static COMPILER: OnceLock<Compiler> = OnceLock::new();
    COMPILER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("consfig-fuzz-{}", std::process::id()));
        Compiler::new(Cache::at(dir).unwrap())
    })
}

/// A conversation with a runtime that says `data`, reported as text
/// (`json` false, in check mode with diffs) or JSON lines.
fn converse(data: &[u8], json: bool) {
    let forms: Vec<Form> = (0..3)
        .map(|i| Form::parse(&format!(r#"["testing:echo", {i}]"#)).unwrap())
        .collect();
    let out = Shared::default();
    let reporter = Reporter::new(Box::new(out.clone()), json, true).checking(true);
    let mut channel = RuntimeChannel {
        reader: Box::new(Cursor::new(data.to_vec())),
        writer: Box::new(std::io::sink()),
        process: Box::new(Gone),
        deadline: Default::default(),
        runtime_bytes_sent: 0,
    };
    let mut summary = HostSummary::default();
    let result = Session {
        host: "web1",
        forms: &forms,
        modules: &[],
        files: &HostFiles::new(),
        policy: Policy::default(),
        contexts: Vec::new(),
        // No module: it never compiles.
        compiler: compiler(),
    }
    .run(&mut channel, &reporter, &mut summary);
    if let Err(error) = result {
        reporter.host_error("web1", &error.to_string(), false);
    }
    drop(reporter);
    let bytes = out.0.lock().unwrap();
    let text = std::str::from_utf8(&bytes).expect("reports are UTF-8");
    // Line breaks and tabs only move the cursor on.
    let acts = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    assert!(
        !text.chars().any(acts),
        "a raw control character in {text:?}"
    );
    for line in text.lines() {
        if json {
            let event: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
            assert_eq!(event["host"], "web1");
        } else {
            assert!(
                line.starts_with("web1 :: ") || line.starts_with(' '),
                "a line of no host: {line:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    converse(data, false);
    converse(data, true);

    let mut input = data;
    while let Ok(message) = protocol::recv::<ToRuntime>(&mut input) {
        let mut again = Vec::new();
        protocol::send(&mut again, &message).unwrap();
        let back: ToRuntime = protocol::recv(&mut again.as_slice()).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&message).unwrap()
        );
    }
});
