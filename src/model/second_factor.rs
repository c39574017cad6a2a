//! Second factors as stored: a TOTP key (sealed) and its replay guard.
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct TotpKey {
    pub user_id: Uuid,
    /// The key, sealed with a key derived from the server's secret.
    pub sealed: Vec<u8>,
    /// None while enrolment waits for the first code.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_used_step: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// While unconfirmed: the sign-in or session that started setting it up.
    pub bound_to: Option<Uuid>,
}

/// A passkey as stored: the credential as webauthn-rs keeps it (JSON), with its name.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// base64url, as browsers give it in `id`.
    pub credential_id: String,
    pub credential: String,
    pub backup_eligible: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}
