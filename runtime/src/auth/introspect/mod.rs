//! Opaque access tokens, judged by their issuer's introspection endpoint (RFC 7662).
//!
//! `builder.rs` configures it; `call.rs` finds the endpoint and asks it; `cache.rs` remembers
//! answers and keeps one call in flight per token. An active answer becomes an [`Identity`] as
//! a JWT's claims do: the same `iss` and `aud` rules (`auth/jwt/registered.rs`), the same claim
//! paths and presets.

mod builder;
mod cache;
mod call;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use serde_json::{Map, Value};

use self::builder::ClientAuth;
pub use self::builder::{
    DEFAULT_INACTIVE_TTL, DEFAULT_INTROSPECTION_ENTRIES, DEFAULT_INTROSPECTION_MAX_BODY,
    DEFAULT_INTROSPECTION_TIMEOUT, DEFAULT_INTROSPECTION_TTL, IntrospectionAuthenticatorBuilder,
};
use self::call::{Endpoint, Said};
use crate::auth::bearer::{Presented, TokenSource, access_token};
use crate::auth::jwt::names;
use crate::auth::jwt::registered::RegisteredClaims;
use crate::auth::jwt::requirements::{Requirement, all_roles};
use crate::auth::{AuthFuture, Authenticator, CredentialScheme};
use crate::identity::Identity;
use crate::identity::claims::{ClaimPath, numeric_date};
use crate::refusal::{Denial, TokenProblem, bearer_challenge};

/// Opaque bearer tokens, checked by asking the issuer's introspection endpoint (RFC 7662), as
/// Google, Okta's org server and many Keycloak setups require: only the provider can read them.
///
/// ```
/// use std::time::Duration;
/// use route_guard::{IntrospectionAuthenticator, RouteGuard};
///
/// let opaque = IntrospectionAuthenticator::builder()
///     .discover("https://sso.example.com/realms/acme") // finds `introspection_endpoint`
///     .client_secret_basic("my-api", "the API's own client secret")
///     .audience("my-api")
///     .roles_claim("realm_access.roles")
///     .cache_ttl(Duration::from_secs(30))
///     .build()?;
/// let guard = RouteGuard::new(opaque);
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
///
/// - An answer whose `active` is anything but JSON `true` is 401 `invalid_token`. An active
///   one must pass the `iss`, `aud`, `exp` and `nbf` rules a JWT's claims pass (`exp` may be
///   absent), must not be bound to a key (`cnf`), and its `token_type`, if any, must be
///   `Bearer`. The subject is `sub`, or `client_id` for a client acting for itself.
/// - Faults of the endpoint (no connection, a timeout, a status other than 200 — the endpoint
///   refusing this server's own client secret included —, a body that is not a JSON object or
///   is over [`max_body`](IntrospectionAuthenticatorBuilder::max_body)) answer 503 with
///   `Retry-After`: the client's token may be good, and a 401 would tell it to discard it. A
///   wrong client secret is the server's own misconfiguration, logged at `error`; it is 503
///   rather than 500 because it is fixed at the provider as often as here, and clients
///   should retry rather than give up.
/// - Answers are cached, keyed by the SHA-256 digest of the whole token: an active one until
///   the earlier of its `exp` and [`cache_ttl`](IntrospectionAuthenticatorBuilder::cache_ttl),
///   a refusing one for [`inactive_ttl`](IntrospectionAuthenticatorBuilder::inactive_ttl).
///   **A token revoked at the provider keeps working until its entry ends**: the TTL is the
///   longest a revoked token may be honoured.
/// - However many requests carry a token the cache lacks, one call is made for it at a time.
#[derive(Clone)]
pub struct IntrospectionAuthenticator {
    inner: Arc<Inner>,
}

/// Everything the calls need, shared with the tasks that make them.
pub(crate) struct Inner {
    endpoint: Endpoint,
    http: reqwest::Client,
    client: ClientAuth,
    registered: RegisteredClaims,
    mapping: Mapping,
    source: TokenSource,
    cache: cache::Answers,
    settings: Settings,
    name: Option<Arc<str>>,
    scheme: Arc<str>,
    issuer: Option<Box<str>>,
    /// DPoP for this issuer's opaque tokens, if accepted.
    dpop: Option<Arc<crate::auth::jwt::Dpop>>,
}

