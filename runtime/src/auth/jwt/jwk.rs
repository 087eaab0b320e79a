//! Reading public keys from a JSON Web Key Set (RFC 7517), strictly.
//!
//! Every key becomes a [`JwtKey`] bound to exactly one algorithm (RFC 8725 §3.1). A key that is
//! not for signatures, is symmetric, has an `alg` its `kty`/`crv` cannot carry, or is too weak
//! is skipped with a log line; the rest of the set stays usable, so one odd key published by a
//! provider does not take authentication down.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::time::Instant;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use super::key::{JwtKey, MIN_RSA_BITS};

/// The members of one JWK the guard reads. Private members (`d`, `p`, …) are ignored: a
/// verifier never needs them.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// Keys in use.
#[derive(Default)]
#[cfg_attr(not(feature = "jwks"), allow(dead_code))]
pub(crate) struct KeySet {
    pub(crate) keys: Vec<JwtKey>,
    /// Whether a fetch ever succeeded; a set that never loaded means "no usable keys" (503),
    /// not "unknown key" (401).
    pub(crate) loaded: bool,
    /// When to fetch again; `None` for a set that never goes stale.
    pub(crate) fresh_until: Option<Instant>,
}

impl KeySet {
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    pub(crate) fn loaded(keys: Vec<JwtKey>) -> Self {
        KeySet {
            keys,
            loaded: true,
            fresh_until: None,
        }
    }
}

impl JwtKey {
    /// The signature keys of a JWKS document (RFC 7517 §5), for a key set kept in
    /// configuration rather than fetched; see [`Jwks`](crate::Jwks) to fetch and refresh one.
    ///
    /// Each key is bound to one algorithm: its `alg`, or the one its curve fixes, or RS256 for
    /// an RSA key without `alg`. Keys that are symmetric, not for signatures, inconsistent or
    /// weaker than RFC 7518 allows are skipped with a warning in the log.
    pub fn from_jwks(document: impl AsRef<[u8]>) -> Result<Vec<JwtKey>, crate::ConfigError> {
        let keys = parse_jwks(document.as_ref()).map_err(crate::ConfigError::new)?;
        if keys.is_empty() {
            return Err(crate::ConfigError::new(
                "the JWKS holds no usable signature key",
            ));
        }
        Ok(keys)
    }
}

/// The usable signature keys of a JWKS document, or why the document itself is unusable.
///
/// Individual bad keys are skipped (and logged); only a document that is not a JWKS at all is
/// an error.
pub(crate) fn parse_jwks(document: &[u8]) -> Result<Vec<JwtKey>, String> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<Value>,
    }
    let set: RawSet = serde_json::from_slice(document)
        .map_err(|e| format!("not a JWKS document (want {{\"keys\": [...]}}): {e}"))?;
    let mut keys = Vec::with_capacity(set.keys.len());
    for (index, value) in set.keys.into_iter().enumerate() {
        match serde_json::from_value::<RawJwk>(value).map_err(|e| e.to_string()) {
            Ok(raw) => match key_from_jwk(&raw) {
                Ok(key) => keys.push(key),
                Err(reason) => tracing::warn!(
                    index,
                    kid = raw.kid.as_deref().unwrap_or(""),
                    "route-guard: JWKS key skipped: {reason}"
                ),
            },
            Err(reason) => tracing::warn!(index, "route-guard: JWKS key skipped: {reason}"),
        }
    }
    Ok(keys)
}

/// A JWK given as a JSON value (a DPoP proof's `jwk` header) as a verification key for
/// `algorithm` (the proof's `alg`, when the JWK names none), with the same checks as a JWKS
/// key: an RSA key without `alg` is then a PS256 or RS384 key as the proof says, not RS256.
pub(crate) fn key_from_value(value: &Value, algorithm: Algorithm) -> Result<JwtKey, String> {
    let mut raw = RawJwk::deserialize(value).map_err(|e| e.to_string())?;
    if raw.alg.is_none() {
        raw.alg = Some(format!("{algorithm:?}"));
    }
    key_from_jwk(&raw)
}

