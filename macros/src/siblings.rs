//! Checks across the guard attributes of one handler.
//!
//! Attributes expand outermost first, so the expanding attribute sees the guard attributes
//! below it, still unexpanded, among the function's attributes. It parses them to refuse an
//! exact repeat and rules that contradict each other (`"admin"` above, `not("admin")` below).
//! A sibling that does not parse is left alone: it reports its own error when it expands.

use crate::attribute::Attribute;
use crate::handler::Handler;
use crate::policy::check::no_contradiction;
use crate::policy::{Args, Expr};

pub(crate) fn check(
    attribute: Attribute,
    expr: Option<&Expr>,
    function: &Handler,
) -> syn::Result<()> {
    let siblings = siblings(function);
    let repeated = siblings.iter().any(|(kind, sibling)| {
        *kind == attribute && sibling.as_ref().map(|s| s.expr.key()) == expr.map(Expr::key)
    });
    if repeated {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            format!(
                "`#[{}]` with these arguments is specified more than once on this handler",
                attribute.name()
            ),
        ));
    }
    let Some(own) = expr else { return Ok(()) };
    let own = conjuncts(own);
    let theirs: Vec<&Expr> = siblings
        .iter()
        .filter_map(|(_, sibling)| sibling.as_ref())
        .flat_map(|sibling| conjuncts(&sibling.expr))
        .collect();
    let mut errors = Vec::new();
    let whose = "the guards on this handler";
    no_contradiction(
        own.iter().copied(),
        theirs.iter().copied(),
        whose,
        &mut errors,
    );
    no_contradiction(
        theirs.iter().copied(),
        own.iter().copied(),
        whose,
        &mut errors,
    );
    crate::errors::combine(errors)
}

/// The guard attributes below this one, each with its arguments (`None` for `#[require_auth]`
/// and for one whose arguments do not parse).
pub(crate) fn siblings(function: &Handler) -> Vec<(Attribute, Option<Args>)> {
    function
        .attrs
        .iter()
        .filter_map(|attr| {
            let name = attr.path().segments.last()?.ident.to_string();
            let kind = Attribute::ALL.into_iter().find(|a| a.name() == name)?;
            let args = match &attr.meta {
                syn::Meta::Path(_) => proc_macro2::TokenStream::new(),
                syn::Meta::List(list) => list.tokens.clone(),
                syn::Meta::NameValue(_) => return None,
            };
            Some((kind, kind.parse_args(args).ok().flatten()))
        })
        .collect()
}

/// The rules that must all hold for `expr` to hold.
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::All(_, items) => items.iter().collect(),
        other => vec![other],
    }
}
