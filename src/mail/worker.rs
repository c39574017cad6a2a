//! Delivers the outbox. Any number of nodes may run a worker: a claim in the
//! database lets exactly one of them send each mail.
use super::transport::Transport;
use super::{MailStatus, OutboxMail};
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::Duration;
use std::time::Duration as StdDuration;
use tokio::sync::watch;
use uuid::Uuid;

/// After this many attempts a mail is failed for good and shown as such.
pub const MAX_ATTEMPTS: i32 = 10;

/// How long a claim lasts: a node that dies mid-send frees its mail after this.
pub fn claim_lease() -> Duration {
    Duration::minutes(5)
}

/// 30 s, 1 min, 2 min, ... capped at 1 hour: about 4 hours of retrying in all.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) - 1;
    Duration::seconds((30i64 << exp).min(3600))
}

pub struct Worker {
    pub svc: Services,
    pub transport: Transport,
    /// How often to look for due mail besides being woken (retries, other nodes' mail).
    pub poll: StdDuration,
}

impl Worker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(transport = %self.transport.describe(), "mail worker started");
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "mail worker: could not read the outbox");
            }
            tokio::select! {
                _ = self.svc.mail_wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!("mail worker stopped");
    }

    pub async fn deliver_due(&self) -> Result<(), StoreError> {
        let due = store::outbox::due(self.svc.store.conn(), self.svc.now(), 50).await?;
        for id in due {
            self.deliver(id).await?;
        }
        Ok(())
    }

    /// Claims and sends one mail; returns its status afterwards, or None when
    /// it was not due or another worker had it.
    pub async fn deliver(&self, id: Uuid) -> Result<Option<OutboxMail>, StoreError> {
        let now = self.svc.now();
        match store::outbox::claim(self.svc.store.conn(), id, now, now + claim_lease()).await? {
            Some(mail) => self.send_claimed(mail).await,
            None => Ok(None),
        }
    }

    /// Sends a mail this worker holds the claim on and records the outcome.
    pub async fn send_claimed(&self, mail: OutboxMail) -> Result<Option<OutboxMail>, StoreError> {
        let conn = self.svc.store.conn();
        let (id, now) = (mail.id, self.svc.now());
        // The rule "only to active users" is checked again at sending time: the user
        // may have been disabled or deleted since the mail was queued.
        if let Some(user_id) = mail.user_id {
            let user = store::users::find_by_id(conn, user_id).await?;
            if user.as_ref().and_then(|u| u.mail_address()).is_none() {
                let reason = "recipient is no longer active";
                store::outbox::finish(conn, id, MailStatus::Cancelled, None, Some(reason), now).await?;
                return store::outbox::find(conn, id).await;
            }
        }
        let result = self.transport.send(&self.svc.config.mail_from, &mail).await;
        let now = self.svc.now();
        match result {
            Ok(()) => {
                tracing::info!(mail_id = %id, purpose = %mail.purpose, "mail sent");
                store::outbox::finish(conn, id, MailStatus::Sent, None, None, now).await?;
            }
            Err(e) if e.permanent || mail.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(mail_id = %id, attempts = mail.attempts, error = %e.message, "mail failed for good");
                store::outbox::finish(conn, id, MailStatus::Failed, None, Some(&e.message), now).await?;
            }
            Err(e) => {
                let next = now + backoff(mail.attempts);
                tracing::warn!(mail_id = %id, attempts = mail.attempts, retry_at = %next, error = %e.message, "mail not sent; will retry");
                store::outbox::finish(conn, id, MailStatus::Queued, Some(next), Some(&e.message), now).await?;
            }
        }
        store::outbox::find(conn, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(7), Duration::seconds(1920));
        assert_eq!(backoff(8), Duration::seconds(3600));
        assert_eq!(backoff(50), Duration::seconds(3600));
    }
}