/// Timeouts and lifetimes.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    ttl: Duration,
    inactive_ttl: Duration,
    timeout: Duration,
    max_body: usize,
    retry_after_secs: u32,
}

/// Where an answer's roles, scopes and permissions are, and the members it must hold.
struct Mapping {
    roles: ClaimPath,
    more_roles: Vec<ClaimPath>,
    scopes: ClaimPath,
    permissions: ClaimPath,
    requirements: Vec<Requirement>,
}

impl IntrospectionAuthenticator {
    /// Starts a configuration: an endpoint (or [`discover`](IntrospectionAuthenticatorBuilder::discover))
    /// and the resource server's credentials, then
    /// [`build`](IntrospectionAuthenticatorBuilder::build).
    pub fn builder() -> IntrospectionAuthenticatorBuilder {
        IntrospectionAuthenticatorBuilder::new()
    }

    /// Judges `token`, already read from the request: from the cache, the call in flight for
    /// it, or a new call. For a router that has chosen this issuer for the token.
    pub(crate) fn authenticate_token(&self, token: &str) -> AuthFuture {
        cache::answer(&self.inner, token)
    }

    /// The issuer whose tokens this authenticator judges, when one is configured.
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The DPoP settings of this issuer's tokens, if it accepts DPoP.
    pub(crate) fn dpop(&self) -> Option<&Arc<crate::auth::jwt::Dpop>> {
        self.inner.dpop.as_ref()
    }

    /// How many answers the cache holds now.
    #[must_use]
    pub fn cached_answers(&self) -> usize {
        self.inner.cache.len()
    }
}

impl Inner {
    /// What an answer means at `now` (seconds since the epoch), and how long to remember it.
    fn judge(&self, said: Said, now: u64) -> (Result<Arc<Identity>, TokenProblem>, Duration) {
        let refused = |problem| (Err(problem), self.settings.inactive_ttl);
        let members = match said {
            Ok(members) => members,
            Err(problem) => return refused(problem),
        };
        let lifetime = match members.get("exp").and_then(numeric_date) {
            Some(exp) => Duration::from_secs(exp.saturating_sub(now)).min(self.settings.ttl),
            None => self.settings.ttl,
        };
        match self.identity(members, now) {
            Ok(identity) => (Ok(Arc::new(identity)), lifetime),
            Err(problem) => refused(problem),
        }
    }

    fn identity(&self, members: Map<String, Value>, now: u64) -> Result<Identity, TokenProblem> {
        self.registered.check(&members, now)?;
        // Bound to a key: a DPoP key (`cnf.jkt`) is checked against the request's proof where
        // the token is used (it is never usable as a plain bearer token); any other binding
        // (an mTLS certificate, RFC 8705) cannot be checked here, so the token is refused.
        if let Some(cnf) = members.get("cnf").filter(|cnf| !cnf.is_null()) {
            let dpop_only = cnf
                .as_object()
                .is_some_and(|cnf| cnf.len() == 1 && cnf.get("jkt").is_some_and(Value::is_string));
            if !dpop_only {
                return Err(TokenProblem::KeyBound);
            }
        }
        // A DPoP token (RFC 9449 §6.2) is bound by `cnf.jkt`, which is checked where it is used.
        match members.get("token_type") {
            None | Some(Value::Null) => {}
            Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => {}
            Some(Value::String(kind))
                if kind.eq_ignore_ascii_case("dpop") && members.get("cnf").is_some() => {}
            Some(_) => return Err(TokenProblem::WrongType),
        }
        let subject = match (members.get("sub"), members.get("client_id")) {
            (Some(Value::String(sub)), _) | (None, Some(Value::String(sub))) => sub.clone(),
            _ => return Err(TokenProblem::MissingClaim),
        };
        let mapping = &self.mapping;
        if let Some(failed) = mapping.requirements.iter().find(|r| !r.holds(&members)) {
            tracing::debug!(claim = %failed.path, "route-guard: required claim value missing");
            return Err(failed.problem);
        }
        let roles = all_roles(&mapping.roles, &mapping.more_roles, &members);
        let scopes = names(&mapping.scopes, &members);
        let permissions = names(&mapping.permissions, &members);
        let identity = Identity::new(subject, roles, members)
            .with_scopes(scopes)
            .with_permissions(permissions)
            .with_scheme(Arc::clone(&self.scheme));
        Ok(match &self.name {
            Some(name) => identity.with_issuer(Arc::clone(name)),
            None => identity,
        })
    }
}

