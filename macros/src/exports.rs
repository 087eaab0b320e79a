//! Every path the expansion names, in one place. They all go through the runtime's hidden
//! `__private` module so that generated code never depends on what a user has imported.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

macro_rules! exports {
    ($($name:ident => $item:ident,)*) => {
        $(
            pub(crate) fn $name(span: Span) -> TokenStream {
                quote_spanned!(span=> ::route_guard::__private::$item)
            }
        )*
    };
}

exports! {
    guarded => Guarded,
    require_auth => RequireAuth,
    policy => Policy,
    rule => Rule,
    predicate => Predicate,
    predicate_future => PredicateFuture,
    call_predicate => call_predicate,
    identity => Identity,
    request => HttpRequest,
    role_name => role_name,
    role_name_trait => RoleName,
    ip_net => IpNet,
    policy_ref => PolicyRef,
    encoded => enc,
}
