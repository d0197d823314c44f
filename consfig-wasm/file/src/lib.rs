//! The `file` module: files, directories and symlinks on the host — their
//! content, mode, owner and existence.
//!
//! Every property checks first and changes the host only when it has to, so
//! applying a form twice changes nothing the second time; in check mode,
//! reads see what earlier forms would have written, so the prediction is
//! exact. Symlinks are never replaced or followed behind the author's back:
//! where one is in the way, the property fails and says so. Each concern
//! has its file: [`content`] (whole files, with [`content::file_has`] for
//! every property that writes one), [`copied`] (files of the consfig),
//! [`uploaded`] (the host's data), [`ownership`], [`modes`], [`links`],
//! [`directories`] and [`absence`]; text edits in [`edit`] (pure functions),
//! their properties in `lines` and `conf`; Jinja2 templates in `template`,
//! their property in `templated`.

pub mod absence;
mod conf;
pub mod content;
pub mod copied;
pub mod directories;
pub mod edit;
mod lines;
pub mod links;
pub mod modes;
pub mod ownership;
mod template;
mod templated;
pub mod uploaded;

consfig_guest::module! {
    name: "file",
    export: false,
    needs: ["write:/", "setid:/", "data:*"],
    doc: "Files, directories and symlinks: content, mode, owner, links, existence.",
    properties: [
        content::has_content,
        content::is_copy_of,
        copied::copied,
        uploaded::data_uploaded,
        ownership::has_ownership,
        modes::has_mode,
        links::symlinked,
        directories::directory_exists,
        directories::containing_directory_exists,
        directories::directory_does_not_exist,
        absence::does_not_exist,
        absence::absent,
        lines::line_in_file,
        lines::block_in_file,
        lines::replaced,
        lines::contains_lines,
        lines::lacks_lines,
        lines::lacks_lines_matching,
        lines::regex_replaced_lines,
        conf::contains_conf_space,
        conf::contains_conf_equals,
        conf::contains_conf_tab,
        conf::contains_conf_shell,
        conf::contains_ini_settings,
        templated::templated,
    ],
}
