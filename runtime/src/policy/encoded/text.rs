//! What a policy spelled as a type derives from its rule at compile time: its name, the scopes
//! and authentication contexts its challenges ask for, and the login age. The guard attributes
//! compute the same for a marker type (`macros/src/policy/tokens.rs`); these are the `const fn`
//! twins, so that the type carries the rule alone.
//!
//! Everything here is evaluated by the compiler and never on a request: an index out of
//! bounds or a panic would be a build error, not a crash.
#![allow(clippy::indexing_slicing, clippy::panic)]

use std::net::IpAddr;

use ipnet::IpNet;

use crate::policy::Rule;

/// The longest text a policy derives. The attributes give a rule whose name, scopes or
/// contexts would not fit a marker type of its own instead.
pub(super) const TEXT_CAP: usize = 256;

/// Text built at compile time in a fixed buffer.
pub(super) struct Text {
    bytes: [u8; TEXT_CAP],
    len: usize,
    /// Something did not fit.
    overflow: bool,
}

impl Text {
    const fn new() -> Text {
        Text {
            bytes: [0; TEXT_CAP],
            len: 0,
            overflow: false,
        }
    }

    /// The rule in the `#[require(..)]` grammar without its quotes, which every log and metrics
    /// exporter would escape: `any(role(admin), scope(read))`.
    pub(super) const fn name(rule: &Rule) -> Text {
        let mut text = Text::new();
        text.rule(rule);
        assert!(
            !text.overflow,
            "route-guard: the name of this rule is too long for a policy type"
        );
        text
    }

    /// The names of kind `scope` (true) or `acr` (false) the rule requires (outside an odd
    /// number of `not`s), once each, space-separated.
    pub(super) const fn required(rule: &Rule, scopes: bool) -> Text {
        let mut text = Text::new();
        text.names(rule, scopes, true);
        assert!(
            !text.overflow,
            "route-guard: the scopes or contexts of this rule are too long for a policy type"
        );
        text
    }

    pub(super) const fn as_str(&'static self) -> &'static str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(text) => text,
            Err(_) => panic!("route-guard: a policy's text is not UTF-8"),
        }
    }

    const fn push(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            if self.len == TEXT_CAP {
                self.overflow = true;
                return;
            }
            self.bytes[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn number(&mut self, mut value: u32) {
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push(digits.split_at(start).1);
    }

    const fn hex(&mut self, value: u16) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut shift = 12;
        let mut started = false;
        loop {
            let digit = (value >> shift) & 0xf;
            if digit != 0 || started || shift == 0 {
                self.push(&[DIGITS[digit as usize]]);
                started = true;
            }
            if shift == 0 {
                break;
            }
            shift -= 4;
        }
    }

    const fn call(&mut self, keyword: &str, value: &str) {
        self.push(keyword.as_bytes());
        self.push(b"(");
        self.push(value.as_bytes());
        self.push(b")");
    }

    const fn rule(&mut self, rule: &Rule) {
        match rule {
            Rule::Authenticated => self.push(b"authenticated"),
            Rule::Role(name) => self.call("role", name),
            Rule::Scope(name) => self.call("scope", name),
            Rule::Permission(name) => self.call("permission", name),
            Rule::Scheme(name) => self.call("scheme", name),
            Rule::Issuer(name) => self.call("issuer", name),
            Rule::Acr(name) => self.call("acr", name),
            Rule::MaxAge(seconds) => {
                self.push(b"max_age(");
                self.number(*seconds);
                self.push(b")");
            }
            Rule::Any(rules) => self.list(b"any(", rules),
            Rule::All(rules) => self.list(b"all(", rules),
            Rule::Not(rule) => {
                self.push(b"not(");
                self.rule(rule);
                self.push(b")");
            }
            Rule::Ip(nets) => {
                self.push(b"ip(");
                let mut i = 0;
                while i < nets.len() {
                    if i > 0 {
                        self.push(b", ");
                    }
                    self.net(&nets[i]);
                    i += 1;
                }
                self.push(b")");
            }
            Rule::Country(codes) => {
                self.push(b"country(");
                let mut i = 0;
                while i < codes.len() {
                    if i > 0 {
                        self.push(b", ");
                    }
                    self.push(codes[i].as_bytes());
                    i += 1;
                }
                self.push(b")");
            }
            Rule::Predicate(predicate) => {
                self.push(b"policy(");
                self.push(predicate.name.as_bytes());
                self.push(b")");
            }
        }
    }

    const fn list(&mut self, open: &[u8], rules: &[Rule]) {
        self.push(open);
        let mut i = 0;
        while i < rules.len() {
            if i > 0 {
                self.push(b", ");
            }
            self.rule(&rules[i]);
            i += 1;
        }
        self.push(b")");
    }

    /// `10.0.0.0/8`, `2001:db8::/32` (RFC 5952: the longest run of two or more zero groups,
    /// the first of equals, written `::`).
    const fn net(&mut self, net: &IpNet) {
        let (addr, prefix) = match net {
            IpNet::V4(net) => (IpAddr::V4(net.addr()), net.prefix_len()),
            IpNet::V6(net) => (IpAddr::V6(net.addr()), net.prefix_len()),
        };
        match addr {
            IpAddr::V4(v4) => {
                let octets = v4.octets();
                let mut i = 0;
                while i < 4 {
                    if i > 0 {
                        self.push(b".");
                    }
                    self.number(octets[i] as u32);
                    i += 1;
                }
            }
            IpAddr::V6(v6) => self.v6(&v6.segments()),
        }
        self.push(b"/");
        self.number(prefix as u32);
    }

    const fn v6(&mut self, groups: &[u16; 8]) {
        let (mut best, mut best_len, mut i) = (8, 1, 0);
        while i < 8 {
            let mut run = 0;
            while i + run < 8 && groups[i + run] == 0 {
                run += 1;
            }
            if run > best_len {
                (best, best_len) = (i, run);
            }
            i += if run == 0 { 1 } else { run };
        }
        let mut i = 0;
        while i < 8 {
            if i == best {
                self.push(b"::");
                i += best_len;
                continue;
            }
            if i > 0 && i != best + best_len {
                self.push(b":");
            }
            self.hex(groups[i]);
            i += 1;
        }
    }

    const fn names(&mut self, rule: &Rule, scopes: bool, positive: bool) {
        match rule {
            Rule::Scope(name) if scopes && positive => self.word(name),
            Rule::Acr(name) if !scopes && positive => self.word(name),
            Rule::Any(rules) | Rule::All(rules) => {
                let mut i = 0;
                while i < rules.len() {
                    self.names(&rules[i], scopes, positive);
                    i += 1;
                }
            }
            Rule::Not(rule) => self.names(rule, scopes, !positive),
            _ => {}
        }
    }

    /// Appends `word`, space-separated, unless it is there already.
    const fn word(&mut self, word: &str) {
        let (word, text) = (word.as_bytes(), self.bytes.split_at(self.len).0);
        let mut start = 0;
        while start < text.len() {
            let mut end = start;
            while end < text.len() && text[end] != b' ' {
                end += 1;
            }
            if equal(text.split_at(end).0.split_at(start).1, word) {
                return;
            }
            start = end + 1;
        }
        if self.len > 0 {
            self.push(b" ");
        }
        self.push(word);
    }
}

