//! `make bench`: what the controller gives up by compiling modules for an
//! architecture's baseline (code any processor of it runs, one compilation
//! for every host) rather than for the CPU features of each target: the same
//! compute-heavy form — `file:line-in-file` matching a regular expression
//! against every line of a 4 MB file — applied in one process on code of
//! each kind, same run, same engine.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use consfig::controller::compiler::Compiler;
use consfig::controller::modules::read_modules;
use consfig::engine::architecture;
use consfig::engine::cache::Cache;
use consfig::engine::image::Image;
use consfig::engine::recipe::Recipe;
use consfig::host::state::{HostMode, HostState};
use consfig::runtime::launcher::RuntimeLauncher;
use consfig::runtime::stub::StubSource;
use consfig::sandbox::grants::ModuleGrants;
use consfig::sandbox::policy::Policy;
use consfig::wire::outcome::Status;
use consfig_contract::{Form, parse_grants};

const ROUNDS: usize = 20;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm_path = root.join("consfig-wasm/target/wasm32-wasip2/release/consfig_file.wasm");
    let modules = read_modules(std::slice::from_ref(&wasm_path))
        .unwrap_or_else(|e| panic!("{e}; run `make build` first"));
    let cache_dir = tempfile::tempdir().unwrap();
    let compiler = Compiler::new(Cache::at(cache_dir.path()).unwrap());
    let baseline = compiler
        .code(architecture::native(), &modules[0])
        .unwrap()
        .bytes
        .clone();
    // The same settings, for the features this processor has.
    let mut config = wasmtime::Config::new();
    config.wasm_backtrace_max_frames(None);
    config.generate_address_map(false);
    config.epoch_interruption(true);
    let host_features = wasmtime::Engine::new(&config)
        .unwrap()
        .precompile_component(&modules[0].bytes)
        .unwrap();

    let files = tempfile::tempdir().unwrap();
    let text: String = (0..100_000)
        .map(|i| format!("setting_{i} = value {i} # a comment\n"))
        .collect();
    let path = files.path().join("big.conf");
    std::fs::write(&path, &text).unwrap();
    let form = Form::parse(&format!(
        r#"["file:line-in-file", {:?}, {{"regexp": "^setting_99999 *= *value [0-9]+ #.*$", "line": "setting_99999 = value 99999 # a comment"}}]"#,
        path.display().to_string()
    ))
    .unwrap();
    let policy = Policy {
        grants: [(
            "file".to_owned(),
            ModuleGrants {
                grants: parse_grants(&[format!("write:{}", files.path().display())]).unwrap(),
                ..ModuleGrants::default()
            },
        )]
        .into(),
        ..Policy::default()
    };
    let engine = consfig::engine::new_engine().unwrap();
    let timed = |code: &[u8]| {
        let launcher = RuntimeLauncher::new(StubSource::None("benches write no bundles".into()));
        let recipe = Recipe::deserialize(
            &engine,
            [("file".to_owned(), modules[0].sha256.as_str(), code)],
            Arc::new(launcher),
        )
        .unwrap();
        let mut image =
            Image::new(&recipe, HostState::new(HostMode::Deploy, policy.clone())).unwrap();
        let started = Instant::now();
        for _ in 0..ROUNDS {
            let outcome = image.apply(&form);
            assert_eq!(outcome.status, Status::Unchanged, "{outcome:?}");
        }
        started.elapsed() / ROUNDS as u32
    };
    // Alternated, so both see the same machine.
    let (mut base, mut host) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        base.push(timed(&baseline));
        host.push(timed(&host_features));
    }
    let best = |v: &[std::time::Duration]| v.iter().min().copied().unwrap();
    let (base, host) = (best(&base), best(&host));
    println!();
    println!(
        "code for the architecture's baseline or for this processor's features: file:line-in-file over a 4 MB file (best of 3 × {ROUNDS}, same run)"
    );
    println!();
    println!("| code | per form | vs baseline | code size |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| {} baseline (what targets get) | {:.2} ms | 1.00× | {} B |",
        architecture::native().name,
        base.as_secs_f64() * 1000.0,
        baseline.len()
    );
    println!(
        "| this processor's features | {:.2} ms | {:.2}× | {} B |",
        host.as_secs_f64() * 1000.0,
        host.as_secs_f64() / base.as_secs_f64(),
        host_features.len()
    );
}
