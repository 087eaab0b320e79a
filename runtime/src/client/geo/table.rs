//! Countries of address ranges held in memory: for private networks, tests, demos, and the CSV
//! country files that ip-location-db and DB-IP lite publish.

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;

use super::{CountryCode, CountryResolver};
use crate::config::ConfigError;

/// A [`CountryResolver`] over address ranges held in memory, looked up by binary search.
///
/// Build it from ranges in code, or from a CSV country file with one range per line, as
/// ip-location-db (`geo-whois-asn-country-ipv4.csv`, …) and DB-IP lite (`dbip-country-lite`)
/// publish them: `first,last,country` (`1.0.0.0,1.0.0.255,AU`), or `cidr,country`. Ranges
/// may not overlap; an address in none of them has no known country.
///
/// ```
/// use route_guard::{CountryTable, RouteGuard, JwtAuthenticator, JwtKey};
///
/// let countries = CountryTable::new()
///     .range("192.0.2.0/24", "DE")?         // documentation ranges (RFC 5737)
///     .range("198.51.100.0/24", "FR")?
///     .csv("2001:db8::,2001:db8::ffff,NL\n")?;
/// # let jwt = JwtAuthenticator::builder().key(JwtKey::hs256("a development secret of at least 32 bytes")?).build()?;
/// let guard = RouteGuard::builder(jwt).countries(countries).build()?;
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CountryTable {
    v4: Vec<Span<u32>>,
    v6: Vec<Span<u128>>,
}

/// One range, first and last address included.
#[derive(Debug, Clone, Copy)]
struct Span<T> {
    first: T,
    last: T,
    country: CountryCode,
}

impl CountryTable {
    /// An empty table: every address has an unknown country.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a CIDR range (`"192.0.2.0/24"`, `"2001:db8::/32"`) or a single address, located
    /// in `country` (ISO 3166-1 alpha-2).
    pub fn range(mut self, range: &str, country: &str) -> Result<Self, ConfigError> {
        self.add_cidr(range, country)
            .map_err(|e| ConfigError::new(format!("country range {range:?}: {e}")))?;
        self.seal()
    }

    /// Adds every range of a CSV country file's text; see the type's documentation for the
    /// formats. Blank lines and lines starting with `#` are skipped.
    pub fn csv(mut self, text: &str) -> Result<Self, ConfigError> {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add_line(line)
                .map_err(|e| ConfigError::new(format!("line {}: {line:?}: {e}", number + 1)))?;
        }
        self.seal()
    }

    /// [`csv`](Self::csv) over the file at `path`.
    pub fn csv_file(self, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(format!("cannot read {}: {e}", path.display())))?;
        self.csv(&text)
            .map_err(|e| ConfigError::new(format!("{}: {e}", path.display())))
    }

    /// How many ranges the table holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether the table holds no range.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add_line(&mut self, line: &str) -> Result<(), String> {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        match fields.as_slice() {
            [cidr, country] => self.add_cidr(cidr, country),
            [first, last, country, ..] => {
                let parse = |ip: &str| {
                    ip.parse::<IpAddr>()
                        .map_err(|_| format!("{ip:?} is not an IP address"))
                };
                self.add(parse(first)?, parse(last)?, country)
            }
            _ => Err("expected `first,last,country` or `cidr,country`".to_owned()),
        }
    }

    fn add_cidr(&mut self, range: &str, country: &str) -> Result<(), String> {
        let net = match range.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => range
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| "not a CIDR such as \"192.0.2.0/24\" or an address".to_owned())?,
        };
        self.add(net.network(), net.broadcast(), country)
    }

    fn add(&mut self, first: IpAddr, last: IpAddr, country: &str) -> Result<(), String> {
        let country = CountryCode::new(country)
            .ok_or_else(|| format!("{country:?} is not an ISO 3166-1 alpha-2 code"))?;
        match (first.to_canonical(), last.to_canonical()) {
            (IpAddr::V4(first), IpAddr::V4(last)) => {
                push(&mut self.v4, u32::from(first), u32::from(last), country)
            }
            (IpAddr::V6(first), IpAddr::V6(last)) => {
                push(&mut self.v6, u128::from(first), u128::from(last), country)
            }
            _ => Err("the first and last address are of different families".to_owned()),
        }
    }

    /// Sorts the ranges for lookups and refuses overlaps, which would make a country depend
    /// on the order of the lines.
    fn seal(mut self) -> Result<Self, ConfigError> {
        sorted(&mut self.v4)?;
        sorted(&mut self.v6)?;
        Ok(self)
    }
}

