//! What a user's consent to a client produced: the grant, its single-use code, and the
//! refresh tokens issued under it, as the store keeps them.
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Grant {
    pub id: Uuid,
    pub client_id: String,
    /// None only for grants to a client itself (client credentials).
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub scope: String,
    /// The `claims` request parameter (OIDC Core §5.5), as the client sent it.
    pub claims: Option<serde_json::Value>,
    pub auth_time: Option<DateTime<Utc>>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    /// SHA-256 of the code; the code itself is only in the redirect.
    pub code_hash: Vec<u8>,
    pub grant_id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub token_hash: Vec<u8>,
    pub grant_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set when used up without a successor: presenting it again is reuse.
    pub used_at: Option<DateTime<Utc>>,
    /// The token this one replaced.
    pub rotated_from: Option<Vec<u8>>,
}

/// A client told to end its sessions of a user, as a grant revocation reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToTell {
    pub client_id: String,
    pub backchannel_logout_uri: Option<String>,
    pub session_id: Option<Uuid>,
}
