//! Parsing policy expressions.

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::{Ident, LitStr, Path, Token, parenthesized};

use super::{Args, Expr, Kind, Leaf};

/// The arguments of a guard attribute: exactly one rule, then options. `bare` is what a bare
/// string means there (`None` in `#[require]`, where every leaf says what it is).
pub(crate) fn parse_args(
    input: ParseStream<'_>,
    attribute: &str,
    bare: Option<Kind>,
) -> syn::Result<Args> {
    if input.is_empty() {
        return Err(syn::Error::new(
            input.span(),
            format!(
                "`#[{attribute}]` needs a rule, e.g. {}",
                example(attribute, bare)
            ),
        ));
    }
    let mut exprs = Vec::new();
    // Where the second rule starts: the token to blame for a list without a combinator.
    let mut second = None;
    let mut hide = None;
    while !input.is_empty() {
        if let Some(span) = parse_option(input, &mut hide)? {
            hide = Some(span);
        } else {
            if exprs.len() == 1 {
                second = Some(input.span());
            }
            exprs.push(parse_expr(input, bare)?);
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    let mut exprs = exprs.into_iter();
    match (exprs.next(), exprs.next()) {
        (Some(expr), None) => Ok(Args { expr, hide }),
        (None, _) => Err(syn::Error::new(
            Span::call_site(),
            format!(
                "expected a rule before the options, e.g. {}",
                example(attribute, bare)
            ),
        )),
        _ => Err(syn::Error::new(
            second.unwrap_or_else(Span::call_site),
            "several rules need a combinator: write `any(\"a\", \"b\")` if one of them is \
             enough, or `all(\"a\", \"b\")` if every one is required",
        )),
    }
}

/// The arguments of an address or country attribute: one or more strings, then options.
pub(crate) fn parse_list_args(
    input: ParseStream<'_>,
    attribute: &str,
    leaf: fn(Span, Vec<LitStr>) -> Leaf,
    example: &str,
) -> syn::Result<(Leaf, Option<Span>)> {
    let mut values = Vec::new();
    let mut hide = None;
    while !input.is_empty() {
        if let Some(span) = parse_option(input, &mut hide)? {
            hide = Some(span);
        } else if input.peek(LitStr) {
            values.push(input.parse()?);
        } else {
            let token: proc_macro2::TokenTree = input.parse()?;
            return Err(syn::Error::new(
                token.span(),
                format!("expected a string such as {example}, found `{token}`"),
            ));
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    if values.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("`#[{attribute}]` needs at least one value: `#[{attribute}({example})]`"),
        ));
    }
    Ok((leaf(Span::call_site(), values), hide))
}

/// `hide`, if that is what comes next.
fn parse_option(input: ParseStream<'_>, seen: &mut Option<Span>) -> syn::Result<Option<Span>> {
    if !(input.peek(Ident)
        && !input.peek2(syn::token::Paren)
        && !input.peek2(Token![::])
        && !input.peek2(Token![=]))
    {
        return Ok(None);
    }
    let fork = input.fork();
    let ident: Ident = fork.parse()?;
    if ident != "hide" {
        return Ok(None);
    }
    input.parse::<Ident>()?;
    if seen.is_some() {
        return Err(syn::Error::new(
            ident.span(),
            "`hide` is specified more than once",
        ));
    }
    Ok(Some(ident.span()))
}

/// `rule, rule, ...` with an optional trailing comma, up to the end of `input`.
fn parse_list(input: ParseStream<'_>, bare: Option<Kind>) -> syn::Result<Vec<Expr>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(parse_expr(input, bare)?);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(items)
}

fn example(attribute: &str, bare: Option<Kind>) -> String {
    match bare {
        Some(Kind::Role) => {
            format!("`#[{attribute}(\"admin\")]` or `#[{attribute}(any(\"admin\", \"auditor\"))]`")
        }
        Some(Kind::Scope) => format!("`#[{attribute}(\"read:items\")]`"),
        Some(Kind::Permission) => format!("`#[{attribute}(\"items:delete\")]`"),
        Some(Kind::Scheme | Kind::Issuer | Kind::Acr) => {
            format!("`#[{attribute}(scheme(\"basic\"))]`")
        }
        None => format!("`#[{attribute}(any(role(\"admin\"), policy = crate::owns_document))]`"),
    }
}

/// The combinators and leaf keywords, for "expected one of" messages.
const KEYWORDS: &str = "`any(...)`, `all(...)`, `not(...)`, `role(...)`, `scope(...)`, \
                        `permission(...)`, `scheme(...)`, `issuer(...)`, `authenticated`, \
                        `acr(...)`, `max_age(...)`, \
                        `policy(...)`, `ip(...)` or `country(...)`";

fn parse_expr(input: ParseStream<'_>, bare: Option<Kind>) -> syn::Result<Expr> {
    if input.peek(LitStr) {
        let name: LitStr = input.parse()?;
        return match bare {
            Some(kind) => Ok(Expr::Leaf(Leaf::Name(kind, name))),
            None => Err(syn::Error::new(
                name.span(),
                format!(
                    "say what this name is: `role({0})`, `scope({0})` or `permission({0})`",
                    name.token()
                ),
            )),
        };
    }
    if input.peek(Ident) && (input.peek2(syn::token::Paren) || input.peek2(Token![=])) {
        let keyword: Ident = input.parse()?;
        return parse_keyword(input, keyword, bare);
    }
    if input.peek(Ident) && !input.peek2(Token![::]) {
        let keyword: Ident = input.fork().parse()?;
        if keyword == "authenticated" {
            input.parse::<Ident>()?;
            return Ok(Expr::Leaf(Leaf::Authenticated(keyword.span())));
        }
        if let Some(form) = keyword_form(&keyword.to_string()) {
            return Err(syn::Error::new(
                keyword.span(),
                format!("`{keyword}` needs parentheses: `{form}`"),
            ));
        }
    }
    if input.peek(Ident)
        || input.peek(Token![crate])
        || input.peek(Token![self])
        || input.peek(Token![super])
        || input.peek(Token![::])
    {
        let path: Path = input.parse()?;
        return typed_role(path, bare);
    }
    let token: proc_macro2::TokenTree = input.parse()?;
    Err(syn::Error::new(
        token.span(),
        format!(
            "expected a name in double quotes, e.g. `\"admin\"`, or {KEYWORDS}; found `{token}`"
        ),
    ))
}

/// How a keyword is written, for one written without its parentheses (`any` alone).
fn keyword_form(name: &str) -> Option<&'static str> {
    Some(match name {
        "any" => "any(\"a\", \"b\")",
        "all" => "all(\"a\", \"b\")",
        "not" => "not(\"guest\")",
        "role" => "role(\"admin\")",
        "scope" => "scope(\"read:items\")",
        "permission" => "permission(\"items:delete\")",
        "scheme" => "scheme(\"basic\")",
        "issuer" => "issuer(\"sso\")",
        "acr" => "acr(\"mfa\")",
        "max_age" => "max_age(300)",
        "ip" => "ip(\"10.0.0.0/8\")",
        "country" => "country(\"DE\")",
        "policy" => "policy(path)` or `policy = path",
        _ => return None,
    })
}

