//! `#[property]`: keeps the function as written and adds a hidden unit struct,
//! `__consfig_property_<fn>`, implementing `consfig_guest::Property` — the name,
//! doc and parameters of the property, and the code decoding its arguments.
//! `module!` finds the struct by the function's name.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Type};

use consfig_contract::name::is_name;

use crate::naming::{doc_text, is_option, kebab_case, type_text};

/// The hidden marker type of the property defined by function `ident`.
pub fn marker_ident(ident: &Ident) -> Ident {
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    format_ident!("__consfig_property_{}", name, span = ident.span())
}

struct Param {
    name: String,
    ty: Type,
    optional: bool,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let function: ItemFn = syn::parse2(item)?;
    let name = match custom_name(attr)? {
        Some(name) => name,
        None => {
            let name = kebab_case(&function.sig.ident.to_string());
            if !is_name(&name) {
                return Err(syn::Error::new(
                    function.sig.ident.span(),
                    "this function's name makes no property name; \
                     give one with #[property(name = \"...\")]",
                ));
            }
            name
        }
    };
    check_signature(&function)?;
    let params = params(&function)?;

    let vis = &function.vis;
    let ident = &function.sig.ident;
    let marker = marker_ident(ident);
    let doc = doc_text(&function.attrs);
    let count = params.len();
    // The expansion's own locals resolve at the macro's definition site, so a
    // property named e.g. `args` still calls the function, not the local.
    let (params_var, args_var) = (
        Ident::new("params", Span::mixed_site()),
        Ident::new("args", Span::mixed_site()),
    );

    let param_infos = params.iter().map(|p| {
        let (name, ty, optional) = (&p.name, type_text(&p.ty), p.optional);
        quote! { ::consfig_guest::Param { name: #name, ty: #ty, optional: #optional } }
    });
    // Decoding is spanned to each parameter's type, so a type serde cannot
    // decode is reported there.
    let checks = params.iter().enumerate().map(|(i, p)| {
        let ty = &p.ty;
        quote_spanned! {ty.span()=>
            ::consfig_guest::__private::check::<#ty>(#params_var, #i, #args_var.get(#i))?;
        }
    });
    let locals: Vec<Ident> = (0..count)
        .map(|i| Ident::new(&format!("arg{i}"), Span::mixed_site()))
        .collect();
    let decodes = params
        .iter()
        .zip(&locals)
        .enumerate()
        .map(|(i, (p, local))| {
            let ty = &p.ty;
            quote_spanned! {ty.span()=>
                let #local =
                    ::consfig_guest::__private::decode::<#ty>(#params_var, #i, #args_var.next())?;
            }
        });
    let output_span = match &function.sig.output {
        ReturnType::Default => function.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let call = quote_spanned! {output_span=>
        ::consfig_guest::__private::returns(#ident(#(#locals),*))
    };

    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl ::consfig_guest::Property for #marker {
            const NAME: &'static str = #name;
            const DOC: &'static str = #doc;
            const PARAMS: &'static [::consfig_guest::Param] = &[#(#param_infos),*];

            fn validate(
                #args_var: &[::consfig_guest::__private::Value],
            ) -> ::consfig_guest::Result<()> {
                let #params_var = <Self as ::consfig_guest::Property>::PARAMS;
                ::consfig_guest::__private::check_count(#params_var, #args_var.len())?;
                #(#checks)*
                ::core::result::Result::Ok(())
            }

            fn call(
                #args_var: ::std::vec::Vec<::consfig_guest::__private::Value>,
            ) -> ::consfig_guest::Result<::consfig_guest::Change> {
                let #params_var = <Self as ::consfig_guest::Property>::PARAMS;
                ::consfig_guest::__private::check_count(#params_var, #args_var.len())?;
                #[allow(unused_mut, unused_variables)]
                let mut #args_var = #args_var.into_iter();
                #(#decodes)*
                #call
            }
        }
    })
}

/// The name given by `#[property(name = "...")]`, if any.
fn custom_name(attr: TokenStream) -> syn::Result<Option<String>> {
    let mut name = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            let lit: LitStr = meta.value()?.parse()?;
            if !is_name(&lit.value()) {
                return Err(syn::Error::new(
                    lit.span(),
                    "a property name is lowercase letters, digits and dashes, \
                     starting with a letter, e.g. \"has-content\"",
                ));
            }
            name = Some(lit.value());
            Ok(())
        } else {
            Err(meta.error("expected `name = \"...\"`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(name)
}

fn check_signature(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    let refuse = |span: Span, what: &str| Err(syn::Error::new(span, what.to_owned()));
    if let Some(t) = &sig.asyncness {
        return refuse(t.span(), "a property cannot be async");
    }
    if let Some(t) = &sig.unsafety {
        return refuse(t.span(), "a property cannot be unsafe");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return refuse(
            sig.generics.span(),
            "a property cannot be generic: its arguments are decoded into concrete types",
        );
    }
    if let Some(v) = &sig.variadic {
        return refuse(v.span(), "a property cannot be variadic");
    }
    if let ReturnType::Default = sig.output {
        return refuse(sig.ident.span(), "a property returns `Result<Change>`");
    }
    Ok(())
}

fn params(function: &ItemFn) -> syn::Result<Vec<Param>> {
    let mut params = Vec::new();
    for input in &function.sig.inputs {
        let typed = match input {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "a property is a free function, not a method",
                ));
            }
            FnArg::Typed(t) => t,
        };
        let Pat::Ident(pat) = &*typed.pat else {
            return Err(syn::Error::new(
                typed.pat.span(),
                "property parameters are plain names: each one is an argument of the form",
            ));
        };
        if let Type::ImplTrait(_) = &*typed.ty {
            return Err(syn::Error::new(
                typed.ty.span(),
                "a property parameter needs a concrete type that serde can decode",
            ));
        }
        let name = pat.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        params.push(Param {
            name: name.trim_start_matches('_').to_owned(),
            ty: (*typed.ty).clone(),
            optional: false,
        });
    }
    // Only trailing `Option`s may be left out of a form: an `Option` before a
    // required parameter must be given (as `null`) to reach the next one.
    for i in (0..params.len()).rev() {
        if !is_option(&params[i].ty) {
            break;
        }
        params[i].optional = true;
    }
    Ok(params)
}
