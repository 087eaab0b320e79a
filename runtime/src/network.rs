//! Who is on the other end of the connection: the client address, read safely behind proxies.
//!
//! By default the client is the socket peer. `Forwarded` (RFC 7239) and `X-Forwarded-For` are
//! written by whoever sends the request, so they are read only when the peer is a trusted
//! proxy, walking right to left past trusted hops: the first untrusted hop is the client.
//! actix-web's `ConnectionInfo::realip_remote_addr` takes the leftmost entry instead, which any
//! client can forge; its own documentation warns against using it for security.

use std::cell::OnceCell;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::{FORWARDED, HeaderName};
use ipnet::IpNet;

use crate::config::ConfigError;
use crate::geo::{CountryCode, CountryResolver};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Box<[IpNet]>);

impl TrustedProxies {
    /// No proxy is trusted: the client is always the socket peer.
    #[must_use]
    pub fn none() -> Self {
        TrustedProxies::default()
    }

    /// Trusts peers in these CIDR ranges, e.g. `["10.0.0.0/8", "::1/128"]`.
    pub fn new<I, S>(ranges: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ranges
            .into_iter()
            .map(|range| {
                let range = range.as_ref();
                range.parse::<IpNet>().map(|net| net.trunc()).map_err(|_| {
                    ConfigError::new(format!(
                        "trusted proxy range {range:?} is not a CIDR such as \"10.0.0.0/8\""
                    ))
                })
            })
            .collect::<Result<Box<[_]>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of `req`, or `None` when it cannot be known (no peer address, or a
    /// forwarding entry that does not parse): rules on addresses then deny.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops = forwarded_hops(req);
        let mut client = peer;
        for hop in hops.iter().rev() {
            let hop = (*hop)?;
            client = hop;
            if !self.trusts(hop) {
                return Some(hop);
            }
        }
        // Every hop is trusted: the leftmost one is as far as the chain goes.
        Some(client)
    }
}

/// How the application reads client addresses and their countries.
#[derive(Clone, Default)]
pub(crate) struct NetworkConfig {
    pub(crate) proxies: TrustedProxies,
    pub(crate) countries: Option<Arc<dyn CountryResolver>>,
    pub(crate) deny_unknown_country: bool,
}

/// The client of one request, as address rules see it.
pub(crate) struct Network {
    client: Option<IpAddr>,
    countries: Option<Arc<dyn CountryResolver>>,
    deny_unknown_country: bool,
    country: OnceCell<Option<CountryCode>>,
}

impl Network {
    pub(crate) fn new(req: &HttpRequest, config: Option<&NetworkConfig>) -> Self {
        let default = NetworkConfig::default();
        let config = config.unwrap_or(&default);
        Network {
            client: config.proxies.client_ip(req),
            countries: config.countries.clone(),
            deny_unknown_country: config.deny_unknown_country,
            country: OnceCell::new(),
        }
    }

    /// The client address, if it could be determined.
    pub(crate) fn client(&self) -> Option<IpAddr> {
        self.client
    }

    /// The client's country; `Err` when no resolver is registered.
    pub(crate) fn country(&self) -> Result<Option<CountryCode>, ()> {
        let resolver = self.countries.as_ref().ok_or(())?;
        Ok(*self
            .country
            .get_or_init(|| self.client.and_then(|ip| resolver.country(ip))))
    }

