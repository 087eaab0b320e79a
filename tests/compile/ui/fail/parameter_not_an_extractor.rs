use route_guard::require_role;

struct Settings;

#[require_role("admin")]
async fn handler(settings: Settings) -> &'static str {
    let Settings = settings;
    "ok"
}

fn main() {
    let _app = actix_web::App::new().route("/", actix_web::web::get().to(handler));
}
