//! Evaluating a rule: the three-valued walk that decides address rules before authentication,
//! the two-valued one for a known caller, and predicates awaited in order.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use actix_web::HttpRequest;
use ipnet::IpNet;

use super::{PredicateOutcome, Rule};
use crate::client::Network;
use crate::identity::Identity;
use crate::identity::hierarchy::RoleHierarchy;
use crate::refusal::{Denial, Misconfiguration};

/// What the rule is checked against. `identity` is `None` before authentication: rules on
/// addresses can be decided then, and the rest answer "unknown".
pub(crate) struct Subject<'a> {
    pub(crate) identity: Option<&'a Identity>,
    pub(crate) hierarchy: &'a RoleHierarchy,
    pub(crate) network: Option<&'a Network>,
    /// Before authentication: the name of the authenticator that would accept the caller,
    /// to tell which authenticators can satisfy the rule at all.
    pub(crate) scheme: Option<&'a str>,
    /// Set when a leaf cannot be judged at all (an address that does not parse, a country
    /// rule without a resolver): the whole rule then denies, whatever `not` says.
    pub(crate) veto: Cell<Option<Denial>>,
}

impl<'a> Subject<'a> {
    pub(crate) fn new(
        identity: Option<&'a Identity>,
        hierarchy: &'a RoleHierarchy,
        network: Option<&'a Network>,
    ) -> Self {
        Subject {
            identity,
            hierarchy,
            network,
            scheme: None,
            veto: Cell::new(None),
        }
    }

    pub(crate) fn has_role(&self, role: &str) -> Option<bool> {
        Some(holds_role(self.identity?, self.hierarchy, role))
    }

    fn client_in(&self, nets: &[IpNet]) -> bool {
        match self.network.and_then(Network::client) {
            Some(ip) => nets.iter().any(|net| net.contains(&ip)),
            None => {
                self.veto.set(Some(Denial::Forbidden));
                false
            }
        }
    }

    /// Whether the client is in one of `countries`. An unknown location is in no country; with
    /// `deny_unknown_country` it is whatever does not help the rule pass (`positive` says
    /// whether this leaf sits under an even number of `not`s), so block-lists deny it too while
    /// other branches of the rule, such as an admin role, still decide.
    fn located_in(&self, countries: &[&str], positive: bool) -> bool {
        // A client whose address is unknown is not "in an unknown country": that would let it
        // through every block-list. It vetoes country rules as it vetoes address rules.
        let Some(network) = self.network.filter(|network| network.client().is_some()) else {
            self.veto.set(Some(Denial::Forbidden));
            return false;
        };
        match network.country() {
            Ok(Some(code)) => countries.contains(&code.as_str()),
            Ok(None) => network.deny_unknown_country() && !positive,
            Err(()) => {
                self.veto.set(Some(Denial::Misconfigured(
                    Misconfiguration::NoCountryResolver,
                )));
                false
            }
        }
    }
}

/// Whether the login behind `identity` was made with the context `acr` (its `acr` claim).
fn has_acr(identity: &Identity, acr: &str) -> bool {
    identity
        .claims()
        .get("acr")
        .and_then(serde_json::Value::as_str)
        == Some(acr)
}

/// Whether the login behind `identity` (its `auth_time` claim, RFC 9470 / OpenID Connect) was
/// made at most `seconds` ago. No `auth_time`, or one that is not a NumericDate, is too old.
fn logged_in_within(identity: &Identity, seconds: u32) -> bool {
    let Some(auth_time) = identity
        .claims()
        .get("auth_time")
        .and_then(crate::identity::claims::numeric_date)
    else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // A login in the future (beyond a minute of clock skew) is no login this rule can trust.
    auth_time <= now.saturating_add(60) && now.saturating_sub(auth_time) <= u64::from(seconds)
}

/// Whether `identity` holds `role`, directly or through a role that includes it.
fn holds_role(identity: &Identity, hierarchy: &RoleHierarchy, role: &str) -> bool {
    identity.has_role(role)
        || hierarchy
            .implied_by(role)
            .iter()
            .any(|senior| identity.has_role(senior))
}

