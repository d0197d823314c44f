//! The Rust side of the contract, generated from `wit/consfig.wit`: its
//! types, the `host` interface this layer implements ([`super::edge`]), the
//! `forms` interface (whose calls need the whole store, so the engine defines
//! them on the linker itself), and the `properties` every module exports.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "module",
    // Calls into modules are futures, so WASI can wait on sockets and timers.
    exports: { default: async },
});
