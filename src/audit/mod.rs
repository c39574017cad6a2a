//! Append-only audit events: who did what to whom, when, from where, and how it ended.
//! Events are written in the transaction of the change they describe; events about
//! no other write (a token issued) go through `batch`, which commits them in groups.
pub mod batch;
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};

pub use crate::model::audit::{Actor, ActorKind, AuditQuery, Event, Outcome, StoredEvent, Target};

pub async fn record(c: &impl store::Conn, event: &Event, at: DateTime<Utc>) -> Result<(), StoreError> {
    store::audit::append(c, event, at).await
}

pub async fn search(c: &impl store::Conn, q: &AuditQuery) -> Result<Vec<StoredEvent>, StoreError> {
    store::audit::search(c, q).await
}

pub async fn recent(c: &impl store::Conn, target_id: Option<&str>, limit: u64) -> Result<Vec<StoredEvent>, StoreError> {
    store::audit::recent(c, target_id, limit).await
}
