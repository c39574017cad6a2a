//! A browser where a user has signed in before (OWASP's device cookie), with its own
//! count of that user's failed sign-ins.
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct KnownDevice {
    pub id: Uuid,
    pub user_id: Uuid,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub lockouts: i32,
    pub last_seen_at: DateTime<Utc>,
}
