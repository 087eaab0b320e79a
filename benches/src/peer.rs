//! The stack users pick today, wired as actix-web-grants' own `examples/jwt-httpauth` does:
//! actix-web-httpauth's `HttpAuthentication::bearer` middleware runs a validator that decodes
//! the JWT with jsonwebtoken and attaches the claim's authorities for `#[protect]`.
//!
//! One deliberate kindness to the peer: the example builds its `DecodingKey` inside
//! `decode_jwt` on every request, which for RSA or EC would mean parsing PEM per request; here
//! the key is parsed once, so the comparison measures the stacks, not PEM parsing. The
//! validation is route-guard's (`exp`, `nbf`, issuer, audience), so both do the same checks.

use std::future::Future;
use std::sync::Arc;

use actix_web::Error;
use actix_web::dev::ServiceRequest;
use actix_web::error::ErrorUnauthorized;
use actix_web_grants::authorities::AttachAuthorities;
use actix_web_httpauth::extractors::bearer::BearerAuth;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;

use crate::Signer;

/// The example's claims type, with route-guard's claim names.
#[derive(Debug, Deserialize)]
pub struct PeerClaims {
    /// The subject.
    pub sub: String,
    /// The authorities `#[protect]` checks.
    pub roles: Vec<String>,
}

/// What the validator needs: the key and the checks.
#[derive(Clone)]
pub struct PeerVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl PeerVerifier {
    /// The verifier for `signer`'s tokens.
    #[must_use]
    pub fn new(signer: &Signer) -> Arc<Self> {
        Arc::new(PeerVerifier {
            key: signer.decoding.clone(),
            validation: signer.validation(),
        })
    }

    /// The example's `decode_jwt`.
    ///
    /// # Errors
    /// 401 with jsonwebtoken's message, as the example answers.
    pub fn decode_jwt(&self, token: &str) -> Result<PeerClaims, Error> {
        jsonwebtoken::decode::<PeerClaims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| ErrorUnauthorized(e.to_string()))
    }
}

type Validated = Result<ServiceRequest, (Error, ServiceRequest)>;

/// The example's `validator`, for `HttpAuthentication::bearer`.
pub fn validator(
    verifier: Arc<PeerVerifier>,
) -> impl Fn(ServiceRequest, BearerAuth) -> std::pin::Pin<Box<dyn Future<Output = Validated>>> {
    move |req, credentials| {
        let result = verifier.decode_jwt(credentials.token());
        Box::pin(async move {
            match result {
                Ok(claims) => {
                    req.attach(claims.roles);
                    Ok(req)
                }
                Err(e) => Err((e, req)),
            }
        })
    }
}
