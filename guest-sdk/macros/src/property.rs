//! `#[property]`: keeps the function as written (less its parameters'
//! `#[default]` attributes) and adds next to it
//!
//! - a hidden unit struct, `__consfig_property_<fn>`, implementing
//!   `consfig_guest::Property` — the name, doc and parameters of the
//!   property, and the code decoding its arguments; `module!` finds the
//!   struct by the function's name;
//! - a hidden module, `__consfig_form_<fn>`, with the typed constructor of
//!   the property's forms (and, for a property with optional parameters, the
//!   builder it returns), which `module!` re-exports from the crate's `forms`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, FnArg, Ident, ItemFn, Lit, LitStr, Pat, ReturnType, Type, UnOp,
};

use consfig_contract::name::{is_name, is_property_part};

use crate::naming::{camel_case, doc_text, is_option, kebab_case, option_inner};

/// The hidden marker type of the property defined by function `ident`.
pub fn marker_ident(ident: &Ident) -> Ident {
    format_ident!("__consfig_property_{}", bare(ident), span = ident.span())
}

/// The hidden module holding the typed constructor of function `ident`'s forms.
pub fn form_module_ident(ident: &Ident) -> Ident {
    format_ident!("__consfig_form_{}", bare(ident), span = ident.span())
}

fn bare(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").unwrap_or(&name).to_owned()
}

struct Param {
    ident: Ident,
    /// The name in forms (kebab case).
    name: String,
    ty: Type,
    optional: bool,
    /// The `#[default = ...]`, as JSON text.
    default: Option<String>,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut function: ItemFn = syn::parse2(item)?;
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
    let params = params(&mut function)?;

    let vis = &function.vis;
    let ident = &function.sig.ident;
    let marker = marker_ident(ident);
    let doc = doc_text(&function.attrs);
    // The expansion's own locals resolve at the macro's definition site, so a
    // property named e.g. `args` still calls the function, not the local.
    let (params_var, args_var, given_var) = (
        Ident::new("params", Span::mixed_site()),
        Ident::new("args", Span::mixed_site()),
        Ident::new("given", Span::mixed_site()),
    );

