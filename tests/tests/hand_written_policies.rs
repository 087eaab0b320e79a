//! A policy written by hand (`impl Policy` with a `Rule`) and taken as `Guarded<P>` guards like
//! an attribute: 401, 403 and 200 as the rule says.

mod common;

use actix_web::test::init_service;
use actix_web::{App, web};
use common::*;
use route_guard::{Guarded, Identity, Policy, Rule};

struct Auditors;

impl Policy for Auditors {
    const RULE: Rule = Rule::Any(&[Rule::Role("auditor"), Rule::Role("admin")]);
}

async fn audit(proof: Guarded<Auditors>) -> String {
    let who = proof.identity().map_or("nobody", Identity::subject);
    format!("audited by {who}")
}

#[actix_web::test]
async fn a_hand_written_policy_guards_like_an_attribute() {
    let app = init_service(
        App::new()
            .app_data(guard())
            .route("/audit", web::get().to(audit)),
    )
    .await;
    call(
        &app,
        get("/audit").insert_header(bearer(&token("ann", &["auditor"]))),
    )
    .await
    .assert_ok("audited by ann");
    call(
        &app,
        get("/audit").insert_header(bearer(&token("bob", &["user"]))),
    )
    .await
    .assert_forbidden();
    call(&app, get("/audit")).await.assert_bare_401("");
}
