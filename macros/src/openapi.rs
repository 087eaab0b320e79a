//! The OpenAPI side of the guard attributes (feature `utoipa`).
//!
//! `#[utoipa::path]` reads the handler's parameters, which a guard moves into its extractor,
//! and it cannot see the guard once the guard has expanded. So the first guard attribute to
//! expand above `#[utoipa::path(..)]` does not expand yet: it adds the facts of every guard
//! attribute on the handler to the operation, as the extension `x-route-guard`, and re-emits
//! itself *below* `#[utoipa::path]`:
//!
//! ```text
//! #[require_role("admin")]           #[utoipa::path(get, path = "/a",
//! #[utoipa::path(get, path = "/a")]     extensions(("x-route-guard" = json!({..}))))]
//! #[get("/a")]                   →   #[::route_guard::require_role("admin")]
//! async fn a(..) { .. }              #[get("/a")]
//!                                    #[::route_guard::__private::utoipa_documented]
//!                                    async fn a(..) { .. }
//! ```
//!
//! utoipa then sees the parameters as written, and the guards expand after it. The runtime's
//! `RouteGuard::openapi()` turns the facts into security requirements for the schemes the
//! guard is configured with. Written the other way round (`#[utoipa::path]` above the guard),
//! utoipa has expanded before the guard and its `__path_<handler>` struct exists: the guard's
//! probe ([`order_probe`]) makes that a compile error that names the order to use.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens as _, format_ident, quote, quote_spanned};

use crate::handler::Handler;
use crate::policy::{Args, Expr, Kind, Leaf, path_string};

/// The marker a documented handler carries below its guards, so that they do not probe for
/// the wrong order (utoipa's struct exists by then, rightly).
const DOCUMENTED: &str = "utoipa_documented";

/// The position of `#[utoipa::path(..)]` among the handler's attributes.
fn utoipa_path(function: &Handler) -> Option<usize> {
    function.attrs.iter().position(|attr| {
        let names: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        names == ["utoipa", "path"]
    })
}

/// Whether `#[utoipa::path]` is below this attribute and the `utoipa` feature on: whether
/// [`document`] has anything to do, asked before its entries are built.
pub(crate) fn below_utoipa(function: &Handler) -> bool {
    cfg!(feature = "utoipa") && utoipa_path(function).is_some()
}

/// Whether an attribute above already documented this handler.
fn documented(function: &Handler) -> bool {
    function.attrs.iter().any(|attr| {
        let names: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        names == ["route_guard", "__private", DOCUMENTED]
    })
}