    let param_infos = params.iter().map(|p| {
        let (name, ty, optional) = (&p.name, &p.ty, p.optional);
        let default = match &p.default {
            Some(json) => quote!(::core::option::Option::Some(#json)),
            None => quote!(::core::option::Option::None),
        };
        // Spanned to the type, so a type without a schema is reported there.
        let schema = quote_spanned! {ty.span()=>
            <#ty as ::consfig_guest::HasSchema>::schema
        };
        quote! {
            ::consfig_guest::Param { name: #name, schema: #schema, optional: #optional, default: #default }
        }
    });
    // Decoding is spanned to each parameter's type, so a type serde cannot
    // decode is reported there.
    let decode = |i: usize, p: &Param| {
        let ty = &p.ty;
        quote_spanned! {ty.span()=>
            ::consfig_guest::__private::decode::<#ty>(#params_var, #i, #given_var[#i])
        }
    };
    let checks = params.iter().enumerate().map(|(i, p)| {
        let decode = decode(i, p);
        quote!(#decode.map(::core::mem::drop)?;)
    });
    let locals: Vec<Ident> = (0..params.len())
        .map(|i| Ident::new(&format!("arg{i}"), Span::mixed_site()))
        .collect();
    let decodes = params
        .iter()
        .zip(&locals)
        .enumerate()
        .map(|(i, (p, local))| {
            let decode = decode(i, p);
            quote!(let #local = #decode?;)
        });
    let default_checks = params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.default.is_some())
        .map(|(i, p)| {
            let ty = &p.ty;
            quote_spanned! {ty.span()=>
                ::consfig_guest::__private::decode::<#ty>(
                    #params_var, #i, ::consfig_guest::__private::Given::Missing,
                ).map(::core::mem::drop)?;
            }
        });
    let output_span = match &function.sig.output {
        ReturnType::Default => function.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let call = quote_spanned! {output_span=>
        ::consfig_guest::__private::returns(#ident(#(#locals),*))
    };
    let constructor = constructor(ident, &name, &doc, &params);

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
                #[allow(unused_variables)]
                let #given_var = ::consfig_guest::__private::arrange(#params_var, #args_var)?;
                #(#checks)*
                ::core::result::Result::Ok(())
            }

            fn call(
                #args_var: ::std::vec::Vec<::consfig_guest::__private::Value>,
            ) -> ::consfig_guest::Result<::consfig_guest::Change> {
                let #params_var = <Self as ::consfig_guest::Property>::PARAMS;
                #[allow(unused_variables)]
                let #given_var = ::consfig_guest::__private::arrange(#params_var, &#args_var)?;
                #(#decodes)*
                #call
            }

            fn check_defaults() -> ::consfig_guest::Result<()> {
                #[allow(unused_variables)]
                let #params_var = <Self as ::consfig_guest::Property>::PARAMS;
                #(#default_checks)*
                ::core::result::Result::Ok(())
            }
        }

        #constructor
    })
}

/// The typed constructor of the property's forms: a function named like the
/// property's, taking the required parameters (each as `impl Into<T>`) and
/// returning a `Form` — or, when the property has optional parameters, a
/// builder with a method per optional parameter, which adds it by name.
fn constructor(ident: &Ident, name: &str, doc: &str, params: &[Param]) -> TokenStream {
    let module = form_module_ident(ident);
    let function = ident.clone();
    let (required, optional): (Vec<&Param>, Vec<&Param>) = params.iter().partition(|p| !p.optional);
    let json = |p: &Param, ty: &Type, value: TokenStream| {
        let param_name = &p.name;
        quote_spanned! {ty.span()=>
            ::consfig_guest::__private::json::<#ty>(#name, #param_name, #value)
        }
    };
    let args = required.iter().map(|p| {
        let (ident, ty) = (&p.ident, &p.ty);
        quote!(#ident: impl ::core::convert::Into<#ty>)
    });
    let values = required.iter().map(|p| {
        let ident = &p.ident;
        let value = json(p, &p.ty, quote!(::core::convert::Into::into(#ident)));
        quote!(.value(#value))
    });
    let heading = format!(
        "A form of the property `{name}` of this module, checked by the compiler.\n\n{doc}"
    );
    let form = quote! {
        ::consfig_guest::__private::form(crate::forms::NAME, #name) #(#values)*
    };
    if optional.is_empty() {
        return quote! {
            #[doc(hidden)]
            #[allow(dead_code, unused_imports)]
            pub mod #module {
                use super::*;

                #[doc = #heading]
                pub fn #function(#(#args),*) -> ::consfig_guest::Form {
                    #form
                }
            }
        };
    }

    let builder = format_ident!("{}Form", camel_case(&bare(ident)), span = ident.span());
    let count = required.len();
    let setters = optional.iter().map(|p| {
        let (ident, param_name) = (&p.ident, &p.name);
        // An `Option` is set to a value; left unset it is `None`.
        let ty = option_inner(&p.ty).unwrap_or(&p.ty);
        let value = json(p, ty, quote!(::core::convert::Into::into(#ident)));
        let doc = match &p.default {
            Some(default) => format!("Give `{param_name}` by name (default `{default}`)."),
            None => format!("Give `{param_name}` by name."),
        };
        quote! {
            #[doc = #doc]
            pub fn #ident(self, #ident: impl ::core::convert::Into<#ty>) -> Self {
                #builder(::consfig_guest::__private::keyword(self.0, #count, #param_name, #value))
            }
        }
    });
    let builder_doc = format!(
        "A form of `{name}` being built: its optional arguments are given by name with \
         its methods. It dereferences to the [`Form`](::consfig_guest::Form), and \
         converts into one."
    );
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, unused_imports)]
        pub mod #module {
            use super::*;

            #[doc = #heading]
            pub fn #function(#(#args),*) -> #builder {
                #builder(#form)
            }

            #[doc = #builder_doc]
            #[derive(Debug, Clone, PartialEq)]
            pub struct #builder(::consfig_guest::Form);

            impl #builder {
                #(#setters)*
            }

            impl ::core::ops::Deref for #builder {
                type Target = ::consfig_guest::Form;

                fn deref(&self) -> &::consfig_guest::Form {
                    &self.0
                }
            }

            impl ::core::convert::From<#builder> for ::consfig_guest::Form {
                fn from(form: #builder) -> ::consfig_guest::Form {
                    form.0
                }
            }
        }
    }
}

