//! Guarded handlers written by `macro_rules!`: a body passed as `$body:block` reaches the
//! attribute wrapped in an invisible group, and a whole `$item:item` is guarded as well.
#![deny(warnings)]

use actix_web::{App, web};
use route_guard::{require_auth, require_role};

macro_rules! admin_handler {
    ($vis:vis $name:ident $body:block) => {
        #[require_role("admin")]
        $vis async fn $name() -> String $body
    };
}

macro_rules! authenticated {
    ($item:item) => {
        #[require_auth]
        $item
    };
}

admin_handler!(pub admin { "hello, admin".to_owned() });

authenticated!(
    async fn me() -> &'static str {
        "me"
    }
);

fn main() {
    let _app = App::new()
        .route("/admin", web::get().to(admin))
        .route("/me", web::get().to(me));
}