/// One JWK as a verification key, checked for consistency.
fn key_from_jwk(jwk: &RawJwk) -> Result<JwtKey, String> {
    if let Some(use_) = &jwk.use_
        && use_ != "sig"
    {
        return Err(format!("`use` is {use_:?}, not \"sig\""));
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|op| op == "verify")
    {
        return Err("`key_ops` does not include \"verify\"".into());
    }
    let declared = jwk
        .alg
        .as_deref()
        .map(|alg| {
            alg.parse::<Algorithm>()
                .map_err(|_| format!("unsupported alg {alg:?}"))
        })
        .transpose()?;
    let (algorithm, key) = match jwk.kty.as_str() {
        "RSA" => rsa(jwk, declared)?,
        "EC" => ec(jwk, declared)?,
        "OKP" => okp(jwk, declared)?,
        // A published set is public; a shared secret in it would let anyone mint tokens, and
        // accepting it would reopen RS→HS confusion (RFC 8725 §2.1).
        "oct" => return Err("symmetric (`oct`) keys are never taken from a JWKS".into()),
        other => return Err(format!("unsupported kty {other:?}")),
    };
    Ok(JwtKey {
        kid: jwk.kid.clone(),
        algorithm,
        key,
        hmac: None,
        test_only: false,
    })
}

fn member<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .ok_or_else(|| format!("the `{name}` member is missing"))
}

fn decoded_len(value: &str, name: &str) -> Result<usize, String> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map(|bytes| bytes.len())
        .map_err(|_| format!("`{name}` is not base64url"))
}

/// An RSA key: RS*/PS* as declared, RS256 when `alg` is absent (what Entra ID, Google and
/// Cognito publish without saying).
fn rsa(jwk: &RawJwk, declared: Option<Algorithm>) -> Result<(Algorithm, DecodingKey), String> {
    let algorithm = declared.unwrap_or(Algorithm::RS256);
    if !matches!(
        algorithm,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    ) {
        return Err(format!("alg {algorithm:?} does not fit an RSA key"));
    }
    let (n, e) = (member(&jwk.n, "n")?, member(&jwk.e, "e")?);
    let modulus = URL_SAFE_NO_PAD
        .decode(n)
        .map_err(|_| "`n` is not base64url".to_owned())?;
    let bits = modulus
        .iter()
        .position(|&b| b != 0)
        .map_or(0, |first| (modulus.len() - first) as u64 * 8);
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the RSA modulus has about {bits} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    decoded_len(e, "e")?;
    let key = DecodingKey::from_rsa_components(n, e).map_err(|e| e.to_string())?;
    Ok((algorithm, key))
}

/// An elliptic-curve key: the curve fixes the algorithm (RFC 7518 §3.4).
fn ec(jwk: &RawJwk, declared: Option<Algorithm>) -> Result<(Algorithm, DecodingKey), String> {
    let (algorithm, size) = match jwk.crv.as_deref() {
        Some("P-256") => (Algorithm::ES256, 32),
        Some("P-384") => (Algorithm::ES384, 48),
        other => return Err(format!("unsupported EC curve {other:?}")),
    };
    if declared.is_some_and(|alg| alg != algorithm) {
        return Err(format!("alg {declared:?} does not fit curve {:?}", jwk.crv));
    }
    let (x, y) = (member(&jwk.x, "x")?, member(&jwk.y, "y")?);
    if decoded_len(x, "x")? != size || decoded_len(y, "y")? != size {
        return Err(format!("the coordinates are not {size} bytes long"));
    }
    let key = DecodingKey::from_ec_components(x, y).map_err(|e| e.to_string())?;
    Ok((algorithm, key))
}

