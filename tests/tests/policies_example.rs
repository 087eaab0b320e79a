//! The policies example answers as its printed lines say.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/policies.rs"]
mod example;

mod common;

use actix_web::App;
use actix_web::test::{TestRequest, init_service};
use common::call;

#[actix_web::test]
async fn typed_roles_hierarchy_ownership_and_scopes() {
    let guard = example::guard().unwrap();
    let app = init_service(
        App::new()
            .app_data(guard)
            .app_data(example::documents())
            .configure(example::routes),
    )
    .await;
    let cases = [
        (
            TestRequest::get(),
            example::mint("ada", &["admin"], ""),
            "/documents",
            200,
        ),
        (
            TestRequest::get(),
            example::mint("vic", &["viewer"], ""),
            "/documents",
            200,
        ),
        (
            TestRequest::get(),
            example::mint("nobody", &[], ""),
            "/documents",
            403,
        ),
        (
            TestRequest::put(),
            example::mint("olga", &[], ""),
            "/documents/1",
            200,
        ),
        (
            TestRequest::put(),
            example::mint("olga", &[], ""),
            "/documents/2",
            403,
        ),
        (
            TestRequest::put(),
            example::mint("ed", &["editor"], ""),
            "/documents/2",
            200,
        ),
        (
            TestRequest::put(),
            example::mint("ada", &["admin"], ""),
            "/documents/2",
            200,
        ),
        (
            TestRequest::get(),
            example::mint("ada", &["admin"], "openid"),
            "/exports",
            403,
        ),
        (
            TestRequest::get(),
            example::mint("bot", &[], "export:read"),
            "/exports",
            200,
        ),
    ];
    for (req, token, path, status) in cases {
        let req = req
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")));
        let reply = call(&app, req).await;
        assert_eq!(reply.status, status, "{path}: {reply:?}");
        if path == "/exports" && status == 403 {
            let challenge = reply.challenge.unwrap_or_default();
            assert!(
                challenge.contains(r#"error="insufficient_scope""#)
                    && challenge.contains(r#"scope="export:read""#)
            );
        }
    }
}
