//! `#[require_auth]` declares no marker type (every use shares one policy), so unlike the other
//! guard attributes it also guards an associated function inside an `impl` block.
#![deny(warnings)]

use actix_web::{App, web};
use route_guard::{Authenticated, require_auth};

struct Api;

impl Api {
    #[require_auth]
    async fn me(user: Authenticated) -> String {
        user.subject().to_owned()
    }
}

fn main() {
    let _app = App::new().route("/me", web::get().to(Api::me));
}
