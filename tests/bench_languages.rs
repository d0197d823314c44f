//! `make bench`: the same property — the example's `website` — written in
//! Rust (`example:website`, composing `file:` and `cmd:` forms), Python
//! (`example-python:website`) and JavaScript (`example-js:website`, both
//! with host calls of their own), deployed over SSH to a loopback sshd in
//! the same run: the bytes a new target is sent, the controller's first
//! compilation of each module, the cost of one more form when nothing
//! changes and when the site is made, and the peak memory of a deploy.
//! Ratios are to Rust.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::{built, consfig_bin, module, q};

/// Forms of the many-forms deploys; per form = (many − one) / (MANY − 1).
const MANY: usize = 101;
const ROUNDS: usize = 5;

struct Language {
    name: &'static str,
    property: &'static str,
    /// Every module its consfig loads.
    modules: Vec<PathBuf>,
    /// The one written in the language.
    own: PathBuf,
    /// Consfig.toml lines granting its module what `root` needs.
    grants: fn(&Path) -> String,
}

fn languages() -> Vec<Language> {
    let python = built::module("example-python");
    let js = built::module("example-js");
    vec![
        Language {
            name: "Rust",
            property: "example:website",
            modules: vec![module("file"), module("cmd"), module("example")],
            own: module("example"),
            // Its steps are forms of the standard modules, granted their needs.
            grants: |_| String::new(),
        },
        Language {
            name: "Python",
            property: "example-python:website",
            modules: vec![python.clone()],
            own: python,
            grants: |root| {
                format!(
                    "[module.example-python]\ngrants = [{}, {}]\n",
                    q(format!("write:{}", root.display())),
                    q("command:/bin/sh -c 'echo built > built.txt'")
                )
            },
        },
        Language {
            name: "JavaScript",
            property: "example-js:website",
            modules: vec![js.clone()],
            own: js,
            grants: |root| {
                format!(
                    "[module.example-js]\ngrants = [{}, {}]\n",
                    q(format!("write:{}", root.display())),
                    q("command:/bin/sh -c 'echo built > built.txt'")
                )
            },
        },
    ]
}

/// One language's consfig and caches, in a directory of its own.
struct Bench<'a> {
    language: &'a Language,
    dir: tempfile::TempDir,
}

impl Bench<'_> {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn www(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    /// Consfig.toml: host `h0` over SSH with `forms` websites, host `here`
    /// (local) with one of its own.
    fn write(&self, forms: usize) {
        let www = self.www();
        std::fs::create_dir_all(&www).unwrap();
        let modules: Vec<String> = self
            .language
            .modules
            .iter()
            .map(|m| q(m.display().to_string()))
            .collect();
        let site = |name: String| {
            format!(
                "  [{}, {}],\n",
                q(self.language.property),
                q(www.join(name).display().to_string())
            )
        };
        let mut text = format!("modules = [{}]\n", modules.join(", "));
        text.push_str(&(self.language.grants)(&www));
        text.push_str("[hosts.h0]\nconnection = [\"ssh://h0\"]\nproperties = [\n");
        (0..forms).for_each(|i| text.push_str(&site(format!("site{i}"))));
        text.push_str("]\n[hosts.here]\nconnection = [\"local\"]\nproperties = [\n");
        text.push_str(&site("local".to_owned()));
        text.push_str("]\n");
        std::fs::write(self.dir.path().join("Consfig.toml"), text).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(consfig_bin());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.dir.path().join("controller-cache"))
            .env_remove("SSH_AUTH_SOCK");
        command
    }

    /// A deploy's wall time and the bytes it sent.
    fn deploy(&self, host: &str, expect: i32) -> (Duration, u64) {
        let began = Instant::now();
        let out = self.command(&["deploy", "--json", host]).output().unwrap();
        let took = began.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(expect),
            "{} {host}: {stdout}\n{}",
            self.language.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["event"] == "summary")
            .map(|e| e["bytes_sent"].as_u64().unwrap_or(0))
            .sum();
        (took, bytes)
    }

    /// The median of ROUNDS unchanged deploys of `h0` with `forms` forms.
    fn unchanged(&self, forms: usize) -> Duration {
        self.write(forms);
        let mut times: Vec<Duration> = (0..ROUNDS).map(|_| self.deploy("h0", 0).0).collect();
        times.sort();
        times[ROUNDS / 2]
    }

    /// The compilation of the language's own module by a controller with
    /// an empty cache: `consfig describe` cold, less the same warm.
    fn compile_time(&self) -> Duration {
        let own = self.language.own.display().to_string();
        let describe = || {
            let began = Instant::now();
            let out = self.command(&["describe", &own]).output().unwrap();
            assert!(out.status.success(), "{out:?}");
            began.elapsed()
        };
        let cache = self.dir.path().join("controller-cache");
        let _ = std::fs::remove_dir_all(&cache);
        let cold = describe();
        let warm = (0..3).map(|_| describe()).min().unwrap();
        cold.saturating_sub(warm)
    }

    /// Peak resident memory of the largest process of a warm local deploy
    /// of one form (the controller, or the runtime holding the modules):
    /// wait4's usage of the controller counts its reaped descendants.
    fn peak_rss_kib(&self) -> i64 {
        self.write(1);
        self.deploy("here", 23);
        // Waited for by wait4 below, which Child::wait cannot do.
        #[allow(clippy::zombie_processes)]
        let child = self.command(&["deploy", "here"]).spawn().unwrap();
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter of wait4.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        // SAFETY: waits for our own child, filling our own structures.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(waited, pid);
        usage.ru_maxrss
    }
}

