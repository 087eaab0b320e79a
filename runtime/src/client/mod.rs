//! Who is on the other end of the connection: the client address, read safely behind proxies.
//!
//! By default the client is the socket peer. `Forwarded` (RFC 7239) and `X-Forwarded-For` are
//! written by whoever sends the request, so they are read only when the peer is a trusted
//! proxy, walking right to left past trusted hops: the first untrusted hop is the client.
//! actix-web's `ConnectionInfo::realip_remote_addr` takes the leftmost entry instead, which any
//! client can forge; its own documentation warns against using it for security.

pub(crate) mod geo;

#[cfg(feature = "geoip")]
#[cfg_attr(docsrs, doc(cfg(feature = "geoip")))]
pub use geo::MaxMindCountries;
pub use geo::{CountryCode, CountryResolver, CountryTable};

use std::cell::OnceCell;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::{FORWARDED, HeaderName};
use ipnet::IpNet;

use crate::config::ConfigError;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// The header the trusted proxies write the client's address in.
///
/// A proxy adds its own entry to one header and passes the others through as the client sent
/// them, so only the one it writes can be believed: say which with
/// [`TrustedProxies::reading`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// The default: whichever of `Forwarded` and `X-Forwarded-For` the request carries. A
    /// request from a trusted proxy that carries both has no known client address, since one
    /// of them was written by the client; address and country rules then deny it.
    #[default]
    Either,
    /// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, most load balancers).
    XForwardedFor,
    /// `Forwarded` (RFC 7239), its `for=` parameters.
    Forwarded,
    /// `X-Real-IP`, one address that the proxy sets, replacing what the client sent (nginx's
    /// `proxy_set_header X-Real-IP $remote_addr`).
    XRealIp,
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Box<[IpNet]>,
    header: ForwardedHeader,
}

/// Why a request's client address cannot be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unknown {
    /// The connection has no peer address (a test request built without one).
    NoPeer,
    /// A trusted proxy sent both `Forwarded` and `X-Forwarded-For`, and the application did not
    /// say which one its proxies write.
    BothHeaders,
    /// The walk reached a forwarding entry that is not an address (garbage, `unknown`, an
    /// obfuscated identifier, undecodable bytes), or `X-Real-IP` was missing or repeated.
    UnreadableHop,
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unknown::NoPeer => "client address unknown: the connection has no peer address",
            Unknown::BothHeaders => {
                "client address unknown: a trusted proxy sent both Forwarded and \
                 X-Forwarded-For; say which one it writes with TrustedProxies::reading"
            }
            Unknown::UnreadableHop => {
                "client address unknown: a forwarding entry from a trusted hop is not an address"
            }
        })
    }
}

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
        let ranges = ranges
            .into_iter()
            .map(|range| {
                let range = range.as_ref();
                range.parse::<IpNet>().map(|net| net.trunc()).map_err(|_| {
                    ConfigError::new(format!(
                        "trusted proxy range {range:?} is not a CIDR such as \"10.0.0.0/8\""
                    ))
                })
            })
            .collect::<Result<Box<[_]>, _>>()?;
        Ok(TrustedProxies {
            ranges,
            header: ForwardedHeader::default(),
        })
    }

    /// Reads the client address from `header` only, the one the proxies write; see
    /// [`ForwardedHeader`].
    ///
    /// ```
    /// use route_guard::{ForwardedHeader, TrustedProxies};
    ///
    /// let proxies = TrustedProxies::new(["10.0.0.0/8"])?.reading(ForwardedHeader::XForwardedFor);
    /// # Ok::<(), route_guard::ConfigError>(())
    /// ```
    #[must_use]
    pub fn reading(self, header: ForwardedHeader) -> Self {
        TrustedProxies { header, ..self }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|net| net.contains(&ip))
    }

    /// The client address of `req`, or `None` when it cannot be known (no peer address, a
    /// forwarding entry that is not an address, or both forwarding headers where the
    /// application did not say which one its proxies write): rules on addresses then deny.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.client(req).ok()
    }

    pub(crate) fn client(&self, req: &HttpRequest) -> Result<IpAddr, Unknown> {
        let peer = req.peer_addr().ok_or(Unknown::NoPeer)?.ip().to_canonical();
        if !self.trusts(peer) {
            return Ok(peer);
        }
        let headers = req.headers();
        let name = match self.header {
            ForwardedHeader::XRealIp => return real_ip(req),
            ForwardedHeader::Forwarded => FORWARDED,
            ForwardedHeader::XForwardedFor => X_FORWARDED_FOR,
            ForwardedHeader::Either => {
                match (
                    headers.contains_key(FORWARDED),
                    headers.contains_key(X_FORWARDED_FOR),
                ) {
                    (true, true) => return Err(Unknown::BothHeaders),
                    (true, false) => FORWARDED,
                    _ => X_FORWARDED_FOR,
                }
            }
        };
        let hops = forwarded_hops(req, &name);
        let mut client = peer;
        for hop in hops.iter().rev() {
            let hop = hop.ok_or(Unknown::UnreadableHop)?;
            client = hop;
            if !self.trusts(hop) {
                return Ok(hop);
            }
        }
        // Every hop is trusted: the leftmost one is as far as the chain goes.
        Ok(client)
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
    client: Result<IpAddr, Unknown>,
    countries: Option<Arc<dyn CountryResolver>>,
    deny_unknown_country: bool,
    country: OnceCell<Option<CountryCode>>,
}

