//! The `file` module: files, directories and symlinks on the host — their
//! content, mode, owner and existence.
//!
//! Every property checks first and changes the host only when it has to, so
//! applying a form twice changes nothing the second time; in check mode,
//! reads see what earlier forms would have written, so the prediction is
//! exact. Symlinks are never replaced or followed behind the author's back:
//! where one is in the way, the property fails and says so. Each concern
//! has its file: [`content`] (whole files, with [`content::file_has`] for
//! every property that writes one), [`ownership`], [`modes`], [`links`],
//! [`directories`] and [`absence`].

pub mod absence;
pub mod content;
pub mod directories;
pub mod links;
pub mod modes;
pub mod ownership;

consfig_guest::module! {
    name: "file",
    export: false,
    needs: ["write:/", "setid:/"],
    doc: "Files, directories and symlinks: content, mode, owner, links, existence.",
    properties: [
        content::has_content,
        content::is_copy_of,
        ownership::has_ownership,
        modes::has_mode,
        links::symlinked,
        directories::directory_exists,
        directories::containing_directory_exists,
        directories::directory_does_not_exist,
        absence::does_not_exist,
        absence::absent,
    ],
}
