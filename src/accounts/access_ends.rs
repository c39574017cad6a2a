//! Access until: an end date on a user (agency nurses, locum doctors, students). From
//! that moment sign-in and tokens refuse the user, and within seconds a sweep on any
//! node disables it, with everything disabling implies (sessions end, grants are
//! revoked, apps are told). The sweep's update is conditional, so of several nodes
//! only one disables and audits each user.
use super::users::{By, activation_changed};
use super::{AccountsError, User};
use crate::audit::Actor;
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::sync::watch;

/// How often each node looks for access that has ended.
pub const EVERY: Duration = Duration::from_secs(15);
const BATCH: u64 = 100;

/// Sets or clears the end of a user's access; audited.
pub async fn set(svc: &Services, user: &User, until: Option<DateTime<Utc>>, by: &By) -> Result<(), AccountsError> {
    let now = svc.now();
    if until.is_some_and(|t| t <= now) {
        return Err(AccountsError::invalid(
            "access until",
            "the end of access must be in the future; to end it now, disable the user",
        ));
    }
    if user.access_until == until {
        return Ok(());
    }
    let tx = svc.store.begin().await?;
    store::users::set_access_until(&tx, user.id, until, now).await?;
    let detail = serde_json::json!({ "from": user.access_until, "to": until });
    crate::audit::record(&tx, &by.event("user.access_until", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Disables every enabled user whose access has ended; returns how many this call did.
pub async fn end_due(svc: &Services) -> Result<usize, StoreError> {
    let by = By::new(&Actor::system());
    let mut ended = 0;
    loop {
        let now = svc.now();
        let due = store::users::access_ended(svc.store.conn(), now, BATCH).await?;
        if due.is_empty() {
            return Ok(ended);
        }
        let mut progressed = false;
        for user in due {
            let tx = svc.store.begin().await?;
            if store::users::disable_if_access_ended(&tx, user.id, now).await? {
                activation_changed(&tx, &user, false, &by, now).await?;
                ended += 1;
                progressed = true;
            }
            tx.commit().await?;
        }
        if !progressed {
            return Ok(ended);
        }
    }
}

/// The sweep, until `stop`.
pub async fn run(svc: Services, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match end_due(&svc).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(users = n, "access ended: users disabled"),
            Err(e) => tracing::warn!(error = %e, "could not end access that is due; trying again"),
        }
    }
}
