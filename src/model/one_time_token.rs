//! One-time tokens (setup, invite and reset links) as stored, without their secret.
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The first admin's account, offered at start-up while no admin can sign in.
    Setup,
    /// A new user chooses a password.
    Invite,
    /// A user who forgot their password chooses a new one.
    Reset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Setup => "setup",
            Purpose::Invite => "invite",
            Purpose::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OneTimeToken {
    pub id: Uuid,
    pub purpose: Purpose,
    pub user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
