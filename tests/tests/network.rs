//! Rules beyond credentials: address ranges behind trusted proxies, decided before (and
//! without) authentication, and forged forwarding headers that change nothing.

mod common;

use actix_web::test::{TestRequest, init_service};
use actix_web::{App, get};
use common::*;
use route_guard::{RouteGuard, deny_ip, require, require_ip, require_role};

#[get("/internal")]
#[require_ip("10.0.0.0/8", "2001:db8::/32")]
async fn internal() -> &'static str {
    "internal"
}

#[get("/open")]
#[deny_ip("198.51.100.0/24")]
async fn open() -> &'static str {
    "open"
}

#[get("/ops")]
#[require(any(role("admin"), ip("10.0.0.0/8")))]
async fn ops() -> &'static str {
    "ops"
}

#[get("/vault")]
#[require_role("admin")]
#[require_ip("10.0.0.0/8")]
async fn vault() -> &'static str {
    "vault"
}

/// The same two guards as `/vault`, written the other way round.
#[get("/safe")]
#[require_ip("10.0.0.0/8")]
#[require_role("admin")]
async fn safe() -> &'static str {
    "safe"
}

#[get("/hidden")]
#[require_ip("10.0.0.0/8", hide)]
async fn hidden() -> &'static str {
    "hidden"
}

fn from(peer: &str, path: &str) -> TestRequest {
    from_peer(peer, path)
}

/// The test guard behind proxies in 192.168.0.0/16.
fn proxies() -> RouteGuard {
    proxied_guard(&["192.168.0.0/16"])
}

macro_rules! app {
    ($guard:expr) => {
        init_service(
            App::new()
                .app_data($guard)
                .service(internal)
                .service(open)
                .service(ops)
                .service(vault)
                .service(safe)
                .service(hidden),
        )
        .await
    };
}

#[actix_web::test]
async fn address_rules_ignore_credentials_entirely() {
    let app = app!(guard());
    let reply = call(&app, from("10.1.2.3:4000", "/internal")).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "internal"),
        "no credentials needed"
    );
    let reply = call(&app, from("[2001:db8::5]:4000", "/internal")).await;
    assert_eq!(reply.status, 200);

    // Outside the range: 403 whatever the credentials, valid, invalid or absent; no challenge.
    let admin = token("root", &["admin"]);
    for authorization in [
        Some(format!("Bearer {admin}")),
        Some("Bearer garbage".to_owned()),
        None,
    ] {
        let mut req = from("203.0.113.5:4000", "/internal");
        if let Some(value) = &authorization {
            req = req.insert_header(("authorization", value.as_str()));
        }
        call(&app, req).await.assert_forbidden();
    }
}

