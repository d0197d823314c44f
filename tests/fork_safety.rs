//! The rules that keep fork safe, checked through the library the binary uses:
//! no fork while another thread exists, and the runtime's own pristine image
//! is never run, so a new control child forked from it starts clean.

use std::time::Duration;

use std::sync::Arc;

use consfig::controller::compiler::Compiler;
use consfig::controller::modules::read_modules;
use consfig::engine::cache::Cache;
use consfig::engine::image::Image;
use consfig::host::state::{HostMode, HostState};
use consfig::runtime::fork::{ForkError, thread_count};
use consfig::runtime::launcher::RuntimeLauncher;
use consfig::runtime::stub::StubSource;
use consfig::runtime::zygote::{Zygote, ZygoteError};
use consfig::sandbox::policy::Policy;
use consfig_contract::Form;
use consfig_tests::module;

fn testing_image(cache: &Cache) -> Image {
    let modules = read_modules(&[module("testing")]).unwrap();
    let launcher = RuntimeLauncher::new(StubSource::None("no stub in this test".into()));
    let recipe = Compiler::new(cache.clone())
        .recipe(&modules, Arc::new(launcher))
        .unwrap();
    Image::new(&recipe, HostState::new(HostMode::Deploy, Policy::default())).unwrap()
}

fn counter(outcome_output: &str) -> u32 {
    let line = outcome_output
        .lines()
        .find(|l| l.starts_with("counter="))
        .expect(outcome_output);
    line["counter=".len()..].parse().unwrap()
}

/// Runs without libtest (`harness = false`): libtest runs tests on worker
/// threads, and these checks must know every thread of the process.
fn main() {
    assert_eq!(thread_count().unwrap(), 1, "starts single-threaded");
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path()).unwrap();
    let mut image = testing_image(&cache);
    let form = Form::parse(r#"["testing:counter"]"#).unwrap();

    // The harness's own thread makes this process multi-threaded: forking must be refused.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let extra = std::thread::spawn(move || stopped.recv());
    assert!(thread_count().unwrap() >= 2);
    match Zygote::spawn(&mut image, &[], &[]) {
        Err(ZygoteError::Fork(ForkError::Threads(n))) => assert!(n >= 2),
        Err(e) => panic!("wrong refusal: {e}"),
        Ok(z) => {
            z.kill();
            panic!("forked a multi-threaded process")
        }
    }
    drop(stop);
    extra.join().unwrap().unwrap_err();

    assert_eq!(thread_count().unwrap(), 1, "the extra thread is gone");

    let mut zygote = Zygote::spawn(&mut image, &[], &[]).unwrap();
    for _ in 0..3 {
        let outcome = zygote.apply(&form, Duration::from_secs(30)).unwrap();
        assert_eq!(
            counter(&outcome.output),
            1,
            "each form starts from the pristine image"
        );
    }
    // Kill the control child: a new one forked from the runtime's image starts clean,
    // because the runtime's own copy never ran a form.
    let pid = zygote.pid();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    assert!(
        zygote.apply(&form, Duration::from_secs(30)).is_err(),
        "a dead control child is noticed"
    );
    zygote.kill();
    let mut fresh = Zygote::spawn(&mut image, &[], &[]).unwrap();
    let outcome = fresh.apply(&form, Duration::from_secs(30)).unwrap();
    assert_eq!(counter(&outcome.output), 1);
    fresh.shutdown();

    // And in this process, the image itself still holds the value it was loaded with.
    assert_eq!(counter(&image.apply(&form).output), 1);
    println!("fork_safety: 1 passed, 0 failed");
}
