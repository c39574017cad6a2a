//! Where mail goes: an SMTP server (lettre), or `.eml` files when none is configured.
use super::OutboxMail;
use crate::config::Config;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl Transport {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        match &config.smtp_url {
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("TESSERA_SMTP_URL: {e}"))?;
                Ok(Transport::Smtp(builder.timeout(Some(Duration::from_secs(20))).build()))
            }
            None => Ok(Transport::Files(config.data_dir.join("mail"))),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    pub async fn send(&self, from: &Mailbox, mail: &OutboxMail) -> Result<(), SendError> {
        self.send_answered(from, mail).await.map(|_| ())
    }

    /// Sends, returning what the server answered ("250 2.0.0 Ok: queued as ...").
    pub async fn send_answered(&self, from: &Mailbox, mail: &OutboxMail) -> Result<String, SendError> {
        let message = build(from, mail)?;
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|r| format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")))
                .map_err(|e| SendError {
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                }),
            Transport::Files(dir) => {
                let transient = |e: std::io::Error| SendError {
                    message: format!("cannot write to {}: {e}", dir.display()),
                    permanent: false,
                };
                tokio::fs::create_dir_all(dir).await.map_err(transient)?;
                let path = dir.join(format!("{}.eml", mail.id));
                tokio::fs::write(&path, message.formatted()).await.map_err(transient)?;
                tracing::info!(path = %path.display(), "mail written to file (no TESSERA_SMTP_URL set)");
                Ok("no SMTP server is set (TESSERA_SMTP_URL): written to a file in the data directory".into())
            }
        }
    }
}

fn build(from: &Mailbox, mail: &OutboxMail) -> Result<Message, SendError> {
    let permanent = |message: String| SendError {
        message,
        permanent: true,
    };
    let to: Mailbox = mail
        .to_address
        .parse()
        .map_err(|_| permanent(format!("'{}' is not a valid address", mail.to_address)))?;
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body_text.clone());
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}@tessera>", mail.id)));
    let built = match &mail.body_html {
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone())),
        ),
        None => builder.singlepart(text),
    };
    built.map_err(|e| permanent(e.to_string()))
}
