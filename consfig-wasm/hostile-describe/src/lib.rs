//! The `hostile-describe` module: its `describe` loops forever (written
//! against the bindings, since `module!` describes a module from constants).
//! Loading it must stop at the time limit. Never deploy it anywhere real.

use consfig_guest::__private::bindings;
use consfig_guest::__private::bindings::consfig::module::types::{Change, ModuleInfo};

struct Exports;

impl bindings::exports::consfig::module::properties::Guest for Exports {
    fn init() -> Result<(), String> {
        Ok(())
    }

    fn describe() -> ModuleInfo {
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn validate(_name: String, _args: String) -> Result<(), String> {
        Ok(())
    }

    fn apply(_name: String, _args: String) -> Result<Change, String> {
        Ok(Change::Unchanged)
    }
}

bindings::export!(Exports with_types_in consfig_guest::__private::bindings);
