//! `make bench`: the cost of one form, fork-per-form from the pristine image,
//! next to the baselines measured in the same run:
//!   (a) a bare fork + _exit + waitpid of this process before it loads anything,
//!   (b) a fresh wasmtime instance per form, no fork,
//!   and, for scale, a call into one live instance (no isolation at all);
//! then the cost of forms in contexts (chroot, setuid) as ratios to a plain
//! form, of grants and check mode, of a command under the sandbox's checks
//! (and check mode's read-only view) against the same spawn without them,
//! and of a check-mode form after earlier forms wrote 10 MB (the overlay
//! stays in the control child).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::Arc;

use consfig::controller::compiler::Compiler;
use consfig::controller::modules::read_modules;
use consfig::engine::cache::Cache;
use consfig::engine::executor;
use consfig::engine::image::Image;
use consfig::engine::store::StoreData;
use consfig::host::bindings::ModulePre;
use consfig::host::state::{HostMode, HostState};
use consfig::runtime::launcher::RuntimeLauncher;
use consfig::runtime::stub::StubSource;
use consfig::runtime::zygote::Zygote;
use consfig::sandbox::grants::ModuleGrants;
use consfig::sandbox::policy::Policy;
use consfig::wire::outcome::Status;
use consfig_contract::{Context, Form, parse_grants};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use wasmtime::Store;

const ROUNDS: usize = 400;

fn per_iteration(rounds: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..rounds / 10 {
        f(); // warm up
    }
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    start.elapsed() / rounds as u32
}

