//! Mail: a durable outbox written in the transaction that causes the mail, and a
//! worker that delivers it (SMTP, or `.eml` files in development) with retries.
pub mod messages;
pub mod test_mail;
pub mod transport;
pub mod worker;

use crate::model::user::User;
use crate::services::Services;
use crate::store::{self, StoreError};
use askama::Template;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use crate::model::mail::{Link, LinkState, MailStatus, OutboxMail, SentMail};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the user has no email address: add one first")]
    NoAddress,
    #[error("mail goes only to active users; this user is disabled: enable them first")]
    RecipientInactive,
    #[error("'{0}' is not a valid mail address")]
    InvalidAddress(String),
    #[error("mail template failed: {0}")]
    Template(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A rendered message: subject, plain text and HTML.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

pub fn render(subject: impl Into<String>, text: &impl Template, html: &impl Template) -> Result<Rendered, MailError> {
    Ok(Rendered {
        subject: subject.into(),
        text: text.render().map_err(|e| MailError::Template(e.to_string()))?,
        html: Some(html.render().map_err(|e| MailError::Template(e.to_string()))?),
    })
}

#[derive(Template)]
#[template(path = "mail/test.txt")]
pub struct TestMailText<'a> {
    pub issuer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/test.html")]
pub struct TestMailHtml<'a> {
    pub issuer: &'a str,
}

/// One mail of the outbox, by id.
pub async fn find(svc: &Services, id: Uuid) -> Result<Option<OutboxMail>, StoreError> {
    store::outbox::find(svc.store.reader(), id).await
}

/// Writes a mail to the outbox inside the caller's transaction.
pub async fn queue(
    c: &impl store::Conn,
    now: DateTime<Utc>,
    purpose: &str,
    user_id: Option<Uuid>,
    to: &str,
    message: Rendered,
) -> Result<OutboxMail, MailError> {
    let mail = new_mail(now, purpose, user_id, to, message)?;
    store::outbox::insert(c, &mail, None).await?;
    Ok(mail)
}

/// Writes a mail already claimed by the caller until `claim_until`, for a sender that
/// attempts it at once (`tessera mail test`): no worker takes it unless that claim lapses.
pub async fn queue_claimed(
    c: &impl store::Conn,
    now: DateTime<Utc>,
    claim_until: DateTime<Utc>,
    purpose: &str,
    to: &str,
    message: Rendered,
) -> Result<OutboxMail, MailError> {
    let mut mail = new_mail(now, purpose, None, to, message)?;
    mail.status = MailStatus::Sending;
    mail.attempts = 1;
    store::outbox::insert(c, &mail, Some(claim_until)).await?;
    Ok(mail)
}

fn new_mail(
    now: DateTime<Utc>,
    purpose: &str,
    user_id: Option<Uuid>,
    to: &str,
    message: Rendered,
) -> Result<OutboxMail, MailError> {
    if to.parse::<lettre::Address>().is_err() {
        return Err(MailError::InvalidAddress(to.to_string()));
    }
    Ok(OutboxMail {
        id: Uuid::now_v7(),
        purpose: purpose.to_string(),
        user_id,
        to_address: to.to_string(),
        subject: message.subject,
        body_text: message.text,
        body_html: message.html,
        status: MailStatus::Queued,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
        token_id: None,
    })
}

/// Queues mail to a user, refusing users who are disabled or have no address.
pub async fn queue_for_user(
    c: &impl store::Conn,
    now: DateTime<Utc>,
    purpose: &str,
    user: &User,
    message: Rendered,
) -> Result<OutboxMail, MailError> {
    let to = address_of(user)?;
    queue(c, now, purpose, Some(user.id), to, message).await
}

/// Where mail to a user goes, or why none may: only active users with an address
/// are mailed (seed 001: "a valid email address, and the Is Active checkbox").
pub fn address_of(user: &User) -> Result<&str, MailError> {
    match (&user.email, user.active) {
        (None, _) => Err(MailError::NoAddress),
        (Some(_), false) => Err(MailError::RecipientInactive),
        (Some(e), true) => Ok(e),
    }
}

/// Queues a mail carrying the link of one-time token `token_id` to a user, so what
/// becomes of the link shows beside the mail.
pub async fn queue_link_for_user(
    c: &impl store::Conn,
    now: DateTime<Utc>,
    purpose: &str,
    user: &User,
    message: Rendered,
    token_id: Uuid,
) -> Result<OutboxMail, MailError> {
    let mut mail = new_mail(now, purpose, Some(user.id), address_of(user)?, message)?;
    mail.token_id = Some(token_id);
    store::outbox::insert(c, &mail, None).await?;
    Ok(mail)
}

/// The newest mail a user was sent (at most `limit`), each with what became of its link.
pub async fn history(svc: &Services, user_id: Uuid, limit: u64) -> Result<Vec<SentMail>, StoreError> {
    store::outbox::history_of(svc.store.reader(), user_id, svc.now(), limit).await
}
