//! Claim paths over arbitrary JSON: finding a claim never panics and walks key by key, and
//! reading it as a list of names never panics and yields exactly its strings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use route_guard::__fuzz::string_list;
use route_guard::ClaimPath;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The path, a newline, then the claims.
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (path, json) = data.split_at(split);
    let path = String::from_utf8_lossy(path);
    let Ok(Value::Object(claims)) =
        serde_json::from_slice::<Value>(json.get(1..).unwrap_or_default())
    else {
        return;
    };
    let dotted: Vec<&str> = path.split('.').collect();
    let slashed: Vec<&str> = path.split('/').collect();
    for (claim_path, keys) in [
        (ClaimPath::from(path.as_ref()), dotted),
        (ClaimPath::key(&path), vec![path.as_ref()]),
        (ClaimPath::segments(&slashed), slashed.clone()),
    ] {
        let found = claim_path.find(&claims);
        // The walk the path describes, one object key at a time.
        let (first, rest) = keys.split_first().unwrap_or((&"", &[]));
        let walked = rest.iter().try_fold(claims.get(*first), |value, key| {
            Some(value?.as_object().and_then(|object| object.get(*key)))
        });
        assert_eq!(found, walked.flatten(), "{claim_path:?}");
        match (string_list(found), found) {
            (Some(names), Some(Value::String(text))) => {
                assert_eq!(names, text.split_whitespace().collect::<Vec<_>>());
            }
            (Some(names), Some(Value::Array(items))) => {
                assert_eq!(names.len(), items.len());
                assert!(items.iter().zip(&names).all(|(i, n)| i.as_str() == Some(n)));
            }
            (Some(names), None) => assert!(names.is_empty()),
            (Some(_), Some(other)) => panic!("a list of names from {other}"),
            (None, Some(Value::Array(items))) => assert!(items.iter().any(|i| !i.is_string())),
            (None, Some(Value::String(_)) | None) => panic!("a string or nothing refused"),
            (None, Some(_)) => {}
        }
    }
});
