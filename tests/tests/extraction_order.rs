//! Nothing of a handler's own runs before its guard has decided: not a query parsed (whose
//! error would tell a stranger the handler's input schema), not a body read, not an upload
//! written. For every kind of guard, including those that decide later (Basic hashes off the
//! worker, a JWKS fetch, an async enrichment hook, an application predicate), a refused caller
//! gets 401 or 403, and the handler's extractors answer only to an allowed one.

mod common;
mod fake_idp;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::test::{TestRequest, init_service};
use actix_web::{App, FromRequest, HttpRequest, post, web};
use common::*;
use fake_idp::{Mode, Provider};
use futures_util::future::LocalBoxFuture;
use route_guard::{
    Argon2Users, AuthResult, BasicAuthenticator, Identity, RouteGuard, hash_password, require,
    require_role,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Page {
    n: u32,
}

#[derive(Deserialize)]
struct Item {
    name: String,
}

/// Counts the uploads written: the side effect a refused caller must never cause.
#[derive(Default)]
struct Writes(AtomicUsize);

/// Stands in for a multipart upload written to disk: reads the whole body, counts the write.
struct Upload(usize);

impl FromRequest for Upload {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let writes = req.app_data::<web::Data<Writes>>().cloned();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if let Some(writes) = writes {
                writes.0.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Upload(body.len()))
        })
    }
}

#[post("/upload/{id}")]
#[require_role("admin")]
async fn upload(id: web::Path<u32>, page: web::Query<Page>, file: Upload) -> String {
    format!("{} {} {}", id.into_inner(), page.n, file.0)
}

#[post("/items")]
#[require_role("admin")]
async fn item(web::Json(item): web::Json<Item>) -> String {
    item.name
}

async fn slowly_true(_: &Identity, _: &HttpRequest) -> bool {
    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    true
}

#[post("/checked/{id}")]
#[require(all(role("admin"), policy(slowly_true)))]
async fn checked(id: web::Path<u32>, page: web::Query<Page>, file: Upload) -> String {
    format!("{} {} {}", id.into_inner(), page.n, file.0)
}

/// A kind of guard, and the credentials of an admin, of a user without the role, and wrong
/// ones, as `Authorization` values; and the challenges its 401s carry, without credentials and
/// with the wrong ones.
struct Kind {
    name: &'static str,
    guard: RouteGuard,
    admin: String,
    user: String,
    wrong: String,
    challenge: &'static str,
    refused: String,
}

fn bearer_kind(
    name: &'static str,
    guard: RouteGuard,
    sign: impl Fn(&[&str]) -> String,
    forged: String,
) -> Kind {
    Kind {
        name,
        guard,
        admin: format!("Bearer {}", sign(&["admin"])),
        user: format!("Bearer {}", sign(&["user"])),
        wrong: format!("Bearer {forged}"),
        challenge: r#"Bearer realm="test""#,
        refused: bearer_error(
            "invalid_token",
            route_guard::TokenProblem::BadSignature.description(),
        ),
    }
}

/// An admin's HS256 token signed with a secret the server does not know.
fn forged_hs256() -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(b"not the server's secret, 32+ bytes long");
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    sign(&header, &claims("ann", &["admin"]), &key)
}

fn basic_kind() -> Kind {
    let hash = hash_password("correct horse").unwrap();
    let users = Argon2Users::new()
        .user("alice", &hash, ["admin"])
        .and_then(|users| users.user("bob", &hash, ["user"]))
        .unwrap();
    let authenticator = BasicAuthenticator::new(users).unwrap();
    let guard = RouteGuard::builder(authenticator)
        .realm(REALM)
        .build()
        .unwrap();
    Kind {
        name: "Basic",
        guard,
        admin: basic("alice", "correct horse").1,
        user: basic("bob", "correct horse").1,
        wrong: basic("alice", "wrong horse").1,
        challenge: r#"Basic realm="test", charset="UTF-8""#,
        // Basic has no error parameter (RFC 7617): wrong credentials look like none.
        refused: r#"Basic realm="test", charset="UTF-8""#.to_owned(),
    }
}

fn enriched_kind() -> Kind {
    let guard = RouteGuard::builder(jwt_builder().build().unwrap())
        .realm(REALM)
        .enrich(|identity: Arc<Identity>| async move {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            AuthResult::Ok(identity)
        })
        .build()
        .unwrap();
    bearer_kind(
        "async enrichment",
        guard,
        |roles| token("ann", roles),
        forged_hs256(),
    )
}