/// With `#[utoipa::path]` below this attribute: the handler with the guards' facts added to
/// it and this attribute moved below it, unexpanded. `None` when there is no such attribute.
pub(crate) fn document(
    name: &str,
    args: &TokenStream,
    entries: &[TokenStream],
    mut function: Handler,
) -> Option<syn::Result<TokenStream>> {
    if !cfg!(feature = "utoipa") {
        return None;
    }
    let at = utoipa_path(&function)?;
    let facts = quote!({ "guards": [#(#entries),*] });
    let mut utoipa = function.attrs.remove(at);
    if let syn::Meta::List(list) = &mut utoipa.meta {
        if let Some(error) = hand_written_security(&list.tokens) {
            return Some(Err(error));
        }
        list.tokens = with_extension(std::mem::take(&mut list.tokens), &facts);
    }
    let name = format_ident!("{name}");
    let this: syn::Attribute = syn::parse_quote!(#[::route_guard::#name(#args)]);
    let marker = format_ident!("{DOCUMENTED}");
    let marker: syn::Attribute = syn::parse_quote!(#[::route_guard::__private::#marker]);
    let marked = documented(&function);
    let mut attrs = vec![utoipa, this];
    attrs.append(&mut function.attrs);
    if !marked {
        attrs.push(marker);
    }
    function.attrs = attrs;
    Some(Ok(function.into_token_stream()))
}

/// `security(..)` written by hand in `#[utoipa::path]`: the guard would replace it, and the
/// two drift apart; refused at `security`.
fn hand_written_security(args: &TokenStream) -> Option<syn::Error> {
    let tokens: Vec<TokenTree> = args.clone().into_iter().collect();
    tokens.windows(2).find_map(|pair| match pair {
        [TokenTree::Ident(ident), TokenTree::Group(group)]
            if ident == "security" && group.delimiter() == Delimiter::Parenthesis =>
        {
            Some(syn::Error::new(
                ident.span(),
                "the guard attributes document this operation's security: remove `security(..)` \
                 from `#[utoipa::path]`; `RouteGuard::openapi()` writes it from the rule and \
                 the guard's authenticators",
            ))
        }
        _ => None,
    })
}

/// The arguments of `#[utoipa::path(..)]` with the extension `x-route-guard` added: into its
/// `extensions(..)` if it has one, as a new `extensions(..)` otherwise.
fn with_extension(args: TokenStream, facts: &TokenStream) -> TokenStream {
    let entry = quote!(("x-route-guard" = json!(#facts)));
    let mut tokens: Vec<TokenTree> = args.into_iter().collect();
    let existing = tokens.windows(2).position(|pair| {
        matches!(pair, [TokenTree::Ident(ident), TokenTree::Group(group)]
            if ident == "extensions" && group.delimiter() == Delimiter::Parenthesis)
    });
    if let Some(at) = existing.map(|at| at + 1)
        && let Some(TokenTree::Group(group)) = tokens.get(at)
    {
        let inner = group.stream();
        let comma = needs_comma(&inner).then(|| quote!(,));
        let mut extended = Group::new(Delimiter::Parenthesis, quote!(#inner #comma #entry));
        extended.set_span(group.span());
        tokens[at] = TokenTree::Group(extended);
        return tokens.into_iter().collect();
    }
    let args: TokenStream = tokens.into_iter().collect();
    let comma = needs_comma(&args).then(|| quote!(,));
    quote!(#args #comma extensions(#entry))
}

/// Whether a list needs a comma before one more element.
fn needs_comma(list: &TokenStream) -> bool {
    match list.clone().into_iter().last() {
        None => false,
        Some(TokenTree::Punct(punct)) => punct.as_char() != ',',
        Some(_) => true,
    }
}

/// The facts of each guard attribute on the handler, as `json!` input: its rule and whether
/// it hides (`None`: `#[require_auth]`).
pub(crate) fn entries(guards: &[Option<&Args>]) -> Vec<TokenStream> {
    let entry = |guard: &Option<&Args>| match guard {
        None => quote!({ "rule": "authenticated", "hide": false }),
        Some(args) => {
            let rule = rule(&args.expr);
            let hide = args.hide.is_some();
            quote!({ "rule": #rule, "hide": #hide })
        }
    };
    guards.iter().map(entry).collect()
}

/// `#[optional_auth]`'s fact: credentials are optional, and refused when they do not verify.
pub(crate) fn optional_entry() -> TokenStream {
    quote!({ "rule": "optional", "hide": false })
}

/// Whether `function` takes a `MaybeAuthenticated` parameter (by the type's last segment).
pub(crate) fn takes_maybe_authenticated(function: &Handler) -> bool {
    function.sig.inputs.iter().any(|input| match input {
        syn::FnArg::Typed(typed) => matches!(&*typed.ty, syn::Type::Path(ty)
            if ty.path.segments.last().is_some_and(|last| last.ident == "MaybeAuthenticated")),
        syn::FnArg::Receiver(_) => false,
    })
}

/// One rule as `json!` input, in the shape the runtime reads (`openapi/facts.rs`).
fn rule(expr: &Expr) -> TokenStream {
    let list = |items: &[Expr]| {
        let items = items.iter().map(rule);
        quote!([#(#items),*])
    };
    match expr {
        Expr::Any(_, items) => {
            let items = list(items);
            quote!({ "any": #items })
        }
        Expr::All(_, items) => {
            let items = list(items);
            quote!({ "all": #items })
        }
        Expr::Not(_, item) => {
            let item = rule(item);
            quote!({ "not": #item })
        }
        Expr::Leaf(leaf) => leaf_rule(leaf),
    }
}

fn leaf_rule(leaf: &Leaf) -> TokenStream {
    match leaf {
        Leaf::Name(kind, name) => {
            let key = kind.keyword();
            let name = name.value();
            quote!({ #key: #name })
        }
        Leaf::TypedRole(path) => {
            let key = Kind::Role.keyword();
            let mut enum_path = path.clone();
            enum_path.segments.pop();
            enum_path.segments.pop_punct();
            let name =
                quote!((<#enum_path as ::route_guard::__private::RoleName>::role_name(&#path)));
            quote!({ #key: #name })
        }
        Leaf::Authenticated(_) => quote!("authenticated"),
        Leaf::MaxAge(seconds) => {
            let value = seconds.base10_parse::<u32>().unwrap_or(1);
            quote!({ "max_age": #value })
        }
        Leaf::Predicate(path) => {
            let name = path_string(path);
            quote!({ "policy": #name })
        }
        Leaf::Ip(_, ranges) => {
            let nets = ranges.iter().filter_map(|range| range.net.as_ref().ok());
            let nets = nets.map(ToString::to_string);
            quote!({ "ip": [#(#nets),*] })
        }
        Leaf::Country(_, codes) => {
            let codes = codes.iter().map(syn::LitStr::value);
            quote!({ "country": [#(#codes),*] })
        }
    }
}

/// With `#[utoipa::path]` above the guard, utoipa has expanded first, documented the handler
/// without its guard, and defined `__path_<handler>`. A unit struct of that name makes the
/// probe's `let` a pattern of that type rather than a new binding, and the build fails on a
/// type whose name says what to do; without it, the `let` binds a value and nothing happens.
/// The probe goes into the body, around the original block, so that it also stands where a
/// `const _` item cannot (an associated function).
pub(crate) fn add_order_probe(function: &mut Handler, span: Span) {
    if !cfg!(feature = "utoipa") || documented(function) {
        return;
    }
    let path_struct = format_ident!("__path_{}", function.sig.ident, span = span);
    let order =
        quote_spanned!(span=> ::route_guard::__private::PutTheGuardAttributesAboveUtoipaPath);
    let probe = quote_spanned! {span=>
        const _: () = {
            #[allow(unused_variables, non_snake_case)]
            let #path_struct = #order;
        };
    };
    function.body = with_first_statement(&function.body, probe);
}

/// `block` with `statement` first, after its inner attributes; into the `{ .. }` of a block
/// that `macro_rules!` wrapped in an invisible group.
fn with_first_statement(block: &Group, statement: TokenStream) -> Group {
    let mut tokens: Vec<TokenTree> = block.stream().into_iter().collect();
    let stream = if block.delimiter() == Delimiter::None {
        tokens
            .into_iter()
            .map(|token| match token {
                TokenTree::Group(inner) => {
                    TokenTree::Group(with_first_statement(&inner, statement.clone()))
                }
                other => other,
            })
            .collect()
    } else {
        let mut at = 0;
        while let [
            TokenTree::Punct(pound),
            TokenTree::Punct(bang),
            TokenTree::Group(_),
            ..,
        ] = tokens.get(at..).unwrap_or_default()
            && pound.as_char() == '#'
            && bang.as_char() == '!'
        {
            at += 3;
        }
        tokens.splice(at..at, statement);
        tokens.into_iter().collect()
    };
    let mut group = Group::new(block.delimiter(), stream);
    group.set_span(block.span());
    group
}
