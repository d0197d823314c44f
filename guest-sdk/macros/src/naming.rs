//! The text the macros derive from Rust syntax: kebab-case names, doc comments,
//! and which parameters are `Option`s. (Which names are valid is
//! the contract's: `consfig_contract::name`.)

use syn::{Attribute, Expr, ExprLit, GenericArgument, Lit, Meta, PathArguments, Type};

/// `has_content` → `has-content`; a raw identifier loses its `r#`.
pub fn kebab_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    ident.trim_matches('_').replace('_', "-").to_lowercase()
}

/// The text of the `///` (and `#[doc = "..."]`) attributes, without the
/// indentation they share, trimmed.
pub fn doc_text(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if let Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
        {
            // An empty `///` is an empty line, so split rather than `lines()`.
            lines.extend(s.value().split('\n').map(str::to_owned));
        }
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let text: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect();
    text.join("\n").trim().to_owned()
}

/// `has_content` → `HasContent`: the name of a type after a function.
pub fn camel_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    ident
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

/// Whether the type is `Option<..>` (also spelled `std::option::Option<..>`).
pub fn is_option(ty: &Type) -> bool {
    option_inner(ty).is_some()
}

/// `T` of `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Option" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first() {
                Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
                _ => None,
            }
        }
        Type::Group(g) => option_inner(&g.elem),
        Type::Paren(p) => option_inner(&p.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;

    #[test]
    fn kebab_cases_function_names() {
        assert_eq!(kebab_case("has_content"), "has-content");
        assert_eq!(kebab_case("absent"), "absent");
        assert_eq!(kebab_case("r#type"), "type");
        assert_eq!(kebab_case("_private_thing_"), "private-thing");
    }

    #[test]
    fn camel_cases_function_names() {
        assert_eq!(camel_case("has_content"), "HasContent");
        assert_eq!(camel_case("exists"), "Exists");
        assert_eq!(camel_case("r#as_user"), "AsUser");
        assert_eq!(camel_case("_private__thing_"), "PrivateThing");
    }

    #[test]
    fn finds_the_type_inside_an_option() {
        let ty: Type = syn::parse_str("Option<Vec<String>>").unwrap();
        let inner = option_inner(&ty).map(|t| t.to_token_stream().to_string());
        assert_eq!(inner.as_deref(), Some("Vec < String >"));
        assert!(option_inner(&syn::parse_str("Vec<Option<u32>>").unwrap()).is_none());
    }

    #[test]
    fn recognises_options() {
        for (ty, optional) in [
            ("Option<String>", true),
            ("std::option::Option<u32>", true),
            ("String", false),
            ("Vec<Option<u32>>", false),
        ] {
            assert_eq!(is_option(&syn::parse_str(ty).unwrap()), optional, "{ty}");
        }
    }

    #[test]
    fn extracts_docs() {
        let item: syn::ItemFn = syn::parse_quote! {
            /// Ensure a file has exactly this content.
            ///
            /// Writes atomically:
            ///     only when it differs.
            fn f() {}
        };
        assert_eq!(
            doc_text(&item.attrs),
            "Ensure a file has exactly this content.\n\nWrites atomically:\n    only when it differs."
        );
        let item: syn::ItemFn = syn::parse_quote! { fn f() {} };
        assert_eq!(doc_text(&item.attrs), "");
    }
}
