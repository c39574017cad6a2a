//! An SSO session: a browser's sign-in at Tessera.
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub auth_time: DateTime<Utc>,
    pub acr: String,
    pub amr: Vec<String>,
}
