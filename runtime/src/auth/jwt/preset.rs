//! Where well-known identity providers put roles, scopes and permissions (the table in
//! `docs/wire-contract.md`), so an application names its provider instead of
//! reverse-engineering its tokens.

use super::{JwtAuthenticatorBuilder, TokenType};
use crate::identity::claims::ClaimPath;
use crate::refusal::TokenProblem;

/// Claim locations and token rules of a well-known identity provider; apply one with
/// [`JwtAuthenticatorBuilder::preset`].
///
/// A preset sets where roles, scopes and permissions are read and which `typ` is accepted; the
/// issuer, keys and audience stay the application's to configure.
///
/// | preset | roles | scopes | permissions | other rules |
/// |---|---|---|---|---|
/// | [`keycloak`](Self::keycloak) | `realm_access.roles`, `resource_access.<client>.roles` | `scope` | – | |
/// | [`auth0`](Self::auth0) | a namespaced claim such as `https://example.com/roles` | `scope` | `permissions` | |
/// | [`okta`](Self::okta) | `groups` | `scp` (array) | – | |
/// | [`entra_id`](Self::entra_id) | `roles` | `scp` (string) | – | |
/// | [`cognito`](Self::cognito) | `cognito:groups` | `scope` | – | `token_use` = `access`, `client_id` instead of `aud` |
/// | [`rfc9068`](Self::rfc9068) | `roles`, `groups` | `scope` | `entitlements` | `typ` = `at+jwt`, audience required |
///
/// ```
/// use route_guard::{Jwks, JwtAuthenticator, Preset};
///
/// let jwt = JwtAuthenticator::builder()
///     .preset(Preset::keycloak("my-app"))
///     .jwks(Jwks::discover("https://sso.example.com/realms/acme"))
///     .audience("my-app")
///     .build()?;
/// # Ok::<(), route_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Preset {
    roles: Vec<ClaimPath>,
    scopes: ClaimPath,
    permissions: Option<ClaimPath>,
    token_type: TokenType,
    requirements: Vec<(ClaimPath, Vec<String>, TokenProblem)>,
    audience_required: bool,
}

impl Preset {
    fn new(roles: Vec<ClaimPath>, scopes: &str) -> Self {
        Preset {
            roles,
            scopes: ClaimPath::key(scopes),
            permissions: None,
            token_type: TokenType::Default,
            requirements: Vec::new(),
            audience_required: false,
        }
    }

    /// Keycloak: realm roles from `realm_access.roles` and the roles of `client_id` from
    /// `resource_access.<client_id>.roles` (the client id is taken literally, dots and all).
    pub fn keycloak(client_id: &str) -> Self {
        Preset::new(
            vec![
                ClaimPath::segments(["realm_access", "roles"]),
                ClaimPath::segments(["resource_access", client_id, "roles"]),
            ],
            "scope",
        )
    }

    /// Keycloak realm roles only (`realm_access.roles`).
    pub fn keycloak_realm() -> Self {
        Preset::new(
            vec![ClaimPath::segments(["realm_access", "roles"])],
            "scope",
        )
    }

    /// Auth0: roles from the namespaced claim an Auth0 Action adds (a URL such as
    /// `https://example.com/roles`, taken literally), permissions from `permissions` (Auth0
    /// RBAC with "Add Permissions in the Access Token").
    pub fn auth0(roles_claim: &str) -> Self {
        let mut preset = Preset::new(vec![ClaimPath::key(roles_claim)], "scope");
        preset.permissions = Some(ClaimPath::key("permissions"));
        preset
    }

    /// Okta: roles from `groups` (when a groups claim is configured), scopes from the `scp`
    /// array.
    pub fn okta() -> Self {
        Preset::new(vec![ClaimPath::key("groups")], "scp")
    }

    /// Microsoft Entra ID: app roles from `roles`, delegated scopes from the space-separated
    /// `scp`. Group object ids in `groups` are not roles and are left alone.
    pub fn entra_id() -> Self {
        Preset::new(vec![ClaimPath::key("roles")], "scp")
    }

    /// AWS Cognito access tokens: roles from `cognito:groups`, scopes from `scope`. Cognito
    /// access tokens carry no `aud`, so `token_use` must be `access` and `client_id` one of
    /// `client_ids` instead; do not configure an audience.
    pub fn cognito<I, S>(client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut preset = Preset::new(vec![ClaimPath::key("cognito:groups")], "scope");
        let ids = client_ids.into_iter().map(Into::into).collect();
        preset.requirements = vec![
            (
                ClaimPath::key("token_use"),
                vec!["access".to_owned()],
                TokenProblem::WrongType,
            ),
            (
                ClaimPath::key("client_id"),
                ids,
                TokenProblem::WrongAudience,
            ),
        ];
        preset
    }

    /// An RFC 9068 issuer of JWT access tokens: `typ` must be `at+jwt`, an audience must be
    /// configured (§4), roles come from `roles` and `groups`, permissions from `entitlements`
    /// (§2.2.3.1).
    pub fn rfc9068() -> Self {
        let mut preset = Preset::new(
            vec![ClaimPath::key("roles"), ClaimPath::key("groups")],
            "scope",
        );
        preset.permissions = Some(ClaimPath::key("entitlements"));
        preset.token_type = TokenType::AccessToken;
        preset.audience_required = true;
        preset
    }
}

impl Preset {
    /// What an introspection answer takes of this preset: where roles and permissions are,
    /// its claim rules, and whether it needs an audience. Its `typ` rule has no header to apply
    /// to, and its scope claim is the JWT's: introspection answers carry RFC 7662's `scope`.
    #[cfg(feature = "introspection")]
    pub(crate) fn for_introspection(self) -> PresetClaims {
        PresetClaims {
            roles: self.roles,
            permissions: self.permissions,
            requirements: self.requirements,
            audience_required: self.audience_required,
        }
    }
}

/// The parts of a [`Preset`] an introspection answer uses.
#[cfg(feature = "introspection")]
pub(crate) struct PresetClaims {
    pub(crate) roles: Vec<ClaimPath>,
    pub(crate) permissions: Option<ClaimPath>,
    pub(crate) requirements: Vec<(ClaimPath, Vec<String>, TokenProblem)>,
    pub(crate) audience_required: bool,
}

impl JwtAuthenticatorBuilder {
    /// Reads roles, scopes and permissions where `preset`'s provider puts them, with its token
    /// rules. Later calls to [`roles_claim`](Self::roles_claim) and the like override it.
    pub fn preset(mut self, preset: Preset) -> Self {
        let mut roles = preset.roles.into_iter();
        if let Some(first) = roles.next() {
            self = self.roles_claim(first);
        }
        self.extras.more_roles = roles.collect();
        self = self
            .scopes_claim(preset.scopes)
            .token_type(preset.token_type);
        if let Some(permissions) = preset.permissions {
            self = self.permissions_claim(permissions);
        }
        for (path, allowed, problem) in preset.requirements {
            self = self.requirement(path, allowed, problem);
        }
        self.extras.audience_required |= preset.audience_required;
        self
    }
}