fn gzip_len(path: &Path) -> usize {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&std::fs::read(path).unwrap()).unwrap();
    encoder.finish().unwrap().len()
}

struct Measured {
    wasm: u64,
    wasm_gzip: usize,
    compile: Duration,
    cold: (Duration, u64),
    one: Duration,
    per_form: Duration,
    per_made_form: Duration,
    rss_kib: i64,
}

fn measure(language: &Language) -> Measured {
    let bench = Bench {
        language,
        dir: tempfile::tempdir().unwrap(),
    };
    let compile = bench.compile_time();
    let server = Sshd::start();
    trust(&bench.home(), &[&server], |_| "h0".to_owned());

    // A new target: runtime and compiled code sent, one site made.
    bench.write(1);
    let cold = bench.deploy("h0", 23);
    let one = bench.unchanged(1);
    // Sites made: MANY − 1 more forms that change, on a warm target.
    bench.write(MANY);
    let (made, _) = bench.deploy("h0", 23);
    let many = bench.unchanged(MANY);
    drop(server);

    let per = |total: Duration, base: Duration| total.saturating_sub(base) / (MANY as u32 - 1);
    Measured {
        wasm: std::fs::metadata(&language.own).unwrap().len(),
        wasm_gzip: gzip_len(&language.own),
        compile,
        cold,
        one,
        per_form: per(many, one),
        // The made deploy held one form already made: MANY − 1 changed.
        per_made_form: per(made, one),
        rss_kib: bench.peak_rss_kib(),
    }
}

fn main() {
    let languages = languages();
    let measured: Vec<Measured> = languages.iter().map(measure).collect();
    let rust = &measured[0];
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let mb = |b: f64| format!("{:.2} MB", b / 1e6);
    let ratio = |a: f64, b: f64| match b > 0.0 {
        true => format!("{:.1}×", a / b),
        false => "–".to_owned(),
    };
    println!();
    println!(
        "the website property in three languages, over SSH to loopback sshd (same run; ratios to Rust)"
    );
    println!();
    println!(
        "| | {} |",
        languages
            .iter()
            .map(|l| l.name)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("| --- |{}", " ---: |".repeat(languages.len()));
    let row = |what: &str, cell: &dyn Fn(&Measured) -> String| {
        let cells: Vec<String> = measured.iter().map(cell).collect();
        println!("| {what} | {} |", cells.join(" | "));
    };
    row("module .wasm (gzip)", &|m| {
        format!(
            "{} ({}) {}",
            mb(m.wasm as f64),
            mb(m.wasm_gzip as f64),
            ratio(m.wasm as f64, rust.wasm as f64)
        )
    });
    row("first compilation on the controller", &|m| {
        format!(
            "{} {}",
            s(m.compile),
            ratio(m.compile.as_secs_f64(), rust.compile.as_secs_f64())
        )
    });
    row("bytes sent to a new target (runtime + modules)", &|m| {
        format!(
            "{} {}",
            mb(m.cold.1 as f64),
            ratio(m.cold.1 as f64, rust.cold.1 as f64)
        )
    });
    row("first deploy to a new target, one form", &|m| {
        format!(
            "{} {}",
            s(m.cold.0),
            ratio(m.cold.0.as_secs_f64(), rust.cold.0.as_secs_f64())
        )
    });
    row("deploy of one form, unchanged (median)", &|m| {
        format!(
            "{} {}",
            ms(m.one),
            ratio(m.one.as_secs_f64(), rust.one.as_secs_f64())
        )
    });
    row("one more form, unchanged", &|m| {
        format!(
            "{} {}",
            ms(m.per_form),
            ratio(m.per_form.as_secs_f64(), rust.per_form.as_secs_f64())
        )
    });
    row("one more form, site made", &|m| {
        format!(
            "{} {}",
            ms(m.per_made_form),
            ratio(
                m.per_made_form.as_secs_f64(),
                rust.per_made_form.as_secs_f64()
            )
        )
    });
    row(
        "peak RSS of a local one-form deploy (largest process)",
        &|m| {
            format!(
                "{} {}",
                mb(m.rss_kib as f64 * 1024.0),
                ratio(m.rss_kib as f64, rust.rss_kib as f64)
            )
        },
    );
}