/// Keys from a JWKS that nothing has fetched yet: the first request waits for the fetch.
fn jwks_kind() -> (Kind, actix_web::dev::ServerHandle) {
    let provider = web::Data::new(Provider::default());
    provider.set(Mode::Keys, &["k1"]);
    let (addr, server) = fake_idp::serve(&provider);
    let jwt = fake_idp::authenticator(addr, Duration::from_secs(30));
    let guard = RouteGuard::builder(jwt).realm(REALM).build().unwrap();
    let sign_by = |key: &str, roles: &[&str]| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".to_owned());
        sign(&header, &claims("svc", roles), &fake_idp::signing_key(key))
    };
    // Named `k1` but signed with the other key.
    let forged = sign_by("k2", &["admin"]);
    let kind = bearer_kind("JWKS fetch", guard, |roles| sign_by("k1", roles), forged);
    (kind, server)
}

fn post_to(path: &str, credentials: Option<&str>, body: &str) -> TestRequest {
    let req = TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_owned());
    match credentials {
        Some(value) => req.insert_header((header::AUTHORIZATION, value.to_owned())),
        None => req,
    }
}

/// No credentials and wrong ones, with the challenge each 401 must carry.
fn refusals(kind: &Kind) -> [(Option<&str>, &str); 2] {
    [
        (None, kind.challenge),
        (Some(kind.wrong.as_str()), kind.refused.as_str()),
    ]
}

async fn refused_callers_never_reach_the_handlers_extractors(kind: Kind) {
    let writes = web::Data::new(Writes::default());
    let app = init_service(
        App::new()
            .app_data(kind.guard.clone())
            .app_data(writes.clone())
            .service(upload)
            .service(item)
            .service(checked),
    )
    .await;
    let name = kind.name;
    let bad_query = "/upload/7?m=1";
    for path in [
        bad_query,
        "/checked/7?m=1",
        "/upload/abc?n=1",
        "/upload/7?n=1",
    ] {
        for (credentials, challenge) in refusals(&kind) {
            let reply = call(&app, post_to(path, credentials, "file")).await;
            reply.assert_problem(401, "");
            assert_eq!(
                reply.challenge.as_deref(),
                Some(challenge),
                "{name}: {reply:?}"
            );
        }
        let reply = call(&app, post_to(path, Some(&kind.user), "file")).await;
        reply.assert_forbidden();
    }
    for (credentials, challenge) in refusals(&kind) {
        let reply = call(&app, post_to("/items", credentials, "{not json")).await;
        reply.assert_problem(401, "");
        assert_eq!(
            reply.challenge.as_deref(),
            Some(challenge),
            "{name}: {reply:?}"
        );
    }
    call(&app, post_to("/items", Some(&kind.user), "{not json"))
        .await
        .assert_forbidden();
    assert_eq!(
        writes.0.load(Ordering::SeqCst),
        0,
        "{name}: a refused upload was written"
    );

    // An allowed caller meets the handler's own extractors, in order.
    for path in [bad_query, "/checked/7?m=1"] {
        let reply = call(&app, post_to(path, Some(&kind.admin), "file")).await;
        assert_eq!(reply.status, 400, "{name}: {reply:?}");
        assert!(
            reply.body.contains("missing field `n`"),
            "{name}: {reply:?}"
        );
    }
    let reply = call(&app, post_to("/upload/abc?n=1", Some(&kind.admin), "file")).await;
    assert_eq!(
        reply.status, 404,
        "{name}: a path that does not parse: {reply:?}"
    );
    let reply = call(&app, post_to("/items", Some(&kind.admin), "{not json")).await;
    assert_eq!(reply.status, 400, "{name}: {reply:?}");
    assert_eq!(writes.0.load(Ordering::SeqCst), 0, "{name}");
    for path in ["/upload/7?n=3", "/checked/7?n=3"] {
        let reply = call(&app, post_to(path, Some(&kind.admin), "file")).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "7 3 4"),
            "{name}"
        );
    }
    let reply = call(
        &app,
        post_to("/items", Some(&kind.admin), r#"{"name":"pen"}"#),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "pen"), "{name}");
    assert_eq!(writes.0.load(Ordering::SeqCst), 2, "{name}");
}

#[actix_web::test]
async fn behind_a_bearer_guard_that_decides_at_once() {
    let kind = bearer_kind(
        "bearer",
        guard(),
        |roles| token("ann", roles),
        forged_hs256(),
    );
    refused_callers_never_reach_the_handlers_extractors(kind).await;
}

#[actix_web::test]
async fn behind_basic_whose_hash_runs_off_the_worker() {
    refused_callers_never_reach_the_handlers_extractors(basic_kind()).await;
}

#[actix_web::test]
async fn behind_an_async_enrichment_hook() {
    refused_callers_never_reach_the_handlers_extractors(enriched_kind()).await;
}

#[actix_web::test]
async fn behind_a_jwks_that_is_fetched_on_first_use() {
    let (kind, server) = jwks_kind();
    refused_callers_never_reach_the_handlers_extractors(kind).await;
    server.stop(false).await;
}
