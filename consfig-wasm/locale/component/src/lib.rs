//! The `locale` module as a Wasm component: the library's module, exported.

consfig_guest::export!(module);
