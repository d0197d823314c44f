//! The `testing` module: properties that misbehave on purpose, or report on
//! the runtime, for the end-to-end tests. Never deploy it anywhere real.
//!
//! The runtime must contain each failure to its own form, and start every
//! form from the state the module had right after `init`.

use std::sync::atomic::{AtomicU32, Ordering};

use consfig_guest::prelude::*;
use consfig_guest::serde_json::Value;

/// How often `init` ran in this copy of the module.
static INITS: AtomicU32 = AtomicU32::new(0);
/// How often `testing:counter` ran in this copy of the module.
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn init() -> Result<()> {
    INITS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Count this call and log `counter=N` and `inits=M`: a form that starts
/// from the pristine image logs `counter=1` and `inits=1`.
#[property]
fn counter() -> Result<Change> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    info!("counter={n}");
    info!("inits={}", INITS.load(Ordering::Relaxed));
    Ok(Change::Changed)
}

/// Execute a Wasm `unreachable` instruction.
#[property]
fn trap() -> Result<Change> {
    core::arch::wasm32::unreachable()
}

/// Panic with the message `deliberate panic`.
#[property]
fn panic() -> Result<Change> {
    panic!("deliberate panic")
}

/// Abort the process.
#[property]
fn abort() -> Result<Change> {
    std::process::abort()
}

/// Loop forever, until the runtime's timeout kills the form.
#[property]
fn spin() -> Result<Change> {
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Log the argument as JSON.
#[property]
fn echo(value: Value) -> Result<Change> {
    log::info(value.to_string());
    Ok(Change::Unchanged)
}

/// Print the text to stdout and to stderr.
#[property]
fn print(text: String) -> Result<Change> {
    println!("{text}");
    eprintln!("{text}");
    Ok(Change::Unchanged)
}

consfig_guest::module! {
    name: "testing",
    doc: "Misbehaving and diagnostic properties for the end-to-end tests.",
    init: init,
    properties: [counter, trap, panic, abort, spin, echo, print],
}
