//! OpenID Connect provider: clients, keys, authorization requests, grants, tokens.
//! No HTTP here: `http::oidc` turns these results into responses.
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod client_cache;
pub mod client_edits;
pub mod clients;
pub mod console;
pub mod discovery;
pub mod grants;
pub mod introspection;
pub mod jwks;
pub mod key_set;
pub mod logout;
pub mod provider;
pub mod purge;
pub mod redirect;
pub mod request_limits;
pub mod revocation;
pub mod signin;
pub mod signing_keys;
pub mod tokens;
pub mod userinfo;

use crate::accounts::AccountsError;
use crate::store::StoreError;
use chrono::Duration;

pub use provider::Provider;
pub use signing_keys::Keys;

pub fn code_lifetime() -> Duration {
    Duration::seconds(60)
}
pub fn access_token_lifetime() -> Duration {
    Duration::minutes(10)
}
pub fn id_token_lifetime() -> Duration {
    Duration::hours(1)
}
pub fn refresh_token_lifetime() -> Duration {
    Duration::days(30)
}
/// How long a started sign-in may wait for the user.
pub fn pending_request_lifetime() -> Duration {
    Duration::minutes(30)
}

/// An OAuth error (RFC 6749 §5.2 and friends), or a failure of Tessera itself.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("{code}: {description}")]
    Protocol {
        code: &'static str,
        description: String,
        status: u16,
    },
    /// A bearer token that is missing, expired or revoked (RFC 6750 §3.1).
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl OidcError {
    fn protocol(code: &'static str, status: u16, description: impl Into<String>) -> Self {
        OidcError::Protocol {
            code,
            description: description.into(),
            status,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::protocol("invalid_request", 400, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::protocol("invalid_client", 401, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::protocol("invalid_grant", 400, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::protocol("unauthorized_client", 400, d)
    }
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::protocol("unsupported_grant_type", 400, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::protocol("invalid_scope", 400, d)
    }
}

impl From<AccountsError> for OidcError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::Store(s) => OidcError::Store(s),
            other => OidcError::Internal(other.to_string()),
        }
    }
}

/// Space-separated scope values, deduplicated, in the order given.
pub fn scope_list(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// A scope-token (RFC 6749 §3.3): printable ASCII without space, `"` or `\`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// The scopes Tessera knows; others are dropped from what is granted.
pub const SCOPES: [&str; 7] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "groups",
    "offline_access",
];
