//! Compiled code on its way to a target and in the target's cache: the
//! runtime (`consfig-stub runtime`, spoken to directly as a controller would,
//! or through deploys) stores only code whose bytes have the hash they were
//! sent under, loads only code that still has it, asks again for code found
//! altered in its cache, and never loads code made for another engine —
//! another architecture, or other settings. What targets receive has no
//! compiler in it.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use consfig::controller::compiler::Compiler;
use consfig::controller::modules::read_modules;
use consfig::engine::architecture;
use consfig::engine::cache::{Cache, sha256_hex};
use consfig::sandbox::policy::Policy;
use consfig::wire::protocol::{self, FromRuntime, ModuleCode, ToRuntime};
use consfig_tests::{Sandbox, consfig_bin, module, repo_root, runtime_bin};

/// A runtime spoken to directly, with a cache of its own.
struct Runtime {
    child: Child,
    input: ChildStdin,
    output: ChildStdout,
    cache: tempfile::TempDir,
}

impl Runtime {
    fn start() -> (Runtime, Vec<String>) {
        let cache = tempfile::tempdir().unwrap();
        let mut child = Command::new(runtime_bin())
            .arg("runtime")
            .env("XDG_CACHE_HOME", cache.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        let mut runtime = Runtime {
            child,
            input,
            output,
            cache,
        };
        let FromRuntime::Hello {
            arch, cached_code, ..
        } = runtime.recv()
        else {
            panic!("the runtime greets first")
        };
        assert_eq!(arch, std::env::consts::ARCH);
        (runtime, cached_code)
    }

    fn recv(&mut self) -> FromRuntime {
        protocol::recv(&mut self.output).unwrap()
    }

    /// Send `code` under `sha256`, as the bytes `packed` (a gzip).
    fn send_code(&mut self, sha256: &str, size: usize, packed: &[u8]) {
        protocol::send(
            &mut self.input,
            &ToRuntime::Code {
                sha256: sha256.to_owned(),
                size: size as u64,
                compressed_size: packed.len() as u64,
            },
        )
        .unwrap();
        protocol::write_frame(&mut self.input, packed).unwrap();
    }

    fn load(&mut self, module: &str, code: &str) {
        protocol::send(
            &mut self.input,
            &ToRuntime::Load {
                modules: vec![ModuleCode {
                    module: module.to_owned(),
                    code: code.to_owned(),
                }],
                files: Default::default(),
                policy: Box::new(Policy::default()),
                contexts: Vec::new(),
            },
        )
        .unwrap();
    }

    /// The code the runtime's cache holds, by name.
    fn cached(&self) -> Vec<String> {
        match std::fs::read_dir(self.cache.path().join("consfig/code")) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The runtime's end: its exit status and stderr.
    fn finish(mut self) -> (bool, String) {
        drop(self.input);
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (self.child.wait().unwrap().success(), stderr)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The testing module's Wasm hash and its code compiled for `arch`.
fn testing_code(arch: &str) -> (String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let compiler = Compiler::new(Cache::at(dir.path()).unwrap());
    let modules = read_modules(&[module("testing")]).unwrap();
    let code = compiler
        .code(architecture::by_name(arch).unwrap(), &modules[0])
        .unwrap();
    (modules[0].sha256.clone(), code.bytes.clone())
}

#[test]
fn code_altered_on_its_way_is_refused_and_never_cached() {
    let (module_hash, code) = testing_code(std::env::consts::ARCH);
    let sha256 = sha256_hex(&code);

    // One byte changed in the code, compressed as sent: its hash differs.
    let mut altered = code.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x40;
    let (mut runtime, _) = Runtime::start();
    runtime.send_code(&sha256, code.len(), &gzip(&altered));
    let FromRuntime::Fatal { message } = runtime.recv() else {
        panic!("altered code is fatal")
    };
    assert!(
        message.starts_with(&format!(
            "compiled code {sha256}: compiled code received as {sha256} hashes to"
        )),
        "{message}"
    );
    assert!(runtime.cached().is_empty(), "nothing cached");
    let (ok, _) = runtime.finish();
    assert!(!ok);

    // Cut short, or damaged in its compression: refused the same.
    let packed = gzip(&code);
    for bad in [
        packed[..packed.len() / 2].to_vec(),
        [&packed[..20], &[0xff; 8][..], &packed[28..]].concat(),
    ] {
        let (mut runtime, _) = Runtime::start();
        runtime.send_code(&sha256, code.len(), &bad);
        let FromRuntime::Fatal { message } = runtime.recv() else {
            panic!("damaged code is fatal")
        };
        assert!(
            message.starts_with(&format!("compiled code {sha256}: expected "))
                || message.starts_with(&format!("compiled code {sha256}: corrupt compressed data")),
            "{message}"
        );
        assert!(runtime.cached().is_empty(), "nothing cached");
        runtime.finish();
    }

    // Sent whole, it is kept, and loads.
    let (mut runtime, _) = Runtime::start();
    runtime.send_code(&sha256, code.len(), &packed);
    runtime.load(&module_hash, &sha256);
    assert!(
        matches!(runtime.recv(), FromRuntime::Ready { .. }),
        "the code loads"
    );
    assert_eq!(runtime.cached(), [sha256]);
    runtime.finish();
}

#[test]
fn code_made_for_another_engine_is_never_loaded() {
    let (module_hash, native) = testing_code(std::env::consts::ARCH);
    // Another architecture's code, under its own (right) hash.
    let (_, aarch64) = testing_code("aarch64");
    // This architecture's, by an engine of other settings: no epoch checks
    // (so no deadline could stop it).
    let mut config = wasmtime::Config::new();
    config.wasm_backtrace_max_frames(None);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let unbounded = engine
        .precompile_component(&std::fs::read(module("testing")).unwrap())
        .unwrap();
    assert_ne!(unbounded, native);

    for (code, why) in [
        (aarch64, "Module was compiled for architecture 'aarch64'"),
        (unbounded, "epoch interruption"),
    ] {
        let sha256 = sha256_hex(&code);
        let (mut runtime, _) = Runtime::start();
        runtime.send_code(&sha256, code.len(), &gzip(&code));
        runtime.load(&module_hash, &sha256);
        let FromRuntime::Fatal { message } = runtime.recv() else {
            panic!("code for another engine must not load")
        };
        assert!(message.contains(why), "{why}: {message}");
        let (ok, _) = runtime.finish();
        assert!(!ok);
    }
}

/// A deploy's second run finds the code it sent altered in the target's
/// cache (rewritten, or replaced by other code): the runtime drops it, asks
/// again, and runs the forms on code sent anew.
#[test]
fn code_altered_in_the_targets_cache_is_refused_and_sent_again() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[r#"["testing:counter"]"#.to_owned()],
        "",
    );
    let first = sb.deploy(&[]);
    assert_eq!(first.code, 23, "{first:?}");
    let code_dir = sb.cache().join("consfig/code");
    let entries: Vec<_> = std::fs::read_dir(&code_dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let cached = entries.into_iter().next().unwrap().unwrap().path();
    let good = std::fs::read(&cached).unwrap();
    let sent = first.event("modules")["bytes"].as_u64().unwrap();

    let other = std::fs::read(module("file")).unwrap();
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    for altered in [flipped, good[..good.len() / 2].to_vec(), other] {
        std::fs::write(&cached, &altered).unwrap();
        let run = sb.deploy(&[]);
        assert_eq!(run.code, 23, "{run:?}");
        let output = run.forms()[0]["output"].as_str().unwrap().to_owned();
        assert!(output.contains("counter=1"), "{output}");
        let modules = run.event("modules");
        assert_eq!(modules["sent"].as_array().unwrap().len(), 1, "sent again");
        assert_eq!(modules["bytes"].as_u64().unwrap(), sent);
        assert_eq!(std::fs::read(&cached).unwrap(), good, "the cache mended");
    }
    // Untouched, it is not sent again.
    let run = sb.deploy(&[]);
    assert_eq!(run.event("modules")["bytes"], 0);
}

/// What targets receive is the runtime without a compiler: none of
/// Cranelift's code generator or wasmtime's compiler is linked in, while
/// the controller (which compiles) has them — the check can tell.
#[test]
fn the_runtime_targets_receive_has_no_compiler() {
    let compiler_crates = ["cranelift-codegen-", "wasmtime-internal-cranelift-"];
    let mentions = |path: &std::path::Path| -> Vec<&str> {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compiler_crates
            .iter()
            .copied()
            .filter(|name| bytes.windows(name.len()).any(|w| w == name.as_bytes()))
            .collect()
    };
    assert_eq!(
        mentions(&consfig_bin()),
        compiler_crates,
        "the controller compiles"
    );
    for runtime in [
        runtime_bin(),
        repo_root().join("target/release/consfig-stub.aarch64"),
    ] {
        assert!(mentions(&runtime).is_empty(), "{}", runtime.display());
    }
}
