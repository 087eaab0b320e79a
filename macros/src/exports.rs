//! Every path the expansion names, in one place. They all go through the runtime's hidden
//! `__private` module so that generated code never depends on what a user has imported.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

pub(crate) fn guarded(span: Span) -> TokenStream {
    quote_spanned!(span=> ::route_guard::__private::Guarded)
}

pub(crate) fn policy(span: Span) -> TokenStream {
    quote_spanned!(span=> ::route_guard::__private::Policy)
}

pub(crate) fn rule(span: Span) -> TokenStream {
    quote_spanned!(span=> ::route_guard::__private::Rule)
}
