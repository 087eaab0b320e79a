//! The function a guard attribute is applied to, and the checks it must pass.

use proc_macro2::Span;
use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt as _};
use syn::parse::{ParseStream, Parser as _};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, GenericArgument, Item, PathArguments, Signature, Type, Visibility};

use crate::errors::combine;

/// actix-web implements `Handler` for functions of up to 16 extractor parameters.
pub(crate) const MAX_EXTRACTORS: usize = 16;

/// A function whose body is kept as written: the guard only touches the signature. Only the
/// tokens before the body go through syn; the body is split off as one token tree, neither
/// parsed nor walked, and re-emitted verbatim with its spans (tokio-macros' `entry.rs` keeps
/// bodies unparsed for the same reason: proc macros build unoptimized in the dev profile, and
/// parsing the body into a `syn::ItemFn` and printing it back cost time in every handler).
#[derive(Clone)]
pub(crate) struct Handler {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// The `{ ... }` group, possibly inside an invisible one (see [`is_block`]).
    pub(crate) body: Group,
}

impl Handler {
    /// `item` as a function, or `None` if it is not one.
    pub(crate) fn split(item: TokenStream) -> Option<Handler> {
        let mut head: Vec<TokenTree> = item.into_iter().collect();
        let body = match head.pop()? {
            TokenTree::Group(group) if is_block(&group) => group,
            _ => return None,
        };
        let parse_head = |input: ParseStream<'_>| {
            Ok((
                input.call(Attribute::parse_outer)?,
                input.parse::<Visibility>()?,
                input.parse::<Signature>()?,
            ))
        };
        let (attrs, vis, sig) = parse_head.parse2(head.into_iter().collect()).ok()?;
        Some(Handler {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// `{ ... }`, or a body passed through `macro_rules!` as `$body:block`, which arrives as a
/// `{ ... }` wrapped in an invisible group.
fn is_block(group: &Group) -> bool {
    match group.delimiter() {
        Delimiter::Brace => true,
        Delimiter::None => {
            let mut inner = group.stream().into_iter();
            matches!(
                (inner.next(), inner.next()),
                (Some(TokenTree::Group(block)), None) if is_block(&block)
            )
        }
        _ => false,
    }
}

impl ToTokens for Handler {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        tokens.append(self.body.clone());
    }
}

/// Parses the item under the attribute and checks that a guard can be injected into it.
pub(crate) fn parse(attribute: &str, item: TokenStream) -> syn::Result<Handler> {
    let Some(function) = Handler::split(item.clone()) else {
        return Err(not_a_function(attribute, item));
    };
    let mut errors = Vec::new();
    if function.sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            function.sig.fn_token.span,
            format!("`#[{attribute}]` requires an `async fn`: actix-web handlers are async"),
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = function.sig.inputs.first() {
        errors.push(syn::Error::new(
            receiver.self_token.span,
            format!(
                "`#[{attribute}]` cannot guard a method that takes `self`: \
                 write the handler as a free `async fn`, outside the `impl` block"
            ),
        ));
    }
    let mut function = function;
    let guarded_above = earlier_guard(&mut function).is_some();
    if !guarded_above {
        errors.extend(parameter_errors(&function));
    }
    combine(errors).map(|()| function)
}

/// The error for an item that is not a function: parsed in full, only on this error path, to
/// underline the keyword that says what the item is.
fn not_a_function(attribute: &str, item: TokenStream) -> syn::Error {
    let message = format!("`#[{attribute}]` can only be applied to an `async fn` handler");
    match syn::parse2::<Item>(item) {
        Ok(Item::Fn(_)) => syn::Error::new(proc_macro2::Span::call_site(), message),
        Ok(item) => syn::Error::new(item_keyword_span(&item), message),
        Err(error) => error,
    }
}

/// The handler's own parameters move into the guard's tuple of extractors: at most 16 of them,
/// as many as actix-web extracts, and no attributes on them, which a pattern cannot carry.
fn parameter_errors(function: &Handler) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let inputs = &function.sig.inputs;
    if inputs.len() > MAX_EXTRACTORS {
        errors.push(syn::Error::new(
            // The first parameter past the limit rather than the list: spans do not join on
            // stable, so the list would be underlined at its first parameter.
            inputs
                .iter()
                .nth(MAX_EXTRACTORS)
                .map_or_else(Span::call_site, Spanned::span),
            format!(
                "this handler takes {} parameters, but actix-web extracts at most \
                 {MAX_EXTRACTORS}; group some extractors into a tuple, e.g. `(a, b): (A, B)`",
                inputs.len()
            ),
        ));
    }
    for input in inputs {
        if let FnArg::Typed(typed) = input
            && let Some(attr) = typed.attrs.first()
        {
            errors.push(syn::Error::new(
                attr.pound_token.span,
                "a guarded handler's parameters cannot carry attributes: the guard extracts \
                 them after it has passed, as one tuple, and a pattern in a tuple takes none",
            ));
        }
    }
    errors
}

/// The policies of the guard an attribute above this one injected: the tuple `(A, ..)` of
/// `::route_guard::__private::Guarded<(A, ..), (..)>`, the function's first parameter.
pub(crate) fn earlier_guard(function: &mut Handler) -> Option<&mut syn::TypeTuple> {
    let Some(FnArg::Typed(param)) = function.sig.inputs.first_mut() else {
        return None;
    };
    let Type::Path(ty) = &mut *param.ty else {
        return None;
    };
    let path = &mut ty.path;
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if path.leading_colon.is_none() || names != ["route_guard", "__private", "Guarded"] {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &mut path.segments.last_mut()?.arguments else {
        return None;
    };
    match args.args.first_mut()? {
        GenericArgument::Type(Type::Tuple(policies)) => Some(policies),
        _ => None,
    }
}

/// The span of the keyword that says what kind of item this is (`struct`, `impl`, ...).
fn item_keyword_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Mod(m) => m.mod_token.span,
        Item::Trait(t) => t.trait_token.span,
        Item::Const(c) => c.const_token.span,
        Item::Static(s) => s.static_token.span,
        Item::Type(t) => t.type_token.span,
        Item::Use(u) => u.use_token.span,
        other => other.span(),
    }
}
