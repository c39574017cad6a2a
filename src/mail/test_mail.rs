//! The console's "send a test mail": one mail straight to the SMTP server (not through
//! the outbox, so the answer can be shown at once), and what the server said.
use super::transport::Transport;
use crate::audit::{self, Actor, Event};
use crate::model::mail::{MailStatus, OutboxMail};
use crate::services::Services;
use crate::store::StoreError;
use uuid::Uuid;

/// How the test went, in the server's own words.
pub struct Answer {
    pub delivered: bool,
    pub text: String,
}

pub async fn send(svc: &Services, actor: &Actor, to: &str) -> Result<Answer, StoreError> {
    let now = svc.now();
    let organisation = svc.settings().organisation_name.clone();
    let mail = OutboxMail {
        id: Uuid::now_v7(),
        purpose: "test".into(),
        user_id: None,
        to_address: to.trim().to_string(),
        subject: format!("{organisation}: a test mail from Tessera"),
        body_text: format!(
            "This is a test mail, sent by {} from Tessera's admin console at {}.\n\nIf you can read it, \
             invites and reset links reach this address.\n",
            actor.label,
            now.format("%-d %b %Y, %H:%M UTC")
        ),
        body_html: None,
        status: MailStatus::Sending,
        attempts: 1,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
        token_id: None,
    };
    let answer = match Transport::from_config(&svc.config) {
        Err(e) => Answer {
            delivered: false,
            text: e,
        },
        Ok(transport) => match transport.send_answered(&svc.config.mail_from, &mail).await {
            Ok(text) => Answer { delivered: true, text },
            Err(e) => Answer {
                delivered: false,
                text: e.message,
            },
        },
    };
    let mut event = Event::new(actor, "mail.test", None)
        .with_detail(serde_json::json!({ "to": mail.to_address, "answer": answer.text }));
    if !answer.delivered {
        event = event.failed();
    }
    audit::record(svc.store.conn(), &event, now).await?;
    Ok(answer)
}
