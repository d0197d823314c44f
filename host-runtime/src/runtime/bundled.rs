//! Running a bundle: the `main` of `consfig-stub`. The bundle checks its own
//! executable (sizes and checksum in the trailer), loads the compiled
//! modules into a pristine image and applies its form in this process, so
//! the form's exit status and the signals the process gets are the
//! service's own. A form it runs can dump an image too: on its own stub.

use std::sync::Arc;

use super::launcher::RuntimeLauncher;
use super::stub::StubSource;
use crate::bundle::format::{Bundle, EXIT_BAD_BUNDLE, EXIT_FORM_FAILED};
use crate::engine::image::Image;
use crate::engine::recipe::Recipe;
use crate::host::state::HostState;
use crate::sandbox::policy::ConsfigFiles;
use crate::wire::outcome::Status;

/// Whether this executable is a bundle (a stub with a payload and trailer).
pub fn is_bundle() -> bool {
    std::fs::File::open("/proc/self/exe")
        .ok()
        .and_then(|file| crate::bundle::format::stub_length(&file))
        .is_some()
}

/// Apply the form of the bundle this executable is; the process's exit status.
pub fn run_self() -> i32 {
    let name = std::env::args()
        .next()
        .unwrap_or_else(|| "consfig-bundle".to_owned());
    if std::env::args()
        .nth(1)
        .is_some_and(|a| a == "--help" || a == "-h")
    {
        println!(
            "{name}: a Consfig bundle. Run it without arguments to apply its form;\n`consfig bundle --info {name}` shows what it holds."
        );
        return 0;
    }
    let fail = |message: String| {
        eprintln!("{name}: {message}");
        EXIT_BAD_BUNDLE
    };
    let bytes = match std::fs::read("/proc/self/exe") {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("cannot read its own executable: {e}")),
    };
    let bundle = match Bundle::parse(bytes, &name) {
        Ok(bundle) => bundle,
        Err(e) => return fail(e.to_string()),
    };
    stop_on_signals_as_pid1();
    let engine = match crate::engine::new_engine() {
        Ok(engine) => engine,
        Err(e) => return fail(e.to_string()),
    };
    let launcher = Arc::new(RuntimeLauncher::new(StubSource::own_executable()));
    let modules = bundle.compiled().map(|(module, code)| {
        (
            format!("bundled module {}", module.name),
            module.sha256.as_str(),
            code,
        )
    });
    let recipe = match Recipe::deserialize(&engine, modules, launcher) {
        Ok(recipe) => recipe,
        Err(e) => return fail(e.to_string()),
    };
    let host = HostState::for_service(
        bundle.manifest.grants.clone(),
        bundle.manifest.vars.clone(),
        ConsfigFiles::new(bundle.files()),
    );
    let mut image = match Image::new(&recipe, host) {
        Ok(image) => image,
        Err(e) => return fail(e.to_string()),
    };
    let outcome = image.apply_untimed(&bundle.form);
    if let Some(code) = image.exit_requested() {
        return code;
    }
    match outcome.status {
        Status::Failed => {
            eprintln!(
                "{name}: {} failed: {}",
                bundle.form.summary(),
                outcome.reason.as_deref().unwrap_or("no reason given")
            );
            EXIT_FORM_FAILED
        }
        _ => 0,
    }
}

/// As process 1 (a container's entry point), the kernel ignores signals that
/// have no handler: make SIGTERM and SIGINT stop the service there too.
fn stop_on_signals_as_pid1() {
    extern "C" fn exit_on_signal(signal: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + signal) }
    }
    if std::process::id() != 1 {
        return;
    }
    use nix::sys::signal::{SigHandler, Signal, signal};
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only calls _exit.
        let _ = unsafe { signal(sig, SigHandler::Handler(exit_on_signal)) };
    }
}
