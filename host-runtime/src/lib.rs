//! Consfig: configuration management whose configuration code is WebAssembly.
//!
//! The `consfig` binary is a thin command line ([`cli`]) over this library,
//! which has two halves that meet in [`wire`]: the [`controller`], on the
//! operator's machine, reads a consfig, validates its forms against the
//! modules and deploys hosts through their connections; the [`runtime`], on
//! each target, loads the modules once into a pristine image ([`engine`]) and
//! applies each form in a forked child of it. Every effect a module has goes
//! through the [`host`] calls, which the [`sandbox`] decides. A [`bundle`] is
//! a standalone executable of modules and one form, run by `consfig-stub`,
//! which is also the runtime every target receives.
//!
//! # Layers
//!
//! Each folder is a layer, and a layer imports only those listed after its
//! arrow — never one above it, so none is part of a cycle. The rule, checked
//! by a test against every `crate::` path in `src/`:
//!
//! ```text
//! cli        → controller runtime engine bundle wire host sandbox
//! controller → engine bundle wire host sandbox
//! runtime    → engine bundle wire host sandbox
//! engine     → bundle wire host sandbox
//! bundle     →
//! wire       → sandbox
//! host       → sandbox
//! sandbox    →
//! ```
//!
//! The controller and the runtime never import each other: they share only
//! the protocol and what lies below the engine. The syntax of the contract
//! — forms, property names, contexts, grants, `Change` — is the
//! `consfig-contract` crate, shared with the guest SDK.
//!
//! Feature `controller` (default) is all of it. Without it the library is
//! what a target needs, `consfig-stub`: the runtime and the bundles' stub,
//! with no compiler (modules arrive compiled by the controller), no command
//! line, no connections.

#[cfg(feature = "controller")]
pub mod cli;
#[cfg(feature = "controller")]
pub mod controller;

pub mod bundle;
pub mod engine;
pub mod host;
pub mod runtime;
pub mod sandbox;
pub mod wire;
