//! The tests of modules misbehaving, run again against the `testing`
//! module written in Python (consfig-wasm/testing-python): the same test
//! bodies, included from their files, with `TESTING` set to Python. A
//! Python module that tries the same escapes gets the same refusals, and
//! meets the same limits.

use consfig_tests::Testing;

const TESTING: Testing = Testing::Python;

#[path = "sandbox.rs"]
mod sandbox;

#[path = "hostile_files.rs"]
mod hostile_files;

#[path = "hostile_commands.rs"]
mod hostile_commands;

#[path = "hostile_secrets.rs"]
mod hostile_secrets;

#[path = "limits.rs"]
mod limits;

#[path = "hangs.rs"]
mod hangs;
