//! Where a client address is: the country behind `#[allow_countries]` and `#[block_countries]`.

use std::fmt;
use std::net::IpAddr;

mod table;

pub use table::CountryTable;

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The code for `code` (`"DE"`, `"de"`), if it is two ASCII letters.
    #[must_use]
    pub fn new(code: &str) -> Option<Self> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(CountryCode([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
            ])),
            _ => None,
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Two ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Finds the country of an address, for country rules.
///
/// [`CountryTable`] holds ranges in memory (from code or a CSV country file);
/// `MaxMindCountries` (feature `geoip`) reads MaxMind-format databases; implement this trait for another
/// source. Lookups run on the request path, so they should be in-memory.
#[diagnostic::on_unimplemented(
    note = "a country resolver maps an IP address to an ISO 3166-1 alpha-2 code, e.g. \
            `route_guard::MaxMindCountries`; register it with `RouteGuard::builder(..).countries(..)`"
)]
pub trait CountryResolver: Send + Sync + 'static {
    /// The country of `ip`, or `None` when the source does not know it.
    fn country(&self, ip: IpAddr) -> Option<CountryCode>;
}

#[cfg(feature = "geoip")]
pub use self::maxmind::MaxMindCountries;

#[cfg(feature = "geoip")]
mod maxmind {
    use std::net::IpAddr;
    use std::path::Path;

    use maxminddb::{PathElement, Reader};

    use super::{CountryCode, CountryResolver};
    use crate::config::ConfigError;

    /// Countries from a MaxMind DB (`.mmdb`) file: GeoIP2/GeoLite2 Country or City, or any
    /// database with a top-level `country_code` (as the ip-location-db project publishes).
    pub struct MaxMindCountries {
        reader: Reader<Vec<u8>>,
    }

    impl MaxMindCountries {
        /// Loads the database at `path` into memory.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
            let path = path.as_ref();
            Reader::open_readfile(path)
                .map(|reader| MaxMindCountries { reader })
                .map_err(|e| {
                    ConfigError::new(format!(
                        "cannot read the MaxMind database {}: {e}",
                        path.display()
                    ))
                })
        }

        /// A database already in memory.
        pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ConfigError> {
            Reader::from_source(bytes)
                .map(|reader| MaxMindCountries { reader })
                .map_err(|e| ConfigError::new(format!("not a MaxMind database: {e}")))
        }
    }

    impl CountryResolver for MaxMindCountries {
        fn country(&self, ip: IpAddr) -> Option<CountryCode> {
            // `::ffff:8.8.8.8` is 8.8.8.8: look it up in the IPv4 tree.
            let found = self.reader.lookup(ip.to_canonical()).ok()?;
            let geoip2 = [PathElement::Key("country"), PathElement::Key("iso_code")];
            let code: Option<&str> = match found.decode_path(&geoip2) {
                Ok(Some(code)) => Some(code),
                _ => found
                    .decode_path(&[PathElement::Key("country_code")])
                    .ok()
                    .flatten(),
            };
            code.and_then(CountryCode::new)
        }
    }

    impl std::fmt::Debug for MaxMindCountries {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("MaxMindCountries")
                .field("database_type", &self.reader.metadata().database_type)
                .finish_non_exhaustive()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_two_letters_upper_cased() {
        assert_eq!(
            CountryCode::new("de").map(|c| c.to_string()),
            Some("DE".to_owned())
        );
        for bad in ["", "D", "DEU", "1A", "é", "D\u{0}"] {
            assert_eq!(CountryCode::new(bad), None, "{bad:?}");
        }
    }
}