impl Authenticator for IntrospectionAuthenticator {
    fn authenticate(&self, req: &HttpRequest) -> AuthFuture {
        let dpop = self.inner.dpop.as_ref();
        match access_token(req, self.inner.source, dpop.is_some()) {
            Ok((presented, token)) => {
                let verified = self.authenticate_token(&token);
                let for_proof = (presented == Presented::Dpop).then_some(token);
                crate::auth::jwt::bound(dpop, req, presented, for_proof, verified)
            }
            Err(denial) => AuthFuture::ready(Err(denial)),
        }
    }

    fn challenge(&self, realm: &str, denial: Denial) -> String {
        bearer_challenge(realm, denial)
    }

    fn challenges(&self, realm: &str, denial: Denial, req: &HttpRequest) -> Vec<String> {
        let dpop = self.inner.dpop.as_ref().map(|dpop| {
            (
                &*dpop.algs,
                dpop.mode == crate::auth::jwt::DpopMode::Allowed,
            )
        });
        crate::auth::jwt::challenges_with(realm, denial, req, dpop)
    }

    fn dpop_nonce(&self, denial: Denial, _req: &HttpRequest) -> Option<String> {
        self.inner.dpop.as_ref()?.nonce_for(denial)
    }

    fn scheme(&self) -> CredentialScheme {
        CredentialScheme::BearerOpaque {
            issuer: self.inner.issuer.as_deref().map(str::to_owned),
        }
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("bearer")
    }

    fn issuers(&self) -> Vec<String> {
        self.issuer().map(str::to_owned).into_iter().collect()
    }
}

impl fmt::Debug for IntrospectionAuthenticator {
    // The client secret is never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("IntrospectionAuthenticator")
            .field("endpoint", &inner.endpoint)
            .field("client", &inner.client)
            .field("issuer", &inner.issuer)
            .field("audiences", &inner.registered.audiences)
            .field("settings", &inner.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn authenticator() -> IntrospectionAuthenticator {
        IntrospectionAuthenticator::builder()
            .endpoint("https://idp.example/introspect")
            .client_secret_basic("api", "secret")
            .audience("api")
            .cache_ttl(Duration::from_secs(60))
            .inactive_ttl(Duration::from_secs(5))
            .build()
            .unwrap()
    }

    fn said(members: Value) -> Said {
        Ok(members.as_object().cloned().unwrap())
    }

    #[test]
    fn an_active_answer_lives_until_the_earlier_of_exp_and_the_ttl() {
        let inner = &authenticator().inner;
        let lifetime = |answer| inner.judge(said(answer), NOW).1.as_secs();
        let answer = |exp: Option<u64>| {
            let mut answer = json!({"active": true, "sub": "a", "aud": "api"});
            if let Some(exp) = exp {
                answer["exp"] = json!(exp);
            }
            answer
        };
        assert_eq!(lifetime(answer(Some(NOW + 10))), 10);
        assert_eq!(lifetime(answer(Some(NOW + 3600))), 60);
        assert_eq!(lifetime(answer(None)), 60);
        // Past `exp` but within the leeway: accepted, never remembered.
        let (identity, lifetime) = inner.judge(said(answer(Some(NOW - 5))), NOW);
        assert!(identity.is_ok());
        assert_eq!(lifetime, Duration::ZERO);
    }

    #[test]
    fn a_refusing_answer_lives_for_the_inactive_ttl() {
        let inner = &authenticator().inner;
        let inactive = inner.judge(Err(TokenProblem::Inactive), NOW);
        assert_eq!(inactive.0.err(), Some(TokenProblem::Inactive));
        assert_eq!(inactive.1, Duration::from_secs(5));
        let elsewhere = json!({"active": true, "sub": "a", "aud": "other", "exp": NOW + 600});
        let refused = inner.judge(said(elsewhere), NOW);
        assert_eq!(refused.0.err(), Some(TokenProblem::WrongAudience));
        assert_eq!(refused.1, Duration::from_secs(5));
    }

    #[test]
    fn cache_keys_are_digests_of_the_whole_token() {
        assert_ne!(cache::key("token-a"), cache::key("token-b"));
        assert_ne!(cache::key("abc"), cache::key("abcd"));
        assert_eq!(cache::key("abc"), cache::key("abc"));
    }
}
