//! The `init-data` module: reads the host's data `db` while it is
//! initialised, before any form runs, for the end-to-end tests. Never
//! deploy it anywhere real.
//!
//! No module is running a form then, so no grant applies and the call must
//! be refused, even to a module granted `data:*`. Were it given the value,
//! `init` fails with it in its error: the runtime's fatal report, and its
//! stderr, must then blank it.

use std::sync::OnceLock;

use consfig_guest::prelude::*;

/// What `init`'s data call came to.
static AT_INIT: OnceLock<String> = OnceLock::new();

fn init() -> Result<()> {
    match host::data("db") {
        Ok(value) => bail!(
            "init read the host's data: {}",
            String::from_utf8_lossy(&value)
        ),
        Err(refused) => {
            let _ = AT_INIT.set(format!("refused ({refused})"));
            Ok(())
        }
    }
}

/// Log `at init: WHAT` — what `init`'s call for the host's data came to —
/// and what the same call gives this form.
#[property]
fn report() -> Result<Change> {
    log::info(format!(
        "at init: {}",
        AT_INIT.get().map_or("no call", String::as_str)
    ));
    match host::data_text("db") {
        Ok(value) => log::info(format!("in a form: {value}")),
        Err(refused) => log::info(format!("in a form: refused ({refused})")),
    }
    Ok(Change::Unchanged)
}

consfig_guest::module! {
    name: "init-data",
    doc: "Reads the host's data while initialised (for the end-to-end tests).",
    init: init,
    properties: [report],
}
