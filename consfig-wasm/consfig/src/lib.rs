//! The `consfig` module: forms that apply other forms — as a named group
//! ([`all`](sequence::all)), only after a change
//! ([`on-change`](sequence::on_change), the handler pattern: reload nginx
//! when its configuration changed), or only on some systems
//! ([`when-os`](when_os::when_os)).
//!
//! The forms run with the loaded modules through the runtime's `apply`
//! call, each checked by the grants of its own module; this module needs no
//! grant of its own. [`sequence`] applies forms in order; [`when_os`]
//! matches the target's os-release.

pub mod sequence;
pub mod when_os;

consfig_guest::module! {
    name: "consfig",
    export: false,
    needs: [],
    doc: "Combinators: apply forms as a group, after a change, or on matching systems.",
    properties: [sequence::all, sequence::on_change, when_os::when_os],
}
