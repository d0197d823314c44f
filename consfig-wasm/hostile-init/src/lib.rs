//! The `hostile-init` module: its `init` loops forever. Loading it must stop
//! at the time limit, with an error naming the module and the call, on the
//! controller (which loads every module to validate forms) as on a target.
//! Never deploy it anywhere real.

use consfig_guest::prelude::*;

fn init() -> Result<()> {
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Nothing: the module never gets as far as running it.
#[property]
fn noop() -> Result<Change> {
    Ok(Change::Unchanged)
}

consfig_guest::module! {
    name: "hostile-init",
    doc: "A module whose init never returns, for the end-to-end tests.",
    init: init,
    properties: [noop],
}
