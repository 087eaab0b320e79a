//! Handlers deep in a module tree, with `pub`, `pub(super)` and `pub(in path)` visibility:
//! the generated paths are absolute, whether the rule is spelled as a type or kept on a marker.
#![deny(warnings)]

use actix_web::{App, web};

mod api {
    pub mod admin {
        use actix_web::get;
        use route_guard::{require_auth, require_role};

        #[get("/admin/users")]
        #[require_role("admin")]
        pub async fn users() -> &'static str {
            "users"
        }

        #[require_auth]
        #[get("/admin/me")]
        pub(super) async fn me() -> &'static str {
            "me"
        }

        #[route_guard::require_role(any("admin", "auditor"))]
        pub(in crate::api) async fn audit() -> &'static str {
            "audit"
        }

        pub(in crate::api) fn routes(config: &mut actix_web::web::ServiceConfig) {
            config
                .service(users)
                .service(me)
                .route("/admin/audit", actix_web::web::get().to(audit));
        }
    }

    pub fn configure(config: &mut actix_web::web::ServiceConfig) {
        config.service(admin::me);
        admin::routes(config);
    }
}

fn main() {
    let _app = App::new()
        .service(api::admin::users)
        .configure(api::configure)
        .service(web::scope("/v1").configure(api::configure));
}