fn parse_keyword(input: ParseStream<'_>, keyword: Ident, bare: Option<Kind>) -> syn::Result<Expr> {
    let span = keyword.span();
    let name = keyword.to_string();
    if name == "policy" && input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        return Ok(Expr::Leaf(Leaf::Predicate(input.parse()?)));
    }
    if input.peek(Token![=]) {
        return Err(syn::Error::new(
            span,
            format!("unknown key `{name}`; only `policy = path` takes `=`"),
        ));
    }
    let content;
    parenthesized!(content in input);
    let list = || parse_list(&content, bare);
    match name.as_str() {
        "any" => Ok(Expr::Any(span, list()?)),
        "all" => Ok(Expr::All(span, list()?)),
        "not" => {
            let mut items = list()?;
            match (items.pop(), items.is_empty()) {
                (Some(item), true) => Ok(Expr::Not(span, Box::new(item))),
                _ => Err(syn::Error::new(
                    span,
                    "`not(...)` takes exactly one rule: `not(\"guest\")`",
                )),
            }
        }
        "role" => single_leaf(&content, span, Kind::Role, true),
        "scope" => single_leaf(&content, span, Kind::Scope, false),
        "permission" => single_leaf(&content, span, Kind::Permission, false),
        "scheme" => single_leaf(&content, span, Kind::Scheme, false),
        "issuer" => single_leaf(&content, span, Kind::Issuer, false),
        "acr" => acr(&content, span),
        "max_age" => {
            let seconds = max_age(&content, span, "max_age(300)")?;
            end_of(&content, "max_age(300)")?;
            Ok(Expr::Leaf(Leaf::MaxAge(seconds)))
        }
        "authenticated" => Err(syn::Error::new(
            span,
            "`authenticated` takes no arguments: write it alone, as in `any(authenticated, ..)`",
        )),
        "ip" => {
            strings(&content, span, "ip(\"10.0.0.0/8\")").map(|v| Expr::Leaf(Leaf::ip(span, v)))
        }
        "country" => {
            strings(&content, span, "country(\"DE\")").map(|v| Expr::Leaf(Leaf::Country(span, v)))
        }
        "policy" => {
            let path: Path = content.parse()?;
            end_of(&content, "policy(path)")?;
            Ok(Expr::Leaf(Leaf::Predicate(path)))
        }
        _ => Err(syn::Error::new(
            span,
            format!("unknown combinator `{name}`; expected {KEYWORDS}"),
        )),
    }
}

