//! A token signing key as stored: its private part sealed by the caller.
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    /// The private key, encrypted with the configured secret.
    pub sealed: Vec<u8>,
    pub public_jwk: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// No longer signs; stays published until the tokens it signed have expired.
    pub retired_at: Option<DateTime<Utc>>,
}