impl Rule {
    /// Whether `identity` satisfies this rule, with no role hierarchy and no client address.
    /// Predicates and address rules count as not satisfied here (whatever their place under
    /// `not`); guards decide them.
    #[must_use]
    pub fn allows(&self, identity: &Identity) -> bool {
        self.holds(identity, RoleHierarchy::none(), true)
    }

    /// The evaluation for a known caller without a client address: what [`Rule::eval`]
    /// answers then, where every leaf is known and Kleene logic is plain `||` and `&&`. This
    /// is the path of every request to a rule on credentials alone, so it walks the tree with
    /// nothing else to carry. Address rules and predicates are the answer that does not help.
    ///
    /// Leaves are decided in place ([`Rule::holds_leaf`]), so only combinators recurse.
    fn holds(&self, identity: &Identity, hierarchy: &RoleHierarchy, positive: bool) -> bool {
        match self {
            Rule::Any(rules) => rules
                .iter()
                .any(|rule| rule.holds_leaf(identity, hierarchy, positive)),
            Rule::All(rules) => rules
                .iter()
                .all(|rule| rule.holds_leaf(identity, hierarchy, positive)),
            Rule::Not(rule) => !rule.holds_leaf(identity, hierarchy, !positive),
            leaf => leaf.holds_leaf(identity, hierarchy, positive),
        }
    }

    #[inline(always)]
    fn holds_leaf(&self, identity: &Identity, hierarchy: &RoleHierarchy, positive: bool) -> bool {
        match self {
            Rule::Authenticated => true,
            Rule::Role(role) => holds_role(identity, hierarchy, role),
            Rule::Scope(scope) => identity.has_scope(scope),
            Rule::Permission(permission) => identity.has_permission(permission),
            Rule::Scheme(scheme) => identity.scheme() == Some(*scheme),
            Rule::Issuer(issuer) => identity.issuer() == Some(*issuer),
            Rule::Acr(acr) => has_acr(identity, acr),
            Rule::MaxAge(seconds) => logged_in_within(identity, *seconds),
            Rule::Ip(_) | Rule::Country(_) | Rule::Predicate(_) => !positive,
            Rule::Any(_) | Rule::All(_) | Rule::Not(_) => self.holds(identity, hierarchy, positive),
        }
    }

    /// Whether evaluating this rule calls an application predicate.
    #[must_use]
    pub const fn has_predicate(&self) -> bool {
        self.any_leaf(Leaves::Predicates)
    }

    /// The scheme names this rule's `scheme(..)` leaves name, wherever they are.
    pub(crate) fn schemes_named(&self) -> impl Iterator<Item = &'static str> + '_ {
        let mut found = Vec::new();
        self.collect_schemes(&mut found);
        found.into_iter()
    }

    fn collect_schemes(&self, found: &mut Vec<&'static str>) {
        match self {
            Rule::Scheme(name) => found.push(name),
            Rule::Not(rule) => rule.collect_schemes(found),
            Rule::Any(rules) | Rule::All(rules) => {
                rules.iter().for_each(|rule| rule.collect_schemes(found));
            }
            _ => {}
        }
    }

    /// Whether this rule names the schemes it accepts.
    #[must_use]
    pub const fn has_scheme(&self) -> bool {
        self.any_leaf(Leaves::Schemes)
    }

    /// Whether this rule looks at the client address.
    #[must_use]
    pub const fn has_network(&self) -> bool {
        self.any_leaf(Leaves::Network)
    }

    const fn any_leaf(&self, kind: Leaves) -> bool {
        match self {
            Rule::Not(rule) => rule.any_leaf(kind),
            Rule::Any(rules) | Rule::All(rules) => {
                // Iterators are not available in `const fn`; slice patterns are.
                let mut rest = *rules;
                while let [first, tail @ ..] = rest {
                    if first.any_leaf(kind) {
                        return true;
                    }
                    rest = tail;
                }
                false
            }
            Rule::Predicate(_) => matches!(kind, Leaves::Predicates),
            Rule::Ip(_) | Rule::Country(_) => matches!(kind, Leaves::Network),
            Rule::Scope(_) => matches!(kind, Leaves::Scopes),
            Rule::Scheme(_) => matches!(kind, Leaves::Schemes),
            Rule::Acr(_) | Rule::MaxAge(_) => matches!(kind, Leaves::StepUp),
            _ => false,
        }
    }

