//! What a verified token's claims must hold beyond the registered ones (Cognito's `token_use`
//! and `client_id`, a preset's audience), and the roles gathered from several claims.

use std::sync::Arc;

use serde_json::{Map, Value};

#[cfg(feature = "jwks")]
use super::jwks::Jwks;
#[cfg(feature = "jwks")]
use super::remote::RemoteKeys;
use crate::identity::claims::ClaimPath;
use crate::refusal::TokenProblem;

/// The additions a built authenticator carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    #[cfg(feature = "jwks")]
    pub(crate) remote: Option<Arc<RemoteKeys>>,
    /// The OpenID Connect issuer the keys are discovered from, if they are.
    #[cfg(feature = "jwks")]
    pub(crate) openid_issuer: Option<Box<str>>,
    pub(crate) more_roles: Vec<ClaimPath>,
    pub(crate) requirements: Vec<Requirement>,
    pub(crate) cookie: Option<Box<str>>,
    /// DPoP for this issuer's tokens, if allowed.
    pub(crate) dpop: Option<Arc<super::dpop::Dpop>>,
}

/// The additions a builder collects.
#[derive(Debug, Default)]
pub(crate) struct ExtrasBuilder {
    #[cfg(feature = "jwks")]
    pub(crate) jwks: Option<Jwks>,
    pub(crate) more_roles: Vec<ClaimPath>,
    pub(crate) requirements: Vec<Requirement>,
    pub(crate) cookie: Option<String>,
    pub(crate) dpop: Option<super::dpop::Dpop>,
    /// Set by presets whose tokens are worthless without an audience check (RFC 9068 §4).
    pub(crate) audience_required: bool,
}

/// A claim that must be a string equal to one of `allowed`.
#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    pub(crate) path: ClaimPath,
    pub(crate) allowed: Vec<String>,
    /// What a client is told when the claim is missing or different.
    pub(crate) problem: TokenProblem,
}

impl Requirement {
    pub(crate) fn holds(&self, claims: &Map<String, Value>) -> bool {
        matches!(self.path.find(claims), Some(Value::String(value)) if self.allowed.contains(value))
    }
}

impl Extras {
    /// The OpenID Connect issuer whose discovery document names the keys.
    pub(crate) fn openid_issuer(&self) -> Option<&str> {
        #[cfg(feature = "jwks")]
        return self.openid_issuer.as_deref();
        #[cfg(not(feature = "jwks"))]
        None
    }

    /// Whether keys are fetched from a provider, which can be down.
    pub(crate) fn fetches_keys(&self) -> bool {
        #[cfg(feature = "jwks")]
        return self.remote.is_some();
        #[cfg(not(feature = "jwks"))]
        false
    }

    /// Every required claim holds.
    pub(crate) fn check(&self, claims: &Map<String, Value>) -> Result<(), TokenProblem> {
        match self.requirements.iter().find(|r| !r.holds(claims)) {
            Some(failed) => {
                tracing::debug!(claim = %failed.path, "route-guard: required claim value missing");
                Err(failed.problem)
            }
            None => Ok(()),
        }
    }
}

/// Roles from every configured claim.
pub(crate) fn all_roles(
    first: &ClaimPath,
    more: &[ClaimPath],
    claims: &Map<String, Value>,
) -> Vec<String> {
    let mut roles = super::names(first, claims);
    for path in more {
        roles.extend(super::names(path, claims));
    }
    roles
}
