//! The verified-token cache, as a client sees it: it never lets a token through that
//! verification would refuse, and it stays within its bounds.

mod common;

use std::time::Duration;

use actix_web::test::init_service;
use actix_web::{App, HttpResponse, get};
use common::*;
use route_guard::{Authenticated, JwtAuthenticator, TokenCache, require_auth, require_role};
use serde_json::json;

#[get("/me")]
#[require_auth]
async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().body(user.subject().to_owned())
}

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> &'static str {
    "hello, admin"
}

fn with_cache(cache: &TokenCache) -> JwtAuthenticator {
    let jwt = jwt_builder().cache(cache.clone()).leeway(Duration::ZERO);
    jwt.build().expect("config is valid")
}

macro_rules! app {
    ($jwt:expr) => {
        init_service(
            App::new()
                .app_data(guard_with($jwt))
                .service(me)
                .service(admin),
        )
        .await
    };
}

#[actix_web::test]
async fn a_cached_token_that_expires_is_refused_as_expired() {
    let cache = TokenCache::new(16);
    let app = app!(with_cache(&cache));
    // Two seconds ahead: at one-second granularity and zero leeway, `now() + 1` can be reached
    // before the first request is answered on a busy machine.
    let exp = now() + 2;
    let token = hs256(&with(claims("alice", &[]), "exp", json!(exp)));
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "alice"));
    assert_eq!(cache.len(), 1);
    while now() <= exp {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    reply.assert_invalid_token("expired", &token);
    assert_eq!(cache.len(), 0, "the expired entry is dropped");
}

#[actix_web::test]
async fn tokens_sharing_a_prefix_are_never_confused() {
    let cache = TokenCache::new(16);
    let app = app!(with_cache(&cache));
    let token = token("alice", &[]);
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200);

    // Same header and claims, a signature changed in the middle; and the token cut short.
    let mid = token.len() - 20;
    let flipped = if token.as_bytes()[mid] == b'A' {
        "B"
    } else {
        "A"
    };
    let forged = format!("{}{flipped}{}", &token[..mid], &token[mid + 1..]);
    let reply = call(&app, get("/me").insert_header(bearer(&forged))).await;
    reply.assert_invalid_token("signature", &forged);
    // Two characters off: 41 base64 characters can never decode (one off leaves 42, which
    // decodes to a short MAC whenever the dropped character's low bits were zero, and the
    // answer then says "signature" one run in sixteen).
    let truncated = &token[..token.len() - 2];
    let reply = call(&app, get("/me").insert_header(bearer(truncated))).await;
    reply.assert_invalid_token("malformed", truncated);

    // Another valid token of the same shape is a separate identity.
    let bob = self::token("bob", &[]);
    let reply = call(&app, get("/me").insert_header(bearer(&bob))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "bob"));
    assert_eq!(cache.len(), 2);
}

#[actix_web::test]
async fn a_cache_hit_still_runs_the_route_rule() {
    let cache = TokenCache::new(16);
    let app = app!(with_cache(&cache));
    let token = token("alice", &["user"]);
    assert_eq!(
        call(&app, get("/me").insert_header(bearer(&token)))
            .await
            .status,
        200
    );
    call(&app, get("/admin").insert_header(bearer(&token)))
        .await
        .assert_forbidden();
    assert_eq!(cache.len(), 1);
}

#[actix_web::test]
async fn a_shared_cache_never_serves_one_authenticators_tokens_to_another() {
    let cache = TokenCache::new(16);
    let first = app!(with_cache(&cache));
    // Same key and issuer, another audience: the token must not pass there.
    let second = JwtAuthenticator::builder()
        .key(route_guard::JwtKey::hs256(SECRET).expect("long enough"))
        .issuer(ISSUER)
        .audience("other-api")
        .cache(cache.clone())
        .build()
        .expect("config is valid");
    let second = app!(second);
    let token = token("alice", &[]);
    assert_eq!(
        call(&first, get("/me").insert_header(bearer(&token)))
            .await
            .status,
        200
    );
    // The first authenticator's verification is in the shared cache: the refusal below is
    // the cache keeping it from the second, not an empty cache.
    assert_eq!(cache.len(), 1);
    call(&second, get("/me").insert_header(bearer(&token)))
        .await
        .assert_invalid_token("audience", &token);
    // And the second's refusal took nothing from the first.
    let reply = call(&first, get("/me").insert_header(bearer(&token))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "alice"));
}

#[actix_web::test]
async fn no_cache_switches_it_off() {
    let cache = TokenCache::new(16);
    let jwt = jwt_builder().cache(cache.clone()).no_cache().build();
    let app = app!(jwt.expect("config is valid"));
    for sub in ["alice", "alice", "bob"] {
        let reply = call(&app, get("/me").insert_header(bearer(&token(sub, &[])))).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, sub));
    }
    assert!(cache.is_empty());
}

#[actix_web::test]
async fn the_cache_stays_within_its_entry_count() {
    let cache = TokenCache::new(8);
    let app = app!(with_cache(&cache));
    for i in 0..100 {
        let sub = format!("user-{i}");
        let reply = call(&app, get("/me").insert_header(bearer(&token(&sub, &[])))).await;
        assert_eq!((reply.status, reply.body), (200, sub));
        assert!(cache.len() <= 8, "{} entries", cache.len());
    }
    // Bounded, not empty: an empty cache would pass the bound above.
    assert!(cache.len() >= 4, "{} entries", cache.len());
}

#[actix_web::test]
async fn the_cache_stays_within_its_memory_budget() {
    let roles: Vec<String> = (0..40).map(|i| format!("role-number-{i:04}")).collect();
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let budget = 16 * 1024;
    let cache = TokenCache::with_limits(1000, budget);
    let app = app!(with_cache(&cache));
    let mut token_len = 0;
    for i in 0..50 {
        let token = token(&format!("user-{i}"), &roles);
        token_len = token.len();
        let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
        assert_eq!(reply.status, 200);
    }
    // Each entry holds at least its token; the weight estimate is larger still.
    assert!(token_len > 900, "{token_len}");
    assert!(
        cache.len() * token_len <= budget as usize,
        "{}",
        cache.len()
    );
    // Within the budget, not empty: an empty cache would pass the bound above.
    assert!(!cache.is_empty());

    // A token larger than the whole budget is verified, answered, and not kept; a small one
    // is kept in the same cache, so the large one was refused for its size.
    let tiny = TokenCache::with_limits(10, 2048);
    let app = app!(with_cache(&tiny));
    let token = token("alice", &roles);
    let reply = call(&app, get("/me").insert_header(bearer(&token))).await;
    assert_eq!(reply.status, 200);
    assert!(tiny.is_empty());
    let small = self::token("bob", &[]);
    let reply = call(&app, get("/me").insert_header(bearer(&small))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "bob"));
    assert_eq!(tiny.len(), 1);
}

#[actix_web::test]
async fn a_cache_without_room_is_refused_at_start_up() {
    let error = jwt_builder().cache(TokenCache::new(0)).build().unwrap_err();
    assert!(error.to_string().contains("no_cache"), "{error}");
}
