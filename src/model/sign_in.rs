//! A sign-in in progress, kept server-side while the browser walks through its steps.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The parameters Tessera reads; others are ignored, as OIDC Core §3.1.2.1 asks.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Params {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub display: Option<String>,
    pub acr_values: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub claims: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub response_mode: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Identify,
    Password,
    /// A code from the authenticator app, or a recovery code.
    SecondFactor,
    ChangePassword,
    /// Setting up an authenticator app, when a second factor is required and there is none.
    EnrolTotp,
    /// The recovery codes made at enrolment, shown once.
    RecoveryCodes,
    Consent,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Identify => "identify",
            Stage::Password => "password",
            Stage::SecondFactor => "second-factor",
            Stage::ChangePassword => "change-password",
            Stage::EnrolTotp => "enrol-totp",
            Stage::RecoveryCodes => "recovery-codes",
            Stage::Consent => "consent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Stage::Identify,
            Stage::Password,
            Stage::SecondFactor,
            Stage::ChangePassword,
            Stage::EnrolTotp,
            Stage::RecoveryCodes,
            Stage::Consent,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A pending sign-in as stored (its handle only as a hash, beside it).
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    pub id: Uuid,
    pub client_id: String,
    pub params: Params,
    pub user_id: Option<Uuid>,
    pub stage: Stage,
    /// What the person has proven so far in this sign-in (RFC 8176 `amr` values).
    pub amr: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