/// `role("admin")`, `role(Role::Admin)`, `scope("read")`, `permission("x")`.
fn single_leaf(content: ParseStream<'_>, span: Span, kind: Kind, typed: bool) -> syn::Result<Expr> {
    let keyword = kind.keyword();
    let leaf = if content.peek(LitStr) {
        Leaf::Name(kind, content.parse()?)
    } else if typed
        && (content.peek(Ident) || content.peek(Token![crate]) || content.peek(Token![::]))
    {
        match typed_role(content.parse()?, Some(Kind::Role))? {
            Expr::Leaf(leaf) => leaf,
            other => return Ok(other),
        }
    } else {
        return Err(syn::Error::new(
            if content.is_empty() {
                span
            } else {
                content.span()
            },
            format!("`{keyword}(...)` takes one name in double quotes: `{keyword}(\"name\")`"),
        ));
    };
    end_of(content, &format!("{keyword}(\"name\")"))?;
    Ok(Expr::Leaf(leaf))
}

/// `acr("mfa")`, or `acr("mfa", max_age = 300)`: the context, and a login at most that old.
fn acr(content: ParseStream<'_>, span: Span) -> syn::Result<Expr> {
    const FORM: &str = "acr(\"mfa\", max_age = 300)";
    if !content.peek(LitStr) {
        return Err(syn::Error::new(
            if content.is_empty() {
                span
            } else {
                content.span()
            },
            format!("`acr(...)` takes a context name in double quotes: `acr(\"mfa\")` or `{FORM}`"),
        ));
    }
    let name: LitStr = content.parse()?;
    let leaf = Expr::Leaf(Leaf::Name(Kind::Acr, name));
    if content.is_empty() {
        return Ok(leaf);
    }
    content.parse::<Token![,]>()?;
    let key: Ident = content.parse()?;
    if key != "max_age" {
        return Err(syn::Error::new(
            key.span(),
            format!("unknown option `{key}`; `acr` takes `max_age = seconds`: `{FORM}`"),
        ));
    }
    content.parse::<Token![=]>()?;
    let seconds = max_age(content, key.span(), FORM)?;
    end_of(content, FORM)?;
    Ok(Expr::All(
        span,
        vec![leaf, Expr::Leaf(Leaf::MaxAge(seconds))],
    ))
}

/// A number of seconds for `max_age`: a whole number from 1 up.
fn max_age(content: ParseStream<'_>, span: Span, form: &str) -> syn::Result<syn::LitInt> {
    if !content.peek(syn::LitInt) {
        return Err(syn::Error::new(
            if content.is_empty() {
                span
            } else {
                content.span()
            },
            format!("`max_age` takes a number of seconds: `{form}`"),
        ));
    }
    content.parse()
}

/// One or more strings: the arguments of `ip(...)` and `country(...)`.
fn strings(content: ParseStream<'_>, span: Span, form: &str) -> syn::Result<Vec<LitStr>> {
    let mut values = Vec::new();
    while !content.is_empty() {
        if !content.peek(LitStr) {
            return Err(content.error(format!("expected a string, as in `{form}`")));
        }
        values.push(content.parse()?);
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    if values.is_empty() {
        return Err(syn::Error::new(
            span,
            format!("expected at least one string, as in `{form}`"),
        ));
    }
    Ok(values)
}

fn end_of(content: ParseStream<'_>, form: &str) -> syn::Result<()> {
    if content.is_empty() {
        Ok(())
    } else {
        Err(content.error(format!(
            "unexpected tokens: this takes exactly one argument, `{form}`"
        )))
    }
}

/// `Role::Admin` where a role is expected: a variant of an enum deriving `RoleName`.
fn typed_role(path: Path, bare: Option<Kind>) -> syn::Result<Expr> {
    let span = syn::spanned::Spanned::span(&path);
    if bare == Some(Kind::Role) && path.segments.len() >= 2 {
        return Ok(Expr::Leaf(Leaf::TypedRole(path)));
    }
    let shown = super::path_string(&path);
    Err(syn::Error::new(
        span,
        match bare {
            Some(Kind::Role) | None => format!(
                "expected a role name in double quotes, e.g. `\"{shown}\"`, or a typed role \
                 such as `Role::Admin` (an enum that derives `route_guard::RoleName`)"
            ),
            Some(kind) => format!(
                "expected a {} name in double quotes, e.g. `\"{shown}\"`",
                kind.keyword()
            ),
        },
    ))
}
