//! The `Authorization` field parser (RFC 6750 §2.1, RFC 9110 §11.6.2) on arbitrary bytes: it
//! never panics, and a token it accepts is a `b64token` within the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use route_guard::__fuzz::parse_authorization;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the cap, so the length check is fuzzed too.
    let Some((&cap, value)) = data.split_first() else {
        return;
    };
    let max_len = usize::from(cap) * 64 + 1;
    if let Ok(token) = parse_authorization(value, max_len) {
        assert!(
            token.len() <= max_len,
            "{token:?} is over the cap {max_len}"
        );
        let body = token.trim_end_matches('=');
        assert!(!body.is_empty(), "{value:?} gave {token:?}");
        assert!(
            body.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
            "{value:?} gave {token:?}, not a b64token"
        );
    }
});
