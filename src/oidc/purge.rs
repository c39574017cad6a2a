//! Housekeeping: rows that can no longer matter are deleted, so the tables the token
//! endpoint reads stay the size of what is live. Every node runs it; deletes are
//! idempotent.
//!
//! Expired refresh tokens and sessions, and codes never used, are kept a day past
//! expiry: a refresh token replayed in that time is still recognised as a replay (and
//! audited). A used code stays as long as its grant, so replaying it still revokes
//! what it issued; a grant outlives every access token issued under it.
use super::OidcError;
use crate::services::Services;
use crate::store;
use chrono::Duration;
use std::time::Duration as StdDuration;
use tokio::sync::watch;

/// How long an expired row is kept.
fn grace() -> Duration {
    Duration::days(1)
}

/// Delivered back-channel logouts are kept this long for whoever debugs a client's
/// logout endpoint; undelivered ones a while longer.
fn delivered_logouts_kept() -> Duration {
    Duration::days(7)
}
fn queued_logouts_kept() -> Duration {
    Duration::days(30)
}

const EVERY: StdDuration = StdDuration::from_secs(10 * 60);
/// Not at start-up itself: a restart is not the moment for a long delete.
const FIRST_AFTER: StdDuration = StdDuration::from_secs(60);

/// What one run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub unused_codes: u64,
    pub refresh_tokens: u64,
    pub grants: u64,
    pub sessions: u64,
    pub pending_sign_ins: u64,
    pub revoked_jtis: u64,
    pub backchannel_logouts: u64,
    pub known_devices: u64,
    pub passkey_challenges: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.unused_codes
            + self.refresh_tokens
            + self.grants
            + self.sessions
            + self.pending_sign_ins
            + self.revoked_jtis
            + self.backchannel_logouts
            + self.known_devices
            + self.passkey_challenges
    }
}

pub async fn run_once(svc: &Services) -> Result<Purged, OidcError> {
    let now = svc.now();
    let kept_until = now - grace();
    let (r, w) = (svc.store.reader(), svc.store.conn());
    Ok(Purged {
        unused_codes: store::purge::unused_codes(r, w, kept_until).await?,
        refresh_tokens: store::purge::refresh_tokens(r, w, kept_until).await?,
        // After the refresh tokens: a grant goes once its last one has.
        grants: store::purge::grants(r, w, kept_until).await?,
        sessions: store::purge::sessions(r, w, kept_until).await?,
        pending_sign_ins: store::purge::pending_sign_ins(r, w, now).await?,
        revoked_jtis: store::purge::revoked_jtis(r, w, now).await?,
        backchannel_logouts: store::purge::backchannel_logouts(
            r,
            w,
            now - delivered_logouts_kept(),
            now - queued_logouts_kept(),
        )
        .await?,
        known_devices: store::purge::known_devices(r, w, now - crate::accounts::devices::cookie_lifetime()).await?,
        passkey_challenges: store::purge::passkey_challenges(r, w, now).await?,
    })
}

/// Runs `run_once` every ten minutes until shutdown.
pub async fn run(svc: Services, mut shutdown: watch::Receiver<bool>) {
    let mut wait = FIRST_AFTER;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
        wait = EVERY;
        match run_once(&svc).await {
            Ok(purged) if purged.total() > 0 => tracing::info!(?purged, "expired sign-in and token rows deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not delete expired sign-in and token rows"),
        }
    }
}
