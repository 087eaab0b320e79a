//! The metrics an operator scrapes: a known mix of requests against the observability example
//! leaves exactly these counts on its `/metrics` page, in Prometheus' text format, through the
//! real `metrics-exporter-prometheus` recorder. One recorder per process, so one test here.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../examples/observability.rs"]
mod example;

mod common;
mod fake_idp;

use std::collections::BTreeMap;

use actix_web::App;
use actix_web::http::header;
use actix_web::test::init_service;
use actix_web::web;
use common::{call, from_peer};
use fake_idp::{Mode, Provider, serve};
use metrics_exporter_prometheus::PrometheusBuilder;
use route_guard::{Jwks, JwtAuthenticator};

const LOCAL: &str = "127.0.0.1:40000";

/// The value of the sample `name{labels}` on a Prometheus text page, its labels compared as a
/// set; `None` if the page has no such sample.
fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (found, labels) = match series.split_once('{') {
                Some((found, rest)) => (found, parse_labels(rest.strip_suffix('}')?)?),
                None => (series, BTreeMap::new()),
            };
            (found == name && labels == wanted).then(|| value.parse().ok())?
        })
}

/// `key="value",...` as the exposition format writes labels: values may hold commas, and
/// `\\`, `\"` and `\n` are escapes.
fn parse_labels(mut rest: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => value.push(match chars.next()?.1 {
                    'n' => '\n',
                    escaped => escaped,
                }),
                (at, '"') => break at,
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.to_owned(), value);
        let after_value = after.get(end + 1..)?;
        rest = after_value.strip_prefix(',').unwrap_or(after_value);
    }
    Some(labels)
}

fn attempts(page: &str, policy: &str, result: &str, reason: &str, error: &str) -> Option<f64> {
    let labels = [
        ("policy", policy),
        ("result", result),
        ("reason", reason),
        ("error", error),
    ];
    sample(page, "route_guard_authorization_attempts", &labels)
}

