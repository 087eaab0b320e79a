//! The quickstart's printed `curl` lines get exactly the statuses they announce, with the
//! challenge headers the wire contract requires.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/quickstart.rs"]
mod quickstart;

mod common;

use actix_web::App;
use actix_web::test::{TestRequest, init_service};
use common::call;

#[actix_web::test]
async fn every_printed_curl_line_gets_the_status_it_announces() {
    let guard = quickstart::guard(quickstart::DEV_SECRET).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(quickstart::routes)).await;
    let examples = quickstart::examples(quickstart::DEV_SECRET);
    assert_eq!(examples.iter().filter(|e| e.status == 401).count(), 3);
    for example in examples {
        let line = example.curl("http://127.0.0.1:8080");
        let mut req = TestRequest::get().uri(example.path);
        if let Some(value) = &example.authorization {
            assert!(
                line.contains(&format!("-H 'Authorization: {value}'")),
                "{line}"
            );
            req = req.insert_header(("authorization", value.as_str()));
        }
        let reply = call(&app, req).await;
        assert_eq!(
            reply.status, example.status,
            "{}: {line}\n{reply:?}",
            example.what
        );
        match reply.status {
            401 => {
                let challenge = reply.challenge.as_deref().unwrap_or("");
                assert!(
                    challenge.starts_with(r#"Bearer realm="quickstart""#),
                    "{reply:?}"
                );
                let expects_error = example.what.contains("expired");
                assert_eq!(
                    challenge.contains(r#"error="invalid_token""#),
                    expects_error,
                    "{reply:?}"
                );
            }
            403 => assert_eq!(reply.challenge, None),
            _ => {}
        }
    }
}

#[actix_web::test]
async fn me_shows_the_subject_and_roles() {
    let guard = quickstart::guard(quickstart::DEV_SECRET).unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(App::new().app_data(guard).configure(quickstart::routes)).await;
    let token = quickstart::mint(quickstart::DEV_SECRET, "ursula", &["user", "beta"], 60);
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