    /// The synchronous, three-valued evaluation: `None` when the answer depends on an
    /// identity that is not known yet (Kleene logic: `any` with a `true` is `true` regardless).
    /// `positive` tracks whether this node sits under an even number of `not`s, so that
    /// [`Scopes::Granted`] grants scopes only where that helps.
    fn eval(&self, subject: &Subject<'_>, scopes: Scopes, positive: bool) -> Option<bool> {
        let identity = || subject.identity;
        match self {
            Rule::Authenticated => identity().map(|_| true),
            Rule::Role(role) => subject.has_role(role),
            Rule::Scope(scope) => match scopes {
                Scopes::Granted => identity().map(|_| positive),
                _ => identity().map(|id| id.has_scope(scope)),
            },
            Rule::Permission(permission) => identity().map(|id| id.has_permission(permission)),
            Rule::Scheme(scheme) => match identity() {
                Some(id) => Some(id.scheme() == Some(*scheme)),
                None => subject.scheme.map(|assumed| assumed == *scheme),
            },
            Rule::Issuer(issuer) => identity().map(|id| id.issuer() == Some(*issuer)),
            // A new login can meet what the rule asks for; it cannot be counted on to lack
            // something, so a negated leaf stays as the present login has it.
            Rule::Acr(acr) => {
                identity().map(|id| (scopes == Scopes::SteppedUp && positive) || has_acr(id, acr))
            }
            Rule::MaxAge(seconds) => identity().map(|id| {
                (scopes == Scopes::SteppedUp && positive) || logged_in_within(id, *seconds)
            }),
            // Without a connection (`Rule::allows`), address rules are the answer that does not
            // help, as predicates are: never a veto, so the result does not depend on order.
            Rule::Ip(_) | Rule::Country(_) if subject.network.is_none() => Some(!positive),
            Rule::Ip(nets) => Some(subject.client_in(nets)),
            Rule::Country(countries) => Some(subject.located_in(countries, positive)),
            Rule::Any(rules) => kleene(
                rules
                    .iter()
                    .map(|rule| rule.eval(subject, scopes, positive)),
                true,
            ),
            Rule::All(rules) => kleene(
                rules
                    .iter()
                    .map(|rule| rule.eval(subject, scopes, positive)),
                false,
            ),
            Rule::Not(rule) => rule.eval(subject, scopes, !positive).map(|held| !held),
            // Outside the async evaluation a predicate is the answer that does not help.
            Rule::Predicate(_) => identity().map(|_| !positive),
        }
    }

