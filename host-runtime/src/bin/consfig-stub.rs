//! `consfig-stub`: what targets run. It has no compiler. Run as
//! `consfig-stub runtime` it is the runtime the controller ships and talks
//! to; every bundle starts with it and runs its own form.

fn main() {
    consfig::runtime::fork::note_threads_at_start();
    let runtime = std::env::args().nth(1).is_some_and(|a| a == "runtime");
    // A bundle is always its own form's runner, whatever its arguments.
    if runtime && !consfig::runtime::bundled::is_bundle() {
        if let Err(e) = consfig::runtime::serve::main() {
            eprintln!("consfig runtime: {e}");
            std::process::exit(1);
        }
        return;
    }
    std::process::exit(consfig::runtime::bundled::run_self());
}