fn push<T: PartialOrd>(
    spans: &mut Vec<Span<T>>,
    first: T,
    last: T,
    country: CountryCode,
) -> Result<(), String> {
    if first > last {
        return Err("the first address comes after the last".to_owned());
    }
    spans.push(Span {
        first,
        last,
        country,
    });
    Ok(())
}

fn sorted<T: Ord + Copy + std::fmt::Debug>(spans: &mut [Span<T>]) -> Result<(), ConfigError> {
    spans.sort_unstable_by_key(|span| span.first);
    match spans
        .windows(2)
        .find(|pair| matches!(pair, [a, b] if b.first <= a.last))
    {
        Some([a, b]) => Err(ConfigError::new(format!(
            "country ranges overlap: one in {} and one in {} share addresses",
            a.country, b.country
        ))),
        _ => Ok(()),
    }
}

fn find<T: Ord + Copy>(spans: &[Span<T>], ip: T) -> Option<CountryCode> {
    let after = spans.partition_point(|span| span.first <= ip);
    let span = spans.get(after.checked_sub(1)?)?;
    (ip <= span.last).then_some(span.country)
}

impl CountryResolver for CountryTable {
    fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        match ip.to_canonical() {
            IpAddr::V4(ip) => find(&self.v4, u32::from(ip)),
            IpAddr::V6(ip) => find(&self.v6, u128::from(ip)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(table: &CountryTable, ip: &str) -> Option<String> {
        table.country(ip.parse().unwrap()).map(|c| c.to_string())
    }

    #[test]
    fn ranges_and_csv_lines_are_found_at_their_edges_and_nowhere_else() {
        let table = CountryTable::new()
            .range("192.0.2.0/24", "de")
            .unwrap()
            .csv("# ip-location-db\n1.0.0.0,1.0.0.255,AU\n\n198.51.100.0/25,FR\n2001:db8::,2001:db8::ff,NL\n")
            .unwrap();
        assert_eq!(table.len(), 4);
        for (ip, country) in [
            ("192.0.2.0", Some("DE")),
            ("192.0.2.255", Some("DE")),
            ("192.0.3.0", None),
            ("192.0.1.255", None),
            ("1.0.0.7", Some("AU")),
            ("198.51.100.127", Some("FR")),
            ("198.51.100.128", None),
            ("::ffff:1.0.0.1", Some("AU")),
            ("2001:db8::ff", Some("NL")),
            ("2001:db8::100", None),
            ("0.0.0.0", None),
            ("255.255.255.255", None),
        ] {
            assert_eq!(at(&table, ip).as_deref(), country, "{ip}");
        }
        assert_eq!(at(&CountryTable::new(), "1.0.0.1"), None);
    }

    #[test]
    fn bad_lines_and_overlaps_are_refused_with_their_place() {
        for (text, says) in [
            ("1.0.0.0,1.0.0.255,AUS", "line 1"),
            ("ok\n", "expected"),
            ("1.0.0.9,1.0.0.0,AU", "comes after"),
            ("1.0.0.0,::1,AU", "different families"),
            ("1.0.0.0,1.0.0.x,AU", "not an IP address"),
            ("1.0.0.0/24,AU\n1.0.0.128/25,NZ", "overlap"),
        ] {
            let error = CountryTable::new().csv(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text:?}: {error}");
        }
        assert!(CountryTable::new().range("10.0.0.0/33", "DE").is_err());
        assert!(CountryTable::new().range("10.0.0.0/8", "Germany").is_err());
    }
}
