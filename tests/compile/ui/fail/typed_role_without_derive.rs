use route_guard::require_role;

#[derive(Clone, Copy)]
enum Color {
    Red,
}

#[require_role(Color::Red)]
async fn paint() -> &'static str {
    "red"
}

fn main() {}
