//! A group (clinic, site, department) as stored.
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: Uuid,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A member of a group: a user or a nested group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberKind {
    User,
    Group,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    pub kind: MemberKind,
}
