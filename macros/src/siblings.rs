//! Checks across the guard attributes of one handler.
//!
//! Attributes expand outermost first, so the expanding attribute sees the guard attributes
//! below it, still unexpanded, among the function's attributes. It parses them to refuse an
//! exact repeat and rules that contradict each other (`"admin"` above, `not("admin")` below).
//! A sibling that does not parse is left alone: it reports its own error when it expands.

use crate::attr::Attribute;
use crate::handler::Handler;
use crate::policy::Expr;

pub(crate) fn check(
    attribute: Attribute,
    expr: Option<&Expr>,
    function: &Handler,
) -> syn::Result<()> {
    let mut siblings = Vec::new();
    for attr in &function.attrs {
        let Some(name) = attr
            .path()
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
        else {
            continue;
        };
        let Some(kind) = Attribute::ALL.into_iter().find(|a| a.name() == name) else {
            continue;
        };
        let args = match &attr.meta {
            syn::Meta::Path(_) => proc_macro2::TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(_) => continue,
        };
        if kind.name() == attribute.name()
            && expr.map(canonical)
                == kind
                    .parse_args(args.clone())
                    .ok()
                    .flatten()
                    .map(|sibling| canonical(&sibling.expr))
        {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                format!(
                    "`#[{}]` with these arguments is specified more than once on this handler",
                    attribute.name()
                ),
            ));
        }
        if let Ok(Some(sibling)) = kind.parse_args(args) {
            siblings.push(sibling.expr);
        }
    }
    let Some(own) = expr else { return Ok(()) };
    let own = conjuncts(own);
    let theirs: Vec<&Expr> = siblings.iter().flat_map(conjuncts).collect();
    let mut errors = Vec::new();
    for (required, refused) in [(&own, &theirs), (&theirs, &own)] {
        for &refusal in refused.iter() {
            if let Expr::Not(_, inner) = refusal
                && let Expr::Leaf(leaf) = &**inner
                && required
                    .iter()
                    .any(|r| matches!(r, Expr::Leaf(l) if l.key() == leaf.key()))
            {
                errors.push(syn::Error::new(
                    leaf.span(),
                    format!(
                        "the guards on this handler contradict each other: `{0}` and `not({0})` \
                         can never both hold",
                        leaf.key()
                    ),
                ));
            }
        }
    }
    crate::attr::combine(errors)
}

/// The rules that must all hold for `expr` to hold.
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::All(_, items) => items.iter().collect(),
        other => vec![other],
    }
}

/// A rendering of an expression that is equal for expressions that mean the same.
fn canonical(expr: &Expr) -> String {
    match expr {
        Expr::Leaf(leaf) => leaf.key(),
        Expr::Any(_, items) => format!(
            "any({})",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        Expr::All(_, items) => format!(
            "all({})",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        Expr::Not(_, item) => format!("not({})", canonical(item)),
    }
}
