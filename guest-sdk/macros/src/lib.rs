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
/// comment, and its parameters are decoded positionally from the form with
/// serde. The function must return `consfig_guest::Result<Change>`.
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
/// }
/// ```
///
/// Two properties of the same name are refused at compile time. It also
/// defines `pub static MODULE`, the module's table, with which native tests
/// apply the module's forms (`consfig_guest::testing`).
#[proc_macro]
pub fn module(input: TokenStream) -> TokenStream {
    module::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
