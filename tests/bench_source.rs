//! `make bench`: what building modules from source costs a deploy that
//! changes nothing. A consfig made by `consfig new` is deployed again and
//! again, its module named by its crate directory (so each deploy runs
//! cargo's up-to-date check), and the same consfig with that module's built
//! `.wasm` named instead; the two alternate, in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use consfig_tests::{Sandbox, cargo_env, modules_target_dir};

const DEPLOYS: usize = 15;

fn main() {
    let sandbox = Sandbox::new();
    let env = cargo_env();
    let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let run = |dir: &Path, args: &[&str]| sandbox.consfig_in(dir, args, &env, None);

    let made = run(sandbox.path(), &["new", "bench-site"]);
    assert_eq!(made.code, 0, "{made:?}");
    let dir = sandbox.path().join("bench-site");
    let first = run(&dir, &["deploy", "laptop"]);
    assert_eq!(first.code, 23, "{first:?}");

    // The same consfig, with the module cargo built named as a file.
    let prebuilt = dir.join("prebuilt.wasm");
    std::fs::copy(
        modules_target_dir().join("wasm32-wasip2/release/bench_site.wasm"),
        &prebuilt,
    )
    .unwrap();
    let consfig = std::fs::read_to_string(dir.join("Consfig.toml")).unwrap();
    let with_file = consfig.replace("\"modules/bench-site\"", "\"prebuilt.wasm\"");
    assert_ne!(consfig, with_file);
    std::fs::write(dir.join("Prebuilt.toml"), with_file).unwrap();

    let deploy = |consfig: &str| {
        let began = Instant::now();
        let run = run(&dir, &["deploy", "--consfig", consfig, "laptop"]);
        let took = began.elapsed();
        assert_eq!(run.code, 0, "{run:?}");
        took
    };
    let (mut source, mut file) = (Vec::new(), Vec::new());
    for _ in 0..DEPLOYS {
        source.push(deploy("Consfig.toml"));
        file.push(deploy("Prebuilt.toml"));
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[DEPLOYS / 2]
    };
    let (source, file) = (median(source), median(file));
    println!(
        "no-change deploy, one module built from source (cargo's up-to-date check included): {:.1} ms",
        source.as_secs_f64() * 1e3
    );
    println!(
        "the same with the prebuilt .wasm:                                                  {:.1} ms",
        file.as_secs_f64() * 1e3
    );
    println!(
        "ratio: {:.2} × (median of {DEPLOYS}, alternating)",
        source.as_secs_f64() / file.as_secs_f64()
    );
}
