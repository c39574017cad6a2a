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
    ChangePassword,
    Consent,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Identify => "identify",
            Stage::Password => "password",
            Stage::ChangePassword => "change-password",
            Stage::Consent => "consent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Stage::Identify, Stage::Password, Stage::ChangePassword, Stage::Consent]
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
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
