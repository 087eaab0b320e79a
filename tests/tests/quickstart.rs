//! The quickstart's printed `curl` lines get exactly the statuses they announce, with the
//! challenge headers the wire contract requires.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/quickstart.rs"]
mod quickstart;

mod common;

use actix_web::App;
use actix_web::http::header;
use actix_web::test::{self, TestRequest, init_service};
use common::call;
use quickstart::{Example, Group};

/// What a client sees: status, every `WWW-Authenticate` line, body.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: u16,
    challenges: Vec<String>,
    body: String,
}

const BEARER: &str = r#"Bearer realm="quickstart""#;
const BASIC: &str = r#"Basic realm="quickstart", charset="UTF-8""#;

/// Sends `example` as curl on 127.0.0.1 would: from the loopback, with its headers.
async fn send<S, B>(app: &S, example: &Example) -> Seen
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let line = example.curl("http://127.0.0.1:8080");
    let mut req = TestRequest::get()
        .uri(example.path)
        .peer_addr("127.0.0.1:50000".parse().unwrap_or_else(|e| panic!("{e}")));
    for (name, value) in &example.headers {
        assert!(line.contains(&format!("-H '{name}: {value}'")), "{line}");
        req = req.insert_header((*name, value.as_str()));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status().as_u16();
    let challenges = res
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .collect();
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    Seen {
        status,
        challenges,
        body,
    }
}

#[actix_web::test]
async fn every_printed_curl_line_gets_the_status_and_challenge_it_announces() {
    let guard = quickstart::guard(quickstart::DEV_SECRET).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(quickstart::routes)).await;
    let examples = quickstart::examples(quickstart::DEV_SECRET);
    let count = |group| examples.iter().filter(|e| e.group() == group).count();
    assert_eq!(
        (
            count(Group::Welcome),
            count(Group::WhoAreYou),
            count(Group::KnownAndNo)
        ),
        (9, 6, 5)
    );
    let mut basic_refusals = Vec::new();
    for example in &examples {
        let seen = send(&app, example).await;
        let what = example.what;
        assert_eq!(seen.status, example.status, "{what}: {seen:?}");
        let challenges: Vec<&str> = seen.challenges.iter().map(String::as_str).collect();
        match seen.status {
            200 => assert!(challenges.is_empty(), "{what}: {seen:?}"),
            401 if what.contains("expired") || what.contains("bad token") => {
                let [bearer, basic] = challenges[..] else {
                    panic!("{what}: {seen:?}")
                };
                assert!(
                    bearer.starts_with(r#"Bearer realm="quickstart", error="invalid_token""#),
                    "{what}: {seen:?}"
                );
                assert_eq!(basic, BASIC, "{what}");
            }
            401 if what.starts_with("Basic") => {
                assert_eq!(challenges, [BEARER, BASIC], "{what}");
                basic_refusals.push(seen);
            }
            401 => assert_eq!(challenges, [BEARER, BASIC], "{what}: {seen:?}"),
            403 if what.contains("insufficient_scope") => assert_eq!(
                challenges,
                [
                    r#"Bearer realm="quickstart", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:items""#
                ],
                "{what}"
            ),
            403 => assert!(challenges.is_empty(), "{what}: {seen:?}"),
            other => panic!("{what}: unexpected {other}"),
        }
    }
    // A wrong password and an unknown user look exactly alike.
    let [wrong_password, unknown_user] = &basic_refusals[..] else {
        panic!("{basic_refusals:?}")
    };
    assert_eq!(wrong_password, unknown_user);
}

#[actix_web::test]
async fn me_shows_the_subject_and_roles() {
    let guard = quickstart::guard(quickstart::DEV_SECRET).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(quickstart::routes)).await;
    let token = quickstart::mint(quickstart::DEV_SECRET, "ursula", &["user", "beta"], "", 60);
    let reply = call(
        &app,
        TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"sub": "ursula", "roles": ["beta", "user"]})
    );
}

#[test]
fn a_short_secret_is_refused_with_a_clear_message() {
    let error = quickstart::guard("too short")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("at least 32 bytes"), "{error}");
}