/// An octet key pair: only Ed25519, for EdDSA (RFC 8037).
fn okp(jwk: &RawJwk, declared: Option<Algorithm>) -> Result<(Algorithm, DecodingKey), String> {
    if jwk.crv.as_deref() != Some("Ed25519") {
        return Err(format!("unsupported OKP curve {:?}", jwk.crv));
    }
    if declared.is_some_and(|alg| alg != Algorithm::EdDSA) {
        return Err(format!("alg {declared:?} does not fit an Ed25519 key"));
    }
    let x = member(&jwk.x, "x")?;
    if decoded_len(x, "x")? != 32 {
        return Err("an Ed25519 public key is 32 bytes long".into());
    }
    let key = DecodingKey::from_ed_components(x).map_err(|e| e.to_string())?;
    Ok((Algorithm::EdDSA, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const N2048: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn one(key: Value) -> Result<JwtKey, String> {
        key_from_jwk(&serde_json::from_value(key).map_err(|e| e.to_string())?)
    }

    #[test]
    fn keys_are_bound_to_the_algorithm_their_type_fixes() {
        let rsa = one(json!({"kty":"RSA","kid":"r","n":N2048,"e":"AQAB"})).unwrap();
        assert_eq!(
            (rsa.algorithm, rsa.kid.as_deref()),
            (Algorithm::RS256, Some("r"))
        );
        let ps = one(json!({"kty":"RSA","alg":"PS384","n":N2048,"e":"AQAB","use":"sig"})).unwrap();
        assert_eq!(ps.algorithm, Algorithm::PS384);
        let ec = one(json!({"kty":"EC","crv":"P-256","x":P256_X,"y":P256_Y})).unwrap();
        assert_eq!(ec.algorithm, Algorithm::ES256);
        let ed = one(json!({"kty":"OKP","crv":"Ed25519","x":ED_X,"key_ops":["verify"]})).unwrap();
        assert_eq!(ed.algorithm, Algorithm::EdDSA);
    }

    #[test]
    fn inconsistent_weak_or_secret_keys_are_refused() {
        for bad in [
            json!({"kty":"RSA","alg":"ES256","n":N2048,"e":"AQAB"}),
            json!({"kty":"RSA","alg":"HS256","n":N2048,"e":"AQAB"}),
            json!({"kty":"RSA","n":"AQAB","e":"AQAB"}),
            json!({"kty":"RSA","n":N2048}),
            json!({"kty":"RSA","n":N2048,"e":"AQAB","use":"enc"}),
            json!({"kty":"RSA","n":N2048,"e":"AQAB","key_ops":["encrypt"]}),
            json!({"kty":"EC","crv":"P-256","alg":"ES384","x":P256_X,"y":P256_Y}),
            json!({"kty":"EC","crv":"P-384","x":P256_X,"y":P256_Y}),
            json!({"kty":"EC","crv":"P-521","x":P256_X,"y":P256_Y}),
            json!({"kty":"OKP","crv":"X25519","x":ED_X}),
            json!({"kty":"OKP","crv":"Ed25519","alg":"RS256","x":ED_X}),
            json!({"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}),
            json!({"kty":"RSA","alg":"none","n":N2048,"e":"AQAB"}),
            json!({"kty":"RSA","n":"!!","e":"AQAB"}),
        ] {
            assert!(one(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_key_is_skipped_and_a_bad_document_refused() {
        let doc = json!({"keys":[
            {"kty":"oct","k":"AAAA"},
            {"kty":"RSA","n":N2048,"e":"AQAB","kid":"good"},
            "not an object",
            {"kty":"EC","crv":"P-256","x":P256_X,"y":P256_Y,"kid":"ec"}
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
        let kids: Vec<_> = keys
            .iter()
            .map(|k| k.kid.clone().unwrap_or_default())
            .collect();
        assert_eq!(kids, ["good", "ec"]);
        for bad in [&b"<html>"[..], b"{}", b"{\"keys\":{}}", b"[]", b""] {
            assert!(parse_jwks(bad).is_err());
        }
    }
}