#[actix_web::test]
async fn a_known_mix_of_requests_leaves_exactly_these_counts() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .unwrap_or_else(|e| panic!("{e}"));
    let audit = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let lines = audit.clone();
    let guard = example::guard(move |decision: &route_guard::observe::Decision<'_>| {
        let line = example::audit_line(decision);
        lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let app = init_service(
        App::new()
            .app_data(guard)
            .app_data(web::Data::new(handle.clone()))
            .configure(example::routes),
    )
    .await;
    let alice = example::mint("alice", &[], 600);
    let expired = example::mint("alice", &[], -600);
    let bearer = |token: &str| (header::AUTHORIZATION, format!("Bearer {token}"));

    for _ in 0..2 {
        let me = from_peer(LOCAL, "/me").insert_header(bearer(&alice));
        assert_eq!(call(&app, me).await.status, 200);
    }
    let stale = from_peer(LOCAL, "/me").insert_header(bearer(&expired));
    assert_eq!(call(&app, stale).await.status, 401);
    assert_eq!(call(&app, from_peer(LOCAL, "/me")).await.status, 401);
    let not_admin = from_peer(LOCAL, "/admin").insert_header(bearer(&alice));
    assert_eq!(call(&app, not_admin).await.status, 403);
    let twice = from_peer(LOCAL, "/me")
        .append_header(bearer(&alice))
        .append_header(bearer(&alice));
    assert_eq!(call(&app, twice).await.status, 400);
    let outsider = from_peer("192.0.2.7:40000", "/metrics");
    assert_eq!(call(&app, outsider).await.status, 403);
    let scrape = call(&app, from_peer(LOCAL, "/metrics")).await;
    assert_eq!(scrape.status, 200);
    let page = scrape.body;

    // `#[require_auth]` is one policy wherever it is written, as ASP.NET Core's default policy
    // is; the other attributes name theirs after their rule, shared by every handler with it.
    let (me, admin, metrics) = (
        "route_guard::require_auth",
        "role(admin)",
        "ip(127.0.0.1/32, ::1/128)",
    );
    let expected = [
        (me, "granted", "none", "none", 2.0),
        (me, "unauthenticated", "expired", "invalid_token", 1.0),
        (me, "unauthenticated", "missing_credentials", "none", 1.0),
        (
            me,
            "bad_request",
            "duplicate_authorization",
            "invalid_request",
            1.0,
        ),
        (admin, "forbidden", "rule", "none", 1.0),
        (metrics, "forbidden", "address_rule", "none", 1.0),
        // The scrape itself was admitted before the page was rendered.
        (metrics, "granted", "none", "none", 1.0),
    ];
    for (policy, result, reason, error, count) in expected {
        assert_eq!(
            attempts(&page, policy, result, reason, error),
            Some(count),
            "{policy} {result} {reason} {error} in:\n{page}"
        );
    }
    let series = page
        .lines()
        .filter(|line| line.starts_with("route_guard_authorization_attempts"))
        .count();
    assert_eq!(series, expected.len(), "no other series:\n{page}");

    // Authentications timed: alice's first (her next two came from the verified-token cache,
    // counted below and not timed), the expired token and the doubled header refused, the bare
    // request without credentials. The scrapes needed none.
    let authentications = |scheme, result| {
        let labels = [("scheme", scheme), ("result", result)];
        sample(&page, "route_guard_authentication_duration_count", &labels)
    };
    assert_eq!(authentications("bearer", "success"), Some(1.0), "{page}");
    assert_eq!(authentications("bearer", "failure"), Some(2.0), "{page}");
    assert_eq!(authentications("none", "none"), Some(1.0), "{page}");
    // Alice's token is verified once and then served from the cache; the expired one misses.
    let lookups = |result| {
        sample(
            &page,
            "route_guard_token_cache_lookups",
            &[("result", result)],
        )
    };
    assert_eq!(lookups("miss"), Some(2.0), "{page}");
    assert_eq!(lookups("hit"), Some(2.0), "{page}");
    // Nothing a client sent became a label.
    assert!(!page.contains("alice") && !page.contains(&alice), "{page}");
    assert!(
        page.contains("# HELP route_guard_authorization_attempts"),
        "{page}"
    );

    // The example's audit log: one line per refusal, none for the grants.
    let audit = audit.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(audit.len(), 5, "{audit:#?}");
    let refused = &audit[2];
    let (head, tail) = refused.split_once(" subject=").unwrap_or_default();
    assert_eq!(
        head,
        "outcome=forbidden status=403 reason=rule policy=role(admin) scheme=bearer \
         client=127.0.0.1"
    );
    let (subject, request) = tail.split_once(' ').unwrap_or_default();
    assert_eq!((subject.len(), request), (16, "method=GET path=/admin"));
    assert!(audit[1].starts_with("outcome=unauthenticated status=401 reason=missing_credentials"));
    assert!(
        audit[1].contains(" scheme=- client=127.0.0.1 subject=- "),
        "{}",
        audit[1]
    );
    assert!(
        audit.iter().all(|line| !line.contains("alice")),
        "{audit:#?}"
    );

    jwks_fetches_are_counted_by_outcome(&handle).await;
}

/// Each JWKS refresh counts once, under what became of it.
async fn jwks_fetches_are_counted_by_outcome(
    handle: &metrics_exporter_prometheus::PrometheusHandle,
) {
    let provider = web::Data::new(Provider::default());
    let (addr, server) = serve(&provider);
    let load = |url: String| async move {
        let jwt = JwtAuthenticator::builder()
            .jwks(Jwks::url(url).timeout(std::time::Duration::from_secs(2)))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        jwt.load_keys().await
    };
    provider.set(Mode::Keys, &["k1"]);
    assert!(load(format!("http://{addr}/jwks")).await.is_ok());
    provider.set(Mode::Status500, &["k1"]);
    assert!(load(format!("http://{addr}/jwks")).await.is_err());
    provider.set(Mode::Garbage, &["k1"]);
    assert!(load(format!("http://{addr}/jwks")).await.is_err());
    server.stop(true).await;
    // Nothing listens there any more.
    assert!(load(format!("http://{addr}/jwks")).await.is_err());

    let page = handle.render();
    for outcome in ["success", "status", "invalid", "connect"] {
        let labels = [("outcome", outcome)];
        assert_eq!(
            sample(&page, "route_guard_jwks_fetches", &labels),
            Some(1.0),
            "{outcome} in:\n{page}"
        );
        assert_eq!(
            sample(&page, "route_guard_jwks_fetch_duration_count", &labels),
            Some(1.0),
            "{outcome} in:\n{page}"
        );
    }
}
