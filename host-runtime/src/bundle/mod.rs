//! Bundles: standalone executables that apply one form when started —
//! Consfig's `image-dumped`. [`format`] writes and reads them; the engine
//! fills one from an image's modules, and the runtime starts one.

pub mod format;