impl Network {
    pub(crate) fn new(req: &HttpRequest, config: &NetworkConfig) -> Self {
        Network {
            client: config.proxies.client(req),
            countries: config.countries.clone(),
            deny_unknown_country: config.deny_unknown_country,
            country: OnceCell::new(),
        }
    }

    /// The client address, if it could be determined.
    pub(crate) fn client(&self) -> Option<IpAddr> {
        self.client.ok()
    }

    /// The client address for the log, or why it is unknown.
    pub(crate) fn describe(&self) -> String {
        match self.client {
            Ok(ip) => ip.to_string(),
            Err(unknown) => unknown.to_string(),
        }
    }

    /// The country of a known client address; `Err` when no resolver is registered.
    pub(crate) fn country(&self) -> Result<Option<CountryCode>, ()> {
        let resolver = self.countries.as_ref().ok_or(())?;
        Ok(*self
            .country
            .get_or_init(|| self.client.ok().and_then(|ip| resolver.country(ip))))
    }

    pub(crate) fn deny_unknown_country(&self) -> bool {
        self.deny_unknown_country
    }
}

/// The hops header `name` lists, leftmost first, over all its lines; `None` for an entry that
/// is not an address. Each entry is decoded on its own: an undecodable byte spoils only the
/// entry it is in, which the walk reaches only if every hop to its right is trusted.
fn forwarded_hops(req: &HttpRequest, name: &HeaderName) -> Vec<Option<IpAddr>> {
    let forwarded = *name == FORWARDED;
    req.headers()
        .get_all(name)
        .flat_map(|line| line.as_bytes().split(|&byte| byte == b','))
        .map(|entry| {
            let entry = std::str::from_utf8(entry).ok()?;
            if forwarded {
                forwarded_for(entry)
            } else {
                parse_node(entry.trim())
            }
        })
        .collect()
}

/// The one address of `X-Real-IP`; a missing, repeated or unreadable one is unknown.
fn real_ip(req: &HttpRequest) -> Result<IpAddr, Unknown> {
    let mut lines = req.headers().get_all(X_REAL_IP);
    match (lines.next(), lines.next()) {
        (Some(line), None) => std::str::from_utf8(line.as_bytes())
            .ok()
            .and_then(|value| parse_node(value.trim()))
            .ok_or(Unknown::UnreadableHop),
        _ => Err(Unknown::UnreadableHop),
    }
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
