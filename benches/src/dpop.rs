//! DPoP fixtures (RFC 9449): a token bound to a client key and a pool of proofs of that key,
//! each with its own `jti`, signed here by jsonwebtoken with the benchmark keys.

use actix_web::HttpRequest;
use actix_web::test::TestRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, Header};
use route_guard::{Dpop, JwtAuthenticator, TokenCache};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{AUDIENCE, ISSUER, Signer, claims, signer};

/// The origin the benchmark's clients call, which proofs name in `htu`.
pub const ORIGIN: &str = "https://api.bench";
/// The path the benchmark's requests go to.
pub const PATH: &str = "/reports";

/// A client of one proof algorithm: its bound token, proofs, and the guard's authenticator.
pub struct DpopClient {
    /// The access token, HS256-signed by the issuer, bound to the client's key.
    pub token: String,
    /// Proofs for `GET https://api.bench/reports`, each with its own `jti`.
    pub proofs: Vec<String>,
    /// The client's key as the proofs' signature verifies with it.
    pub signer: Signer,
}

impl DpopClient {
    /// A client signing proofs with `algorithm` (RS256, ES256 or EdDSA), with `count` proofs.
    ///
    /// # Panics
    /// If the fixture keys do not sign, which they always do.
    #[must_use]
    pub fn new(algorithm: Algorithm, count: usize) -> DpopClient {
        let signer = signer(algorithm);
        let public = Jwk::from_encoding_key(signer.encoding(), algorithm).expect("a public JWK");
        let jkt = public
            .thumbprint(ThumbprintHash::SHA256)
            .expect("a thumbprint");
        let issuer = crate::signer(Algorithm::HS256);
        let mut bound = claims("alice", &["admin"]);
        bound["cnf"] = json!({ "jkt": jkt });
        let token = issuer.sign(&bound);
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        let mut header = Header::new(algorithm);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(public);
        let now = jsonwebtoken::get_current_timestamp();
        // Unique across runs too: a server that saw an earlier pool's proofs must not take
        // these for replays.
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let proofs = (0..count)
            .map(|i| {
                let claims = json!({
                    "htm": "GET", "htu": format!("{ORIGIN}{PATH}"), "iat": now,
                    "jti": format!("proof-{run}-{i:06}"), "ath": ath,
                });
                jsonwebtoken::encode(&header, &claims, signer.encoding()).expect("a proof")
            })
            .collect();
        DpopClient {
            token,
            proofs,
            signer,
        }
    }

    /// The issuer's authenticator, taking DPoP with the proof's algorithm, the cache on.
    ///
    /// # Panics
    /// If the configuration is refused, which it never is.
    #[must_use]
    pub fn authenticator(&self) -> JwtAuthenticator {
        let dpop = Dpop::allowed(ORIGIN)
            .and_then(|dpop| dpop.algorithms([self.signer.algorithm]))
            .expect("a DPoP configuration");
        JwtAuthenticator::builder()
            .key(crate::signer(Algorithm::HS256).key)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .cache(TokenCache::new(16))
            .dpop(dpop)
            .build()
            .expect("benchmark configuration is valid")
    }

    /// The request carrying the token and proof `index`.
    #[must_use]
    pub fn request(&self, index: usize) -> HttpRequest {
        TestRequest::get()
            .uri(&format!("http://localhost{PATH}"))
            .insert_header(("authorization", format!("DPoP {}", self.token)))
            .insert_header(("dpop", self.proofs[index % self.proofs.len()].as_str()))
            .to_http_request()
    }

    /// Verifies proof `index`'s signature alone, as jsonwebtoken does: what a DPoP request
    /// cannot do without.
    #[must_use]
    pub fn verify_signature(&self, index: usize) -> bool {
        let proof = &self.proofs[index % self.proofs.len()];
        let (message, signature) = proof.rsplit_once('.').expect("a compact JWS");
        jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &self.signer.decoding,
            self.signer.algorithm,
        )
        .unwrap_or(false)
    }
}