#[actix_web::test]
async fn deny_lists_refuse_their_ranges_and_ipv4_mapped_addresses_count_as_ipv4() {
    let app = app!(guard());
    call(&app, from("198.51.100.9:1", "/open"))
        .await
        .assert_forbidden();
    call(&app, from("[::ffff:198.51.100.9]:1", "/open"))
        .await
        .assert_forbidden();
    assert_eq!(call(&app, from("203.0.113.5:1", "/open")).await.status, 200);
    assert_eq!(
        call(&app, from("[::ffff:10.0.0.1]:1", "/internal"))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn forged_forwarding_headers_from_untrusted_peers_change_nothing() {
    for guard in [guard(), proxies()] {
        let app = app!(guard);
        let forged = [
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.1, 10.0.0.2"),
            ("forwarded", "for=10.0.0.1"),
            ("x-real-ip", "10.0.0.1"),
        ];
        for (name, value) in forged {
            let reply = call(
                &app,
                from("203.0.113.5:1", "/internal").insert_header((name, value)),
            )
            .await;
            reply.assert_forbidden();
            let reply = call(
                &app,
                from("198.51.100.9:1", "/open").insert_header((name, value)),
            )
            .await;
            reply.assert_forbidden();
        }
    }
}

#[actix_web::test]
async fn trusted_proxies_are_walked_right_to_left() {
    let app = app!(proxies());
    // The client put 10.0.0.1 first; the proxy appended the real client.
    let req = from("192.168.1.1:1", "/internal")
        .insert_header(("x-forwarded-for", "10.0.0.1, 203.0.113.5"));
    call(&app, req).await.assert_forbidden();
    let req = from("192.168.1.1:1", "/internal")
        .insert_header(("x-forwarded-for", "203.0.113.5, 10.9.9.9, 192.168.7.7"));
    assert_eq!(
        call(&app, req).await.status,
        200,
        "10.9.9.9 is the first untrusted hop"
    );
    let req = from("192.168.1.1:1", "/internal")
        .insert_header(("forwarded", r#"for="[2001:db8::1]:443""#));
    assert_eq!(call(&app, req).await.status, 200);
    let req = from("192.168.1.1:1", "/open").insert_header(("x-forwarded-for", "198.51.100.20"));
    call(&app, req).await.assert_forbidden();
}

#[actix_web::test]
async fn an_address_that_does_not_parse_is_denied_on_allow_and_deny_lists() {
    let app = app!(proxies());
    for value in ["not-an-ip", "10.0.0.1, garbage", "", "unknown"] {
        for path in ["/internal", "/open"] {
            let req = from("192.168.1.1:1", path).insert_header(("x-forwarded-for", value));
            let reply = call(&app, req).await;
            reply.assert_forbidden();
        }
    }
    // No peer address at all (as behind some test harnesses): denied too.
    call(&app, get("/internal")).await.assert_forbidden();
}

#[actix_web::test]
async fn an_address_alternative_admits_without_credentials_and_asks_for_them_outside() {
    let app = app!(guard());
    let reply = call(&app, from("10.0.0.7:1", "/ops")).await;
    assert_eq!(reply.status, 200, "inside: no credentials needed");
    reply.assert_ok("ops");
    call(&app, from("203.0.113.5:1", "/ops"))
        .await
        .assert_bare_401("");
    let admin = from("203.0.113.5:1", "/ops").insert_header(bearer(&token("root", &["admin"])));
    call(&app, admin).await.assert_ok("ops");
    let user = from("203.0.113.5:1", "/ops").insert_header(bearer(&token("bob", &["user"])));
    call(&app, user).await.assert_forbidden();
}

#[actix_web::test]
async fn stacked_role_and_address_rules_need_both() {
    let app = app!(guard());
    let inside_admin =
        from("10.0.0.7:1", "/vault").insert_header(bearer(&token("root", &["admin"])));
    call(&app, inside_admin).await.assert_ok("vault");
    let outside_admin =
        from("203.0.113.5:1", "/vault").insert_header(bearer(&token("root", &["admin"])));
    call(&app, outside_admin).await.assert_forbidden();
    call(&app, from("10.0.0.7:1", "/vault"))
        .await
        .assert_bare_401("");
}

#[actix_web::test]
async fn hide_answers_404_instead_of_403() {
    let app = app!(guard());
    call(&app, from("203.0.113.5:1", "/hidden"))
        .await
        .assert_hidden();
    // Valid credentials from outside the range change nothing.
    let admin = from("203.0.113.5:1", "/hidden").insert_header(bearer(&token("root", &["admin"])));
    call(&app, admin).await.assert_hidden();
    call(&app, from("10.0.0.1:1", "/hidden"))
        .await
        .assert_ok("hidden");
}

#[actix_web::test]
async fn outside_the_range_no_credentials_are_read_whatever_the_order_of_the_attributes() {
    // A JWKS nobody can reach: a guard that read credentials would answer 503, not 403.
    let jwt = route_guard::JwtAuthenticator::builder()
        .jwks(route_guard::Jwks::url("http://127.0.0.1:9/jwks"))
        .build()
        .unwrap();
    let unreachable = RouteGuard::builder(jwt).realm(REALM).build().unwrap();
    for guard in [guard(), unreachable] {
        let app = app!(guard);
        for path in ["/vault", "/safe"] {
            call(&app, from("203.0.113.5:1", path))
                .await
                .assert_forbidden();
            let token = token("root", &["admin"]);
            let outside = from("203.0.113.5:1", path).insert_header(bearer(&token));
            call(&app, outside).await.assert_forbidden();
            let garbage = from("203.0.113.5:1", path).insert_header(bearer("not.a.token"));
            call(&app, garbage).await.assert_forbidden();
        }
    }
}

#[actix_web::test]
async fn inside_the_range_credentials_are_still_required_whatever_the_order() {
    let app = app!(guard());
    for path in ["/vault", "/safe"] {
        call(&app, from("10.0.0.7:1", path))
            .await
            .assert_bare_401("");
        let inside_admin =
            from("10.0.0.7:1", path).insert_header(bearer(&token("root", &["admin"])));
        call(&app, inside_admin).await.assert_ok(&path[1..]);
    }
}

#[actix_web::test]
async fn without_a_route_guard_even_address_rules_answer_500() {
    let app = init_service(App::new().service(internal).service(open).service(hidden)).await;
    for (peer, path) in [
        ("10.1.2.3:1", "/internal"),
        ("127.0.0.1:1", "/open"),
        ("10.0.0.1:1", "/hidden"),
    ] {
        let reply = call(&app, from(peer, path)).await;
        reply.assert_problem(500, "");
        assert_eq!(reply.challenge, None);
    }
}

#[actix_web::test]
async fn a_guard_registered_as_web_data_is_found() {
    let app = init_service(
        App::new()
            .app_data(actix_web::web::Data::new(guard()))
            .service(vault),
    )
    .await;
    let admin = from("10.0.0.7:1", "/vault").insert_header(bearer(&token("root", &["admin"])));
    let reply = call(&app, admin).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "vault"));
    call(&app, from("10.0.0.7:1", "/vault"))
        .await
        .assert_bare_401("");
}

#[actix_web::test]
async fn a_renderer_tells_an_address_refusal_from_a_missing_role() {
    use route_guard::{Cause, Refusal};
    let guard = RouteGuard::builder(jwt_builder().build().unwrap())
        .realm(REALM)
        .render_errors(|refusal: &Refusal<'_>| {
            let page = match refusal.cause() {
                Cause::Address => "not from your network",
                Cause::Rule => "not with your rights",
                Cause::Credentials => "who are you?",
                _ => "sorry",
            };
            Some(actix_web::HttpResponse::Ok().body(page))
        })
        .build()
        .unwrap();
    let app = app!(guard);
    let user = |peer| from(peer, "/vault").insert_header(bearer(&token("bob", &["user"])));
    let reply = call(&app, user("203.0.113.5:1")).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, "not from your network")
    );
    assert_eq!(reply.challenge, None, "{reply:?}");
    let reply = call(&app, user("10.0.0.7:1")).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, "not with your rights")
    );
    assert_eq!(reply.challenge, None, "{reply:?}");
    let reply = call(&app, from("10.0.0.7:1", "/vault")).await;
    assert_eq!((reply.status, reply.body.as_str()), (401, "who are you?"));
    assert_eq!(
        reply.challenge.as_deref(),
        Some(r#"Bearer realm="test""#),
        "a page keeps the challenge: {reply:?}"
    );
}
