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

/// Where a sign-in came from: the client address and the browser's own description.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// At most 256 characters of a User-Agent, without control characters.
    pub fn new(ip: Option<String>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(256).collect::<String>())
            .filter(|ua| !ua.is_empty());
        Origin { ip, user_agent }
    }
}

/// A live session as its owner sees it on the account page.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub auth_time: DateTime<Utc>,
    pub acr: String,
    pub origin: Origin,
}
