//! Procedural macros of the Consfig guest SDK; use them through `consfig-guest`,
//! which re-exports them and provides every path their expansions name.
//!
//! - `#[property]` turns an ordinary function into a property: it keeps the
//!   function and adds a hidden marker type describing and decoding it.
//! - `module!` collects the marked functions into the module's `properties`
//!   export.

mod module;
mod naming;
mod property;

use proc_macro::TokenStream;

/// Mark a function as a property of the module.
///
/// The property is named after the function in kebab case (`has_content` →
/// `has-content`, or `#[property(name = "...")]`), documented by its `///`
/// comment, and its parameters are decoded from the form with serde: by
/// position, and the optional ones (trailing `Option`s, and parameters with
/// a `#[default = VALUE]`, VALUE the JSON a form would give, written as a
/// Rust literal) also by name, in a JSON object ending the form. The
/// function must return `consfig_guest::Result<Change>`.
///
/// It also makes the typed constructor of the property's forms, which
/// `module!` puts in the crate's `forms` module.
#[proc_macro_attribute]
pub fn property(attr: TokenStream, item: TokenStream) -> TokenStream {
    property::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Define the module: its name, doc, optional init function and properties,
/// and export them as the component's `properties` interface. Use it once per
/// module crate.
///
/// ```text
/// consfig_guest::module! {
///     name: "file",                      // the prefix of every property name
///     doc: "Files and directories.",     // optional
///     init: setup,                       // optional: fn() -> Result<()>, run once at load
///     needs: ["write:/"],                // optional: the grants it needs to work
///     properties: [has_content, absent], // functions marked #[property], by path
///     export: true,                      // optional: false for a library (see `export!`)
/// }
/// ```
///
/// Invoke it at the crate root: it defines the module's `forms` there, the
/// typed constructors of its forms, and `pub static MODULE`, the module's
/// table, with which native tests apply the module's forms
/// (`consfig_guest::testing`). Two properties of the same name are refused
/// at compile time.
#[proc_macro]
pub fn module(input: TokenStream) -> TokenStream {
    module::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Export the module that `module!` defined in a library crate (with
/// `export: false`) as this crate's component: `consfig_guest::export!(consfig_file);`
/// in a `cdylib` crate depending on `consfig-file`. A module crate that other
/// modules depend on for its `forms` must not export itself, or each of them
/// would export it too.
#[proc_macro]
pub fn export(input: TokenStream) -> TokenStream {
    module::expand_export(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
