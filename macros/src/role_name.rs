//! `#[derive(RoleName)]`: a fieldless enum as a set of typed roles.

use heck::ToSnakeCase as _;
use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::errors::combine;
use crate::exports;

pub(crate) fn derive(item: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(item).and_then(|input| expand(&input)) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`RoleName` can only be derived for an enum whose variants are roles, e.g. \
             `enum Role { Admin, Editor }`",
        ));
    };
    let names = role_names(data)?;

    let ident = &input.ident;
    let span = Span::call_site();
    let trait_path = exports::role_name_trait(span);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Each variant is paired with its own name: guards match the variant, so explicit
    // discriminants (ids mirrored from a database) cannot shift a name onto another variant.
    let pairs = data
        .variants
        .iter()
        .zip(&names)
        .map(|(variant, (name, name_span))| {
            let v = &variant.ident;
            let name = LitStr::new(name, *name_span);
            quote_spanned!(span=> (#ident::#v, #name))
        });
    let arms = data
        .variants
        .iter()
        .zip(&names)
        .map(|(variant, (name, _))| {
            let v = &variant.ident;
            quote_spanned!(span=> #ident::#v => #name)
        });
    Ok(quote_spanned! {span=>
        #[automatically_derived]
        impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
            const ROLES: &'static [(Self, &'static str)] = &[#(#pairs),*];

            fn role_name(&self) -> &'static str {
                match self { #(#arms,)* }
            }
        }
    })
}

/// Each variant's role name, checked: unit variants, usable and distinct names.
fn role_names(data: &syn::DataEnum) -> syn::Result<Vec<(String, Span)>> {
    let mut errors = Vec::new();
    let mut names: Vec<(String, Span)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                &variant.fields,
                "a role variant cannot carry data",
            ));
        }
        match role_name(variant) {
            Ok((name, span)) => {
                if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    errors.push(syn::Error::new(
                        span,
                        "a role name must be non-empty without whitespace",
                    ));
                } else if names.iter().any(|(seen, _)| *seen == name) {
                    errors.push(syn::Error::new(
                        span,
                        format!("role name `{name}` is specified more than once"),
                    ));
                }
                names.push((name, span));
            }
            Err(error) => errors.push(error),
        }
    }
    combine(errors).map(|()| names)
}

/// The variant's role name: `#[role_name("...")]`, or its identifier in snake_case.
fn role_name(variant: &syn::Variant) -> syn::Result<(String, Span)> {
    let mut named = None;
    for attr in variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("role_name"))
    {
        if named.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "`#[role_name]` is specified more than once",
            ));
        }
        let lit: LitStr = attr.parse_args().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a name in double quotes: `#[role_name(\"read-only\")]`",
            )
        })?;
        named = Some((lit.value(), lit.span()));
    }
    Ok(named.unwrap_or_else(|| {
        (
            variant.ident.to_string().to_snake_case(),
            variant.ident.span(),
        )
    }))
}
