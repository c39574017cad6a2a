//! A registered SCIM client, its rights and its request log, as stored.
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct ClientRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub groups: Vec<Uuid>,
    /// Registered with groups: sees what is inside them, and nothing once none is left.
    pub limited_to_groups: bool,
    #[serde(flatten)]
    pub rights: ClientRights,
}

/// What a client may do beyond provisioning ordinary staff; both off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClientRights {
    /// May change the password, state, sign-in names or existence of users who hold
    /// admin rights (the admin role, or admin of any group).
    pub manage_admins: bool,
    /// May set passwords (Okta password sync). HR feeds and Entra ID send none.
    pub set_passwords: bool,
    /// Users it creates get no invite mail: they sign in elsewhere (off: an active
    /// user it creates with an address and no password is invited).
    pub no_invites: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub error: Option<String>,
    pub summary: Option<String>,
}