    /// The full evaluation, awaiting predicates and short-circuiting like `||` and `&&`.
    fn eval_async<'a>(
        &'a self,
        subject: &'a Subject<'a>,
        req: &'a HttpRequest,
        positive: bool,
    ) -> Pin<Box<dyn Future<Output = PredicateOutcome> + 'a>> {
        Box::pin(async move {
            match self {
                Rule::Predicate(predicate) => match subject.identity {
                    Some(identity) => (predicate.check)(identity, req).await,
                    None => Ok(false),
                },
                Rule::Not(rule) => Ok(!rule.eval_async(subject, req, !positive).await?),
                Rule::Any(rules) => {
                    for rule in *rules {
                        if rule.eval_async(subject, req, positive).await? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                Rule::All(rules) => {
                    for rule in *rules {
                        if !rule.eval_async(subject, req, positive).await? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
                leaf => Ok(leaf.eval(subject, Scopes::AsHeld, positive) == Some(true)),
            }
        })
    }
}

/// Kinds of leaves [`Rule::any_leaf`] looks for.
#[derive(Clone, Copy)]
enum Leaves {
    Predicates,
    Network,
    Scopes,
    Schemes,
    StepUp,
}

/// `any` (`short == true`) or `all` (`short == false`) over three-valued answers.
fn kleene(answers: impl Iterator<Item = Option<bool>>, short: bool) -> Option<bool> {
    let mut unknown = false;
    for answer in answers {
        match answer {
            Some(value) if value == short => return Some(short),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown { None } else { Some(!short) }
}

/// How scope leaves are evaluated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scopes {
    /// As the credential holds them.
    AsHeld,
    /// As if the credential held every scope: tells whether scopes alone are missing.
    Granted,
    /// As if the login met every `acr` and `max_age`: tells whether a stronger or more recent
    /// login alone is missing.
    SteppedUp,
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// Denied, and granting the rule's scopes would allow it: RFC 6750 `insufficient_scope`.
    MissingScope,
    /// Denied, and a stronger or more recent login would allow it: RFC 9470
    /// `insufficient_user_authentication`.
    StepUp,
    Deny,
    /// The rule cannot be judged: deny with this denial (403, or 500 when misconfigured).
    Veto(Denial),
    /// The answer depends on who the caller is: authenticate first.
    NeedsIdentity,
}

/// Evaluates `rule` synchronously; for rules without predicates, or to decide address rules
/// before authentication (`subject.identity == None`).
pub(crate) fn judge(rule: &Rule, subject: &Subject<'_>) -> Verdict {
    let answer = match (subject.identity, subject.network) {
        (Some(identity), None) => Some(rule.holds(identity, subject.hierarchy, true)),
        _ => rule.eval(subject, Scopes::AsHeld, true),
    };
    if let Some(denial) = subject.veto.get() {
        return Verdict::Veto(denial);
    }
    match answer {
        Some(true) => Verdict::Allow,
        Some(false) => denial_kind(rule, subject),
        None => Verdict::NeedsIdentity,
    }
}

/// Whether a caller accepted by the authenticator named `scheme` could satisfy `rule`:
/// everything but the scheme is unknown (or, for address leaves, as `network` says).
pub(crate) fn admits_scheme(
    rule: &Rule,
    scheme: &str,
    hierarchy: &RoleHierarchy,
    network: Option<&Network>,
) -> bool {
    let mut subject = Subject::new(None, hierarchy, network);
    subject.scheme = Some(scheme);
    rule.eval(&subject, Scopes::AsHeld, true) != Some(false)
}

/// Evaluates `rule` for an authenticated caller, awaiting its predicates.
pub(crate) async fn judge_async(
    rule: &Rule,
    subject: &Subject<'_>,
    req: &HttpRequest,
) -> Result<Verdict, Box<dyn std::error::Error>> {
    let allowed = rule.eval_async(subject, req, true).await?;
    if let Some(denial) = subject.veto.get() {
        return Ok(Verdict::Veto(denial));
    }
    Ok(if allowed {
        Verdict::Allow
    } else {
        denial_kind(rule, subject)
    })
}

fn denial_kind(rule: &Rule, subject: &Subject<'_>) -> Verdict {
    // A login that is too weak or too old is a 401 for the client to log in again (RFC 9470):
    // told before any scope, which a new login may bring as well.
    if subject.identity.is_some()
        && rule.any_leaf(Leaves::StepUp)
        && rule.eval(subject, Scopes::SteppedUp, true) == Some(true)
    {
        return Verdict::StepUp;
    }
    // Only a rule that names scopes can be failing for want of them: no second walk otherwise.
    if subject.identity.is_some()
        && rule.any_leaf(Leaves::Scopes)
        && rule.eval(subject, Scopes::Granted, true) == Some(true)
    {
        Verdict::MissingScope
    } else {
        Verdict::Deny
    }
}

#[cfg(test)]
mod tests {
    use ipnet::IpNet;
    use serde_json::Map;

    use super::*;
    use crate::policy::Rule;

    const NET: &[IpNet] = &[IpNet::new_assert(
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 0)),
        8,
    )];

    #[test]
    fn allows_treats_address_rules_as_unhelpful_in_any_order() {
        let identity = Identity::new("ann", ["admin"], Map::new());
        const EITHER: &[Rule] = &[Rule::Authenticated, Rule::Ip(NET)];
        const REVERSED: &[Rule] = &[Rule::Ip(NET), Rule::Authenticated];
        assert!(Rule::Any(EITHER).allows(&identity));
        assert!(Rule::Any(REVERSED).allows(&identity));
        assert!(!Rule::All(REVERSED).allows(&identity));
        assert!(!Rule::Not(&Rule::Ip(NET)).allows(&identity));
        assert!(!Rule::Ip(NET).allows(&identity));
        assert!(!Rule::Country(&["DE"]).allows(&identity));
    }
}
