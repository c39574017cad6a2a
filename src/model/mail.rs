//! Outbox mail as stored: what was sent to whom, and how delivery went.
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    Queued,
    Sending,
    Sent,
    Failed,
    Cancelled,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sending => "sending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Cancelled => "cancelled",
        }
    }

    /// Unknown text reads as failed, so a bad row is shown, never re-sent.
    pub fn parse(text: &str) -> Self {
        match text {
            "queued" => MailStatus::Queued,
            "sending" => MailStatus::Sending,
            "sent" => MailStatus::Sent,
            "cancelled" => MailStatus::Cancelled,
            _ => MailStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxMail {
    pub id: Uuid,
    pub purpose: String,
    pub user_id: Option<Uuid>,
    pub to_address: String,
    pub subject: String,
    #[serde(skip)]
    pub body_text: String,
    #[serde(skip)]
    pub body_html: Option<String>,
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The one-time token whose link the mail carries.
    #[serde(skip)]
    pub token_id: Option<Uuid>,
}

/// What became of the link a mail carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// Not opened yet, still good.
    Unopened,
    /// Its page was shown; not used yet, still good.
    Opened,
    /// Used: the password was chosen.
    Accepted,
    Expired,
    /// A newer link replaced it.
    Voided,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub state: LinkState,
    pub expires_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
}

/// A mail sent to a user, with what became of its link.
#[derive(Debug, Clone, Serialize)]
pub struct SentMail {
    #[serde(flatten)]
    pub mail: OutboxMail,
    pub link: Option<Link>,
}