fn bare_fork() -> Duration {
    per_iteration(ROUNDS, || {
        // SAFETY: single-threaded bench process; the child only calls _exit.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => unsafe { libc::_exit(0) },
            ForkResult::Parent { child } => {
                waitpid(child, None).expect("waitpid");
            }
        }
    })
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm_path = root.join("consfig-wasm/target/wasm32-wasip2/release/consfig_testing.wasm");
    let modules = read_modules(std::slice::from_ref(&wasm_path))
        .unwrap_or_else(|e| panic!("{e}; run `make build` first"));

    // (a) before wasmtime or any module is loaded: the smallest this process gets.
    let fork_baseline = bare_fork();

    let cache_dir = tempfile::tempdir().unwrap();
    let compiler = Compiler::new(Cache::at(cache_dir.path()).unwrap());
    let engine = consfig::engine::new_engine().unwrap();
    let launcher = RuntimeLauncher::new(StubSource::None("benches write no bundles".into()));
    let recipe = compiler.recipe(&modules, Arc::new(launcher)).unwrap();
    let component = recipe.components()[0].component.clone();
    let form = Form::parse(r#"["testing:echo", "bench"]"#).unwrap();

    // (b) a fresh instance per form, no fork.
    let pre = ModulePre::new(recipe.linker().instantiate_pre(&component).unwrap()).unwrap();
    let fresh_instance = per_iteration(ROUNDS, || {
        executor::block_on(async {
            let host = HostState::new(HostMode::Deploy, Policy::default());
            let mut store = Store::new(&engine, StoreData::new(host));
            // No time limit: the engine interrupts at every epoch tick, and a
            // store's first deadline is the epoch it starts at.
            store.set_epoch_deadline(u64::MAX / 2);
            let module = pre.instantiate_async(&mut store).await.unwrap();
            let props = module.consfig_module_properties();
            props.call_init(&mut store).await.unwrap().unwrap();
            props
                .call_apply(&mut store, form.name(), &form.args_json())
                .await
                .unwrap()
                .unwrap();
        });
    });

    // `testing` is not a standard module: it gets what this deploy grants.
    let deploy_policy = Policy {
        grants: [(
            "testing".to_owned(),
            ModuleGrants {
                grants: parse_grants(&["subdeploy", "context:chroot:/", "context:setuid:*"])
                    .unwrap(),
                ..ModuleGrants::default()
            },
        )]
        .into(),
        ..Policy::default()
    };
    let mut image = Image::new(&recipe, HostState::new(HostMode::Deploy, deploy_policy)).unwrap();

    // The mechanism under test: runtime → control child → grandchild → back.
    let mut zygote = Zygote::spawn(&mut image, &[], &[]).unwrap();
    let fork_per_form = per_iteration(ROUNDS, || {
        let outcome = zygote.apply(&form, Duration::from_secs(60)).unwrap();
        assert_eq!(outcome.status, Status::Unchanged, "{outcome:?}");
    });
    zygote.shutdown();

    // Contexts. A control child already in a chroot (a `chroot:` hop) costs per
    // form what a plain one does; a subdeployment pays for a fresh control child
    // (instantiated from compiled code) and entering its contexts.
    let chroot_dir = tempfile::tempdir().unwrap();
    for dir in ["proc", "sys", "dev", "etc"] {
        std::fs::create_dir(chroot_dir.path().join(dir)).unwrap();
    }
    std::fs::write(
        chroot_dir.path().join("etc/passwd"),
        "nobody:x:65534:65534::/:/bin/false\n",
    )
    .unwrap();
    std::fs::write(chroot_dir.path().join("etc/group"), "nogroup:x:65534:\n").unwrap();
    let chroot: Context = format!("chroot:{}", chroot_dir.path().display())
        .parse()
        .unwrap();
    let setuid: Context = "setuid:nobody".parse().unwrap();
    let mut in_chroot = Zygote::spawn(&mut image, std::slice::from_ref(&chroot), &[]).unwrap();
    let form_in_chroot_hop = per_iteration(ROUNDS, || {
        let outcome = in_chroot.apply(&form, Duration::from_secs(60)).unwrap();
        assert_eq!(outcome.status, Status::Unchanged, "{outcome:?}");
    });
    in_chroot.shutdown();
    let mut zygote = Zygote::spawn(&mut image, &[], &[]).unwrap();
    let mut subdeploy = |contexts: &[&Context]| {
        let contexts: Vec<String> = contexts.iter().map(|c| c.to_string()).collect();
        let form = Form::new(
            "testing:subdeploy-counter",
            vec![serde_json::json!(contexts), serde_json::json!(1)],
        )
        .unwrap();
        per_iteration(ROUNDS / 4, || {
            let outcome = zygote.apply(&form, Duration::from_secs(60)).unwrap();
            assert_eq!(outcome.nested.len(), 1, "{outcome:?}");
        })
    };
    let subdeploy_plain = subdeploy(&[]);
    let subdeploy_chroot = subdeploy(&[&chroot]);
    let subdeploy_setuid = subdeploy(&[&setuid]);
    let subdeploy_both = subdeploy(&[&chroot, &setuid]);
    zygote.shutdown();

    // The choice for nested subdeployments. Eager: every grandchild forks a
    // control child of its own before its form, so every form pays one more
    // fork of a loaded process. Lazy (what the runtime does): only a form that
    // subdeploys pays, for a fresh image instantiated from compiled code.
    let eager_cost = bare_fork();
    let lazy_cost = per_iteration(ROUNDS, || {
        Image::new(&recipe, HostState::new(HostMode::Deploy, Policy::default())).unwrap();
    });

    // Grants and check mode, on a form that writes a file (testing:write):
    // trusted (nothing checked), granted write:/ (checked, no confinement),
    // granted its directory (checked and confined with cap-std), and check mode
    // (same grant, the write answered by the overlay). Per form through fork,
    // and as calls into one live image, where the difference is not diluted.
    let files = tempfile::tempdir().unwrap();
    let write_form = Form::new(
        "testing:write",
        vec![
            serde_json::json!(files.path().join("f").display().to_string()),
            serde_json::json!("x"),
        ],
    )
    .unwrap();
    let policy_with = |grants: ModuleGrants, check: bool| Policy {
        grants: [("testing".to_owned(), grants)].into(),
        check,
        ..Policy::default()
    };
    let dir_grant = ModuleGrants {
        grants: parse_grants(&[format!("write:{}", files.path().display())]).unwrap(),
        ..ModuleGrants::default()
    };
    let root_grant = ModuleGrants {
        grants: parse_grants(&["write:/"]).unwrap(),
        ..ModuleGrants::default()
    };
    let sandboxed = |policy: Policy| {
        let mut image = Image::new(&recipe, HostState::new(HostMode::Deploy, policy)).unwrap();
        let mut zygote = Zygote::spawn(&mut image, &[], &[]).unwrap();
        let forked = per_iteration(ROUNDS, || {
            let outcome = zygote.apply(&write_form, Duration::from_secs(60)).unwrap();
            assert_ne!(outcome.status, Status::Failed, "{outcome:?}");
        });
        zygote.shutdown();
        let live = per_iteration(ROUNDS * 4, || {
            let outcome = image.apply(&write_form);
            assert_ne!(outcome.status, Status::Failed, "{outcome:?}");
        });
        (forked, live)
    };
    let sandbox_rows = [
        (
            "trusted: no grant checked",
            sandboxed(policy_with(ModuleGrants::trusted(), false)),
        ),
        (
            "granted write:/ (checked, not confined)",
            sandboxed(policy_with(root_grant, false)),
        ),
        (
            "granted write:DIR (checked, confined with cap-std)",
            sandboxed(policy_with(dir_grant.clone(), false)),
        ),
        (
            "check mode, granted write:DIR (write answered by the overlay)",
            sandboxed(policy_with(dir_grant.clone(), true)),
        ),
    ];

    // A command: the checks on program, arguments and environment, and in
    // check mode the read-only view it runs in, next to the same spawn
    // without any of them.
    let true_path = std::fs::canonicalize("/bin/true").unwrap();
    let run_true = Form::new(
        "testing:run-with",
        vec![serde_json::json!({"argv": [true_path], "read-only": true})],
    )
    .unwrap();
    let bare_spawn = per_iteration(ROUNDS, || {
        let status = std::process::Command::new(&true_path).status().unwrap();
        assert!(status.success());
    });
    let command_grant = ModuleGrants {
        grants: parse_grants(&[format!("command:{}", true_path.display())]).unwrap(),
        ..ModuleGrants::default()
    };
    let commanded = |policy: Policy| {
        let mut image = Image::new(&recipe, HostState::new(HostMode::Deploy, policy)).unwrap();
        let mut zygote = Zygote::spawn(&mut image, &[], &[]).unwrap();
        let cost = per_iteration(ROUNDS, || {
            let outcome = zygote.apply(&run_true, Duration::from_secs(60)).unwrap();
            assert_ne!(outcome.status, Status::Failed, "{outcome:?}");
        });
        zygote.shutdown();
        cost
    };
    let command_trusted = commanded(policy_with(ModuleGrants::trusted(), false));
    let command_rows = [
        ("trusted: no grant checked", command_trusted),
        (
            "granted command:/bin/true (program, arguments, writers, variables checked)",
            commanded(policy_with(command_grant.clone(), false)),
        ),
        (
            "check mode: run in a read-only mount and network namespace",
            commanded(policy_with(command_grant, true)),
        ),
    ];

    // Check mode after earlier forms wrote 10 MB. The overlay of what they
    // would have changed stays in the control child, which each form's
    // process is forked from: a form never carries it, so its cost does not
    // grow with it.
    let check_policy = policy_with(dir_grant, true);
    let check_mode_form_after = |megabytes: usize| {
        let host = HostState::new(HostMode::Deploy, check_policy.clone());
        let mut image = Image::new(&recipe, host).unwrap();
        let mut zygote = Zygote::spawn(&mut image, &[], &[]).unwrap();
        let chunk = "x".repeat(1 << 20);
        for i in 0..megabytes {
            let path = files.path().join(format!("big-{i}")).display().to_string();
            let big = Form::new(
                "testing:write",
                vec![serde_json::json!(path), serde_json::json!(chunk)],
            )
            .unwrap();
            let outcome = zygote.apply(&big, Duration::from_secs(60)).unwrap();
            assert_eq!(outcome.status, Status::Changed, "{:?}", outcome.reason);
        }
        let cost = per_iteration(ROUNDS, || {
            let outcome = zygote.apply(&write_form, Duration::from_secs(60)).unwrap();
            assert_ne!(outcome.status, Status::Failed, "{outcome:?}");
        });
        zygote.shutdown();
        cost
    };
    let check_empty = check_mode_form_after(0);
    let check_10mb = check_mode_form_after(10);

    // For scale only: this contaminates `image`, which is why the runtime never does it.
    let live_call = per_iteration(ROUNDS * 10, || {
        let outcome = image.apply(&form);
        assert_eq!(outcome.status, Status::Unchanged);
    });

    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    let ratio =
        |d: Duration, base: Duration| format!("{:.2}×", d.as_secs_f64() / base.as_secs_f64());
    println!();
    println!("cost of one form ({ROUNDS} rounds each, this machine, same run)");
    println!();
    println!("| what | per form | vs bare fork (a) | vs fresh instance (b) |");
    println!("| --- | ---: | ---: | ---: |");
    for (what, d) in [
        ("(a) bare fork + _exit + waitpid", fork_baseline),
        (
            "(b) fresh wasmtime instance per form, no fork",
            fresh_instance,
        ),
        (
            "fork-per-form from the pristine image (runtime → control child → grandchild)",
            fork_per_form,
        ),
        ("call into one live instance (no isolation)", live_call),
    ] {
        println!(
            "| {what} | {} | {} | {} |",
            ms(d),
            ratio(d, fork_baseline),
            ratio(d, fresh_instance)
        );
    }
    println!();
    println!("forms in contexts (same run)");
    println!();
    println!("| what | per form | vs plain form |");
    println!("| --- | ---: | ---: |");
    for (what, d) in [
        ("plain form (fork-per-form, above)", fork_per_form),
        (
            "form whose control child is in a chroot (a chroot: hop)",
            form_in_chroot_hop,
        ),
        (
            "form running a 1-form subdeployment, no context",
            subdeploy_plain,
        ),
        (
            "form running a 1-form subdeployment in a chroot",
            subdeploy_chroot,
        ),
        (
            "form running a 1-form subdeployment as setuid:nobody",
            subdeploy_setuid,
        ),
        (
            "form running a 1-form subdeployment, chroot then setuid",
            subdeploy_both,
        ),
    ] {
        println!("| {what} | {} | {} |", ms(d), ratio(d, fork_per_form));
    }
    println!();
    println!("grants and check mode: a form writing one file (same run)");
    println!();
    println!("| what | per form (forked) | vs trusted | per call (live image) | vs trusted |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let (base_forked, base_live) = sandbox_rows[0].1;
    for (what, (forked, live)) in &sandbox_rows {
        println!(
            "| {what} | {} | {} | {} | {} |",
            ms(*forked),
            ratio(*forked, base_forked),
            ms(*live),
            ratio(*live, base_live)
        );
    }
    println!();
    println!("commands: a form running /bin/true (same run)");
    println!();
    println!("| what | per form (forked) | vs trusted | vs the spawn alone |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| the spawn alone, no Wasm, no checks | {} | | 1.00× |",
        ms(bare_spawn)
    );
    for (what, d) in command_rows {
        println!(
            "| {what} | {} | {} | {} |",
            ms(d),
            ratio(d, command_trusted),
            ratio(d, bare_spawn)
        );
    }
    println!();
    println!("check mode: one form after earlier forms wrote 10 MB (same run)");
    println!();
    println!("| what | per form | vs empty overlay |");
    println!("| --- | ---: | ---: |");
    for (what, d) in [
        ("check-mode form, nothing written before", check_empty),
        (
            "check-mode form, 10 MB written by earlier forms",
            check_10mb,
        ),
    ] {
        println!("| {what} | {} | {} |", ms(d), ratio(d, check_empty));
    }
    println!();
    println!("nested control children: eager fork per form, or fresh image per subdeployment");
    println!();
    println!("| what | cost | vs plain form |");
    println!("| --- | ---: | ---: |");
    println!(
        "| eager: one more fork + exit + wait of the loaded process, on every form | {} | {} |",
        ms(eager_cost),
        ratio(eager_cost, fork_per_form)
    );
    println!(
        "| lazy: a fresh pristine image from compiled code, per subdeployment only | {} | {} |",
        ms(lazy_cost),
        ratio(lazy_cost, fork_per_form)
    );
}