const fn equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The shortest `max_age` the rule requires (outside an odd number of `not`s).
pub(super) const fn max_age(rule: &Rule, positive: bool) -> Option<u32> {
    match rule {
        Rule::MaxAge(seconds) if positive => Some(*seconds),
        Rule::Any(rules) | Rule::All(rules) => {
            let (mut shortest, mut i) = (None, 0);
            while i < rules.len() {
                shortest = match (shortest, max_age(&rules[i], positive)) {
                    (Some(a), Some(b)) if b < a => Some(b),
                    (None, found) => found,
                    (kept, _) => kept,
                };
                i += 1;
            }
            shortest
        }
        Rule::Not(rule) => max_age(rule, !positive),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(rule: &'static Rule) -> String {
        let text: &'static Text = Box::leak(Box::new(Text::name(rule)));
        text.as_str().to_owned()
    }

    #[test]
    fn names_read_as_the_grammar() {
        const NETS: &[IpNet] = &[
            IpNet::new_assert(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 0)), 8),
            IpNet::new_assert(
                IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 1, 0, 0, 0)),
                32,
            ),
            IpNet::new_assert(
                IpAddr::V6(std::net::Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)),
                128,
            ),
            IpNet::new_assert(
                IpAddr::V6(std::net::Ipv6Addr::new(1, 0, 2, 0, 3, 0, 4, 0)),
                64,
            ),
        ];
        const RULE: Rule = Rule::All(&[
            Rule::Any(&[Rule::Role("admin"), Rule::Scope("read")]),
            Rule::Not(&Rule::MaxAge(3600)),
            Rule::Ip(NETS),
            Rule::Country(&["DE", "FR"]),
            Rule::Authenticated,
        ]);
        assert_eq!(
            name(&RULE),
            "all(any(role(admin), scope(read)), not(max_age(3600)), ip(10.0.0.0/8, \
             2001:db8:0:0:1::/32, ::1/128, 1:0:2:0:3:0:4:0/64), country(DE, FR), authenticated)"
        );
        for net in NETS {
            assert!(
                name(Box::leak(Box::new(Rule::Ip(std::slice::from_ref(net)))))
                    .contains(&net.to_string())
            );
        }
    }

    #[test]
    fn required_names_skip_negated_and_repeated_ones() {
        const RULE: Rule = Rule::All(&[
            Rule::Scope("read"),
            Rule::Not(&Rule::Scope("admin")),
            Rule::Any(&[Rule::Scope("read"), Rule::Scope("write"), Rule::Acr("mfa")]),
            Rule::Not(&Rule::Not(&Rule::Scope("re"))),
            Rule::MaxAge(600),
            Rule::Not(&Rule::MaxAge(60)),
            Rule::Any(&[Rule::MaxAge(300)]),
        ]);
        let scopes: &'static Text = Box::leak(Box::new(Text::required(&RULE, true)));
        let acr: &'static Text = Box::leak(Box::new(Text::required(&RULE, false)));
        assert_eq!(scopes.as_str(), "read write re");
        assert_eq!(acr.as_str(), "mfa");
        assert_eq!(max_age(&RULE, true), Some(300));
        assert_eq!(max_age(&Rule::Authenticated, true), None);
    }
}