    pub(crate) fn deny_unknown_country(&self) -> bool {
        self.deny_unknown_country
    }
}

/// The hops the forwarding headers list, leftmost first; `None` for an entry that does not
/// parse. `Forwarded` wins over `X-Forwarded-For` when both are present.
fn forwarded_hops(req: &HttpRequest) -> Vec<Option<IpAddr>> {
    let headers = req.headers();
    let lines = |name| {
        headers
            .get_all(name)
            .map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
    };
    let forwarded = lines(FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .into_iter()
            .flat_map(|line| match line {
                Some(line) => line.split(',').map(forwarded_for).collect(),
                None => vec![None],
            })
            .collect();
    }
    lines(X_FORWARDED_FOR)
        .into_iter()
        .flat_map(|line| match line {
            Some(line) => line.split(',').map(|hop| parse_node(hop.trim())).collect(),
            None => vec![None],
        })
        .collect()
}

/// The `for=` node of one `Forwarded` element (RFC 7239 §4); `None` if absent or not an address
/// (`unknown` and obfuscated identifiers cannot be checked against a range).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_node(value.trim().trim_matches('"')))?
    })
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1` or
/// `[2001:db8::1]:8080`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let ip = if let Some(rest) = node.strip_prefix('[') {
        rest.split_once(']')?.0.parse().ok()?
    } else if let Ok(ip) = node.parse::<IpAddr>() {
        ip
    } else {
        let (host, port) = node.rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        IpAddr::V4(host.parse().ok()?)
    };
    Some(IpAddr::to_canonical(&ip))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn req(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_forward() {
        let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let forged = req(
            "203.0.113.9:5000",
            &[
                ("x-forwarded-for", "10.1.1.1"),
                ("forwarded", "for=10.1.1.1"),
            ],
        );
        assert_eq!(proxies.client_ip(&forged), ip("203.0.113.9"));
        assert_eq!(TrustedProxies::none().client_ip(&forged), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_hops_are_walked_right_to_left() {
        let proxies = TrustedProxies::new(["10.0.0.0/8", "192.168.0.0/16"]).unwrap();
        let spoofed = "1.1.1.1, 198.51.100.7, 192.168.1.1";
        let r = req("10.0.0.1:1", &[("x-forwarded-for", spoofed)]);
        assert_eq!(proxies.client_ip(&r), ip("198.51.100.7"));
        let r = req(
            "10.0.0.1:1",
            &[
                ("x-forwarded-for", "1.1.1.1"),
                ("x-forwarded-for", "198.51.100.7"),
            ],
        );
        assert_eq!(
            proxies.client_ip(&r),
            ip("198.51.100.7"),
            "header lines form one list"
        );
        let r = req(
            "10.0.0.1:1",
            &[(
                "forwarded",
                r#"for=1.1.1.1, for="[2001:db8::7]:4711";proto=https"#,
            )],
        );
        assert_eq!(proxies.client_ip(&r), ip("2001:db8::7"));
        let r = req("10.0.0.1:1", &[("x-forwarded-for", "10.2.2.2")]);
        assert_eq!(
            proxies.client_ip(&r),
            ip("10.2.2.2"),
            "all trusted: the leftmost hop"
        );
        let r = req("10.0.0.1:1", &[]);
        assert_eq!(
            proxies.client_ip(&r),
            ip("10.0.0.1"),
            "no header: the proxy itself"
        );
    }

    #[test]
    fn unparseable_hops_make_the_client_unknown() {
        let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        for value in ["garbage", "198.51.100.7, not-an-ip", "_hidden", ""] {
            let r = req("10.0.0.1:1", &[("x-forwarded-for", value)]);
            assert_eq!(proxies.client_ip(&r), None, "{value:?}");
        }
        let r = req("10.0.0.1:1", &[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client_ip(&r), None);
        let r = req("10.0.0.1:1", &[("forwarded", "proto=https")]);
        assert_eq!(proxies.client_ip(&r), None);
    }

    #[test]
    fn ipv4_mapped_ipv6_compares_as_ipv4() {
        let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let r = req(
            "[::ffff:10.0.0.1]:1",
            &[("x-forwarded-for", "::ffff:198.51.100.7")],
        );
        assert_eq!(proxies.client_ip(&r), ip("198.51.100.7"));
        assert_eq!(parse_node("198.51.100.7:8080"), ip("198.51.100.7"));
    }

    #[test]
    fn bad_ranges_are_refused_at_start_up() {
        assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::new(["not a range"]).is_err());
    }
}
