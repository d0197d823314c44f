//! `module!`: the module's table of properties, and the `properties` export
//! (a wit-bindgen `Guest` implementation) that dispatches to it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token, bracketed};

use consfig_contract::Grant;
use consfig_contract::name::is_name;

use crate::property::marker_ident;

struct ModuleInput {
    name: LitStr,
    doc: Option<Expr>,
    init: Option<Path>,
    properties: Vec<Path>,
    needs: Vec<LitStr>,
}

impl Parse for ModuleInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut name = None;
        let mut doc = None;
        let mut init = None;
        let mut properties = None;
        let mut needs = None;
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let duplicate = || syn::Error::new(key.span(), format!("`{key}` is given twice"));
            match key.to_string().as_str() {
                "name" if name.is_some() => return Err(duplicate()),
                "name" => name = Some(input.parse::<LitStr>()?),
                "doc" if doc.is_some() => return Err(duplicate()),
                "doc" => doc = Some(input.parse::<Expr>()?),
                "init" if init.is_some() => return Err(duplicate()),
                "init" => init = Some(input.parse::<Path>()?),
                "properties" if properties.is_some() => return Err(duplicate()),
                "properties" => {
                    let list;
                    bracketed!(list in input);
                    let paths = Punctuated::<Path, Token![,]>::parse_terminated(&list)?;
                    properties = Some(paths.into_iter().collect());
                }
                "needs" if needs.is_some() => return Err(duplicate()),
                "needs" => {
                    let list;
                    bracketed!(list in input);
                    let grants = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
                    needs = Some(grants.into_iter().collect());
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        "expected `name`, `doc`, `init`, `needs` or `properties`",
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let missing = |what| syn::Error::new(input.span(), format!("module! needs `{what}`"));
        Ok(ModuleInput {
            name: name.ok_or_else(|| missing("name: \"...\""))?,
            doc,
            init,
            properties: properties.ok_or_else(|| missing("properties: [...]"))?,
            needs: needs.unwrap_or_default(),
        })
    }
}

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let ModuleInput {
        name,
        doc,
        init,
        properties,
        needs,
    } = syn::parse2(input)?;
    if !is_name(&name.value()) {
        return Err(syn::Error::new(
            name.span(),
            "a module name is lowercase letters, digits and dashes, starting with a letter",
        ));
    }
    // Needs are grants, in the grammar the host reads them with.
    for need in &needs {
        if let Err(e) = need.value().parse::<Grant>() {
            return Err(syn::Error::new(need.span(), e));
        }
    }
    let doc = doc.map_or_else(|| quote!(""), |doc| quote!(#doc));
    let init = match init {
        Some(path) => quote!(::core::option::Option::Some(#path)),
        None => quote!(::core::option::Option::None),
    };
    let markers: Vec<Path> = properties
        .iter()
        .cloned()
        .map(|mut path| {
            let last = path.segments.last_mut().expect("a path has a segment");
            last.ident = marker_ident(&last.ident);
            path
        })
        .collect();
    // Two functions may be given the same property name with
    // `#[property(name = ...)]`; refuse that at compile time, naming them.
    let mut name_checks = Vec::new();
    for (i, (a, a_marker)) in properties.iter().zip(&markers).enumerate() {
        for (b, b_marker) in properties.iter().zip(&markers).skip(i + 1) {
            let message = format!(
                "module {}: properties `{}` and `{}` have the same name",
                name.value(),
                quote!(#a).to_string().replace(' ', ""),
                quote!(#b).to_string().replace(' ', ""),
            );
            name_checks.push(quote! {
                ::core::assert!(
                    !::consfig_guest::__private::same_name(
                        <#a_marker as ::consfig_guest::Property>::NAME,
                        <#b_marker as ::consfig_guest::Property>::NAME,
                    ),
                    #message,
                );
            });
        }
    }

    Ok(quote! {
        /// This module's table of properties, made by `consfig_guest::module!`:
        /// native tests apply its forms with it
        /// (`consfig_guest::testing::FakeHost::new().module(&MODULE)`).
        pub static MODULE: ::consfig_guest::__private::Module = ::consfig_guest::__private::Module {
            name: #name,
            doc: #doc,
            init: #init,
            properties: &[#(::consfig_guest::__private::Entry::of::<#markers>()),*],
            needs: &[#(#needs),*],
        };

        const _: () = {
            use ::consfig_guest::__private::{String, bindings};

            const _: () = {
                #(#name_checks)*
            };

            struct Exports;

            impl bindings::exports::consfig::module::properties::Guest for Exports {
                fn init() -> ::core::result::Result<(), String> {
                    MODULE.export_init()
                }

                fn describe() -> bindings::consfig::module::types::ModuleInfo {
                    MODULE.export_describe()
                }

                fn validate(name: String, args: String) -> ::core::result::Result<(), String> {
                    MODULE.export_validate(&name, &args)
                }

                fn apply(
                    name: String,
                    args: String,
                ) -> ::core::result::Result<bindings::consfig::module::types::Change, String> {
                    MODULE.export_apply(&name, &args)
                }
            }

            bindings::export!(Exports with_types_in ::consfig_guest::__private::bindings);
        };
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::expand;

    #[test]
    fn refuses_needs_that_are_not_grants_at_compile_time() {
        let error = expand(quote! {
            name: "web",
            needs: ["write:/srv/www", "write:srv"],
            properties: [],
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "bad grant \"write:srv\": the path must be absolute"
        );
        assert!(
            expand(quote! {
                name: "web",
                needs: ["write:/srv/www", "command:/usr/bin/make -C *", "net:*:80"],
                properties: [],
            })
            .is_ok()
        );
    }

    #[test]
    fn refuses_module_names_outside_the_grammar() {
        for bad in ["Web", "1st", "we_b", "web-"] {
            let error = expand(quote! { name: #bad, properties: [] }).unwrap_err();
            assert!(error.to_string().starts_with("a module name is"), "{bad}");
        }
    }
}
