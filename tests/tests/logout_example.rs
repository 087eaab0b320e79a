//! The `logout` example: a token logged out on one instance is refused on the other (through
//! a real Redis server), and "log out everywhere" refuses every older token of the subject.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/logout.rs"]
mod logout;

mod common;

use std::time::{Duration, Instant};

use actix_web::App;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::redis_server::RedisServer;
use common::{bearer, call};
use logout::{DEV_SECRET, guard, mint, routes};
use route_guard::RouteGuard;
use route_guard::store::{MemoryStore, RedisStore};

const REVOKED: &str = r#"Bearer realm="logout", error="invalid_token", error_description="The access token was revoked""#;

async fn app(
    guard: &RouteGuard,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    init_service(App::new().app_data(guard.clone()).configure(routes)).await
}

async fn redis_instance(server: &RedisServer) -> RouteGuard {
    let store = RedisStore::builder(server.url())
        .prefix("logout-example:")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    guard(DEV_SECRET, store).unwrap_or_else(|e| panic!("{e}"))
}

fn me(token: &str) -> TestRequest {
    TestRequest::get().uri("/me").insert_header(bearer(token))
}

fn post(path: &str, token: &str) -> TestRequest {
    TestRequest::post().uri(path).insert_header(bearer(token))
}

/// `/me` on `app` with `token` until it answers `status`, within ten seconds.
async fn until<S>(app: &S, token: &str, status: u16) -> common::Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = call(app, me(token)).await;
        if reply.status == status {
            return reply;
        }
        assert!(Instant::now() < deadline, "wanted {status}: {reply:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn logout_on_one_instance_is_refused_on_the_other() {
    let server = RedisServer::start();
    let (a, b) = (redis_instance(&server).await, redis_instance(&server).await);
    let (app_a, app_b) = (app(&a).await, app(&b).await);
    let token = mint(DEV_SECRET, "ada", "session-1");
    let other = mint(DEV_SECRET, "ada", "session-2");
    until(&app_a, &token, 200).await.assert_ok("hello, ada\n");
    until(&app_b, &token, 200).await;
    let reply = call(&app_a, post("/logout", &token)).await;
    assert_eq!(reply.status, 204, "{reply:?}");
    let refused = until(&app_b, &token, 401).await;
    assert_eq!(refused.challenge.as_deref(), Some(REVOKED), "{refused:?}");
    // Logging out twice: the token is refused before the handler runs.
    assert_eq!(call(&app_b, post("/logout", &token)).await.status, 401);
    call(&app_b, me(&other)).await.assert_ok("hello, ada\n");
}

#[actix_web::test]
async fn logout_everywhere_refuses_every_older_token_of_the_subject() {
    let server = RedisServer::start();
    let (a, b) = (redis_instance(&server).await, redis_instance(&server).await);
    let (app_a, app_b) = (app(&a).await, app(&b).await);
    let token = mint(DEV_SECRET, "ada", "phone");
    let laptop = mint(DEV_SECRET, "ada", "laptop");
    let grace = mint(DEV_SECRET, "grace", "desk");
    until(&app_a, &token, 200).await;
    until(&app_b, &laptop, 200).await;
    // The cut-off is "now": a token minted in this very second would pass; wait for the next.
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    let reply = call(&app_a, post("/logout-everywhere", &token)).await;
    assert_eq!(reply.status, 204, "{reply:?}");
    let refused = until(&app_b, &laptop, 401).await;
    assert_eq!(refused.challenge.as_deref(), Some(REVOKED));
    call(&app_b, me(&grace)).await.assert_ok("hello, grace\n");
}

#[actix_web::test]
async fn in_memory_the_logout_holds_on_the_one_instance() {
    let single = guard(DEV_SECRET, MemoryStore::new()).unwrap_or_else(|e| panic!("{e}"));
    let app = app(&single).await;
    let token = mint(DEV_SECRET, "ada", "only");
    call(&app, me(&token)).await.assert_ok("hello, ada\n");
    assert_eq!(call(&app, post("/logout", &token)).await.status, 204);
    let refused = call(&app, me(&token)).await;
    assert_eq!(refused.challenge.as_deref(), Some(REVOKED), "{refused:?}");
}
