fn main() {
    let scopes: &[&str] = route_guard::declared_scopes!();
    let with_arguments: &[&str] = route_guard::declared_scopes!(read);
    let _ = (scopes, with_arguments);
}