/// The name given by `#[property(name = "...")]`, if any.
fn custom_name(attr: TokenStream) -> syn::Result<Option<String>> {
    let mut name = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            let lit: LitStr = meta.value()?.parse()?;
            if !is_property_part(&lit.value()) {
                return Err(syn::Error::new(
                    lit.span(),
                    "a property name is lowercase letters, digits and dashes, \
                     starting with a letter, e.g. \"has-content\", perhaps with \
                     inner dots, e.g. \"standard-sources.list\"",
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

/// The parameters, with their `#[default]` attributes taken off the function.
fn params(function: &mut ItemFn) -> syn::Result<Vec<Param>> {
    let mut params = Vec::new();
    for input in &mut function.sig.inputs {
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
        let default = take_default(&mut typed.attrs)?;
        // The constructor's parameter: the name without a leading `_` (which
        // only silences a lint in the property), raw if it is a keyword.
        let bare_name = bare(&pat.ident);
        let trimmed = match bare_name.trim_start_matches('_') {
            "" => bare_name.as_str(),
            trimmed => trimmed,
        };
        let ident = match syn::parse_str::<Ident>(trimmed) {
            Ok(_) => Ident::new(trimmed, pat.ident.span()),
            Err(_) => Ident::new_raw(trimmed, pat.ident.span()),
        };
        params.push(Param {
            name: kebab_case(&pat.ident.to_string()),
            ident,
            ty: (*typed.ty).clone(),
            optional: default.is_some(),
            default,
        });
    }
    // Only trailing `Option`s and defaults may be left out of a form: an
    // `Option` before a required parameter must be given (as `null`) to reach
    // the next one, and a default there is refused.
    for i in (0..params.len()).rev() {
        if !(params[i].optional || is_option(&params[i].ty)) {
            if let Some(early) = params[..i].iter().find(|p| p.default.is_some()) {
                return Err(syn::Error::new(
                    early.ident.span(),
                    format!(
                        "`{}` has a default but `{}` after it has none: \
                         parameters with defaults come last",
                        early.name, params[i].name
                    ),
                ));
            }
            break;
        }
        params[i].optional = true;
    }
    Ok(params)
}

/// Remove the parameter's `#[default = VALUE]` and return VALUE as JSON.
fn take_default(attrs: &mut Vec<Attribute>) -> syn::Result<Option<String>> {
    let mut default = None;
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        if !attr.path().is_ident("default") {
            kept.push(attr);
            continue;
        }
        if default.is_some() {
            return Err(syn::Error::new(attr.span(), "`#[default]` is given twice"));
        }
        let value = match &attr.meta {
            syn::Meta::NameValue(nv) => &nv.value,
            _ => {
                return Err(syn::Error::new(
                    attr.span(),
                    "write a default as `#[default = VALUE]`, e.g. `#[default = \"/bin/sh\"]`",
                ));
            }
        };
        default = Some(json_text(value)?.to_string());
    }
    *attrs = kept;
    Ok(default)
}

/// A default written as a Rust literal — a string, number, boolean, or an
/// array of them — as the JSON a form would give for it.
fn json_text(expr: &Expr) -> syn::Result<serde_json::Value> {
    use serde_json::Value;
    let refuse = || {
        Err(syn::Error::new(
            expr.span(),
            "a default is the JSON value a form would give, written as a literal: \
             a string, a number, `true` or `false`, or an array of them",
        ))
    };
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(s) => Ok(Value::String(s.value())),
            Lit::Bool(b) => Ok(Value::Bool(b.value)),
            // In an attribute, `-3` may come as one literal.
            Lit::Int(i) => match i.base10_digits().starts_with('-') {
                true => i.base10_parse::<i64>().map(Value::from),
                false => i.base10_parse::<u64>().map(Value::from),
            },
            Lit::Float(f) => {
                let n: f64 = f.base10_parse()?;
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .map_or_else(refuse, Ok)
            }
            _ => refuse(),
        },
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match json_text(&unary.expr)? {
            Value::Number(n) if n.is_u64() => {
                let n = n.as_u64().and_then(|n| i64::try_from(n).ok());
                n.map(|n| Value::from(-n)).map_or_else(refuse, Ok)
            }
            Value::Number(n) => n
                .as_f64()
                .and_then(|n| serde_json::Number::from_f64(-n))
                .map(Value::Number)
                .map_or_else(refuse, Ok),
            _ => refuse(),
        },
        Expr::Array(array) => array
            .elems
            .iter()
            .map(json_text)
            .collect::<syn::Result<_>>()
            .map(Value::Array),
        Expr::Group(group) => json_text(&group.expr),
        Expr::Paren(paren) => json_text(&paren.expr),
        _ => refuse(),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn expanded(item: TokenStream) -> String {
        expand(TokenStream::new(), item).unwrap().to_string()
    }

    fn refused(item: TokenStream) -> String {
        expand(TokenStream::new(), item).unwrap_err().to_string()
    }

    #[test]
    fn defaults_become_json_and_leave_the_function() {
        let out = expanded(quote! {
            fn exists(
                name: String,
                home: Option<String>,
                #[default = "/bin/sh"] shell: String,
                #[default = -3] nice: i32,
                #[default = ["a", 1.5, true]] tags: Vec<Value>,
            ) -> Result<Change> { todo!() }
        });
        for json in [r#""\"/bin/sh\"""#, r#""-3""#, r#""[\"a\",1.5,true]""#] {
            assert!(out.contains(json), "{json} in {out}");
        }
        assert!(!out.contains("# [default"), "{out}");
        // All three trailing parameters are optional, so the constructor
        // takes the name and returns a builder.
        assert!(
            out.contains(
                "pub fn exists (name : impl :: core :: convert :: Into < String >) -> ExistsForm"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "pub fn shell (self , shell : impl :: core :: convert :: Into < String >)"
            ),
            "{out}"
        );
        // An `Option` is set to its inner type.
        assert!(
            out.contains("pub fn home (self , home : impl :: core :: convert :: Into < String >)"),
            "{out}"
        );
    }

    #[test]
    fn names_parameters_in_kebab_case() {
        let out = expanded(quote! {
            fn f(home_dir: String, _unused: u32) -> Result<Change> { todo!() }
        });
        assert!(out.contains(r#"name : "home-dir""#), "{out}");
        assert!(out.contains(r#"name : "unused""#), "{out}");
        // Keywords and bare underscores still make a constructor.
        let out = expanded(quote! {
            fn g(r#type: String, __: u32) -> Result<Change> { todo!() }
        });
        assert!(out.contains(r#"name : "type""#), "{out}");
        assert!(out.contains("pub fn g (r#type : impl"), "{out}");
        let out = expanded(quote! { fn r#match(x: u32) -> Result<Change> { todo!() } });
        assert!(out.contains("pub fn r#match (x : impl"), "{out}");
    }

    #[test]
    fn without_optional_parameters_the_constructor_returns_a_form() {
        let out = expanded(quote! {
            fn has_content(path: String, content: String) -> Result<Change> { todo!() }
        });
        assert!(out.contains("-> :: consfig_guest :: Form"), "{out}");
        assert!(!out.contains("HasContentForm"), "{out}");
    }

    #[test]
    fn refuses_a_default_before_a_required_parameter() {
        let error = refused(quote! {
            fn f(#[default = 1] a: u32, b: String) -> Result<Change> { todo!() }
        });
        assert_eq!(
            error,
            "`a` has a default but `b` after it has none: parameters with defaults come last"
        );
        // An `Option` there is fine: it must be given, as null.
        expanded(quote! { fn f(a: Option<u32>, b: String) -> Result<Change> { todo!() } });
    }

    #[test]
    fn refuses_defaults_that_are_not_json_literals() {
        for default in [quote!(String::new()), quote!('c'), quote!(x)] {
            let error = refused(quote! {
                fn f(#[default = #default] a: String) -> Result<Change> { todo!() }
            });
            assert!(
                error.starts_with("a default is the JSON value a form would give"),
                "{error}"
            );
        }
        let error = refused(quote! {
            fn f(#[default("x")] a: String) -> Result<Change> { todo!() }
        });
        assert!(
            error.starts_with("write a default as `#[default = VALUE]`"),
            "{error}"
        );
        let error = refused(quote! {
            fn f(#[default = "x"] #[default = "y"] a: String) -> Result<Change> { todo!() }
        });
        assert_eq!(error, "`#[default]` is given twice");
    }
}
