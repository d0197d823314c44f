//! What crosses between the controller and the runtime: the framed,
//! versioned [`protocol`] and the [`outcome`]s of forms, with the host's
//! data blanked out of every message ([`redact`]). Both halves of the
//! crate speak it; it carries the sandbox's decisions (a deploy's policy,
//! check mode's file changes) and nothing else of the layers above. And
//! what crosses on to people: text made safe for a [`terminal`], or for a
//! [`markdown`] document.

pub mod markdown;
pub mod outcome;
pub mod protocol;
pub mod redact;
pub mod terminal;
