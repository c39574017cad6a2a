//! Invitations (seed 000): a new user gets a link by mail to choose a password; a
//! resend voids older links; the mail and what became of its link show per user.
use super::tokens::{self, Purpose};
use super::users::By;
use super::{AccountsError, User, password};
use crate::audit;
use crate::mail::{self, messages};
use crate::services::Services;
use crate::sessions;
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// An invite on its way: the mail in the outbox and until when its link is good.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub mail_id: Uuid,
    pub to: String,
    pub expires_at: DateTime<Utc>,
}

/// Issues a new invite link (voiding older ones) and queues its mail, inside the
/// caller's transaction. Refused for users mail may not go to, and for users who can
/// sign in already.
pub async fn send(
    c: &impl store::Conn,
    svc: &Services,
    user: &User,
    by: &By,
    now: DateTime<Utc>,
) -> Result<Invitation, AccountsError> {
    let to = mail::address_of(user)?.to_string();
    if user.password_hash.is_some() {
        return Err(AccountsError::invalid(
            "user",
            format!("{} has a password already and needs no invite", user.username),
        ));
    }
    // A mail still waiting would carry a link this one voids.
    store::outbox::cancel_purpose(c, user.id, "invite", "a newer invite replaced it").await?;
    let issued = tokens::issue(c, Purpose::Invite, Some(user.id), now, svc.settings().invite_lifetime).await?;
    let link = format!("{}/invite?token={}", svc.config.base_url(), issued.secret);
    let message = messages::invite(&svc.settings(), user, &link, issued.token.expires_at)?;
    let queued = mail::queue_link_for_user(c, now, "invite", user, message, issued.token.id).await?;
    let expires_at = issued.token.expires_at;
    audit::record(
        c,
        &by.event("user.invite", user)
            .with_detail(serde_json::json!({ "mail": queued.id, "to": to, "expires_at": expires_at })),
        now,
    )
    .await?;
    Ok(Invitation {
        mail_id: queued.id,
        to,
        expires_at,
    })
}

/// Sends a user a new invite (`tessera user invite`, later the console).
pub async fn resend(svc: &Services, by: &By, username: &str) -> Result<Invitation, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let user = store::users::find_by_username(&tx, username)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))?;
    let sent = send(&tx, svc, &user, by, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(sent)
}

/// The user a still-good invite link is for; the link counts as opened from now on.
pub async fn open(svc: &Services, secret: &str) -> Result<Option<User>, AccountsError> {
    Ok(tokens::open_link(svc.store.conn(), secret, Purpose::Invite, svc.now(), invitable).await?)
}

/// A user an invite may still be accepted for: active, not yet with a password.
fn invitable(u: &User) -> bool {
    u.active && u.password_hash.is_none()
}

/// The person chose a password through the link: it is set (policy enforced), the link
/// is used up and the user is signed in. Returns the user and the session cookie.
pub async fn accept(
    svc: &Services,
    secret: &str,
    new_password: &str,
    signed_in: Option<sessions::Session>,
    origin: &sessions::Origin,
) -> Result<(User, String), AccountsError> {
    let now = svc.now();
    // Checked before the costly hash, and again (atomically) when using the link up.
    let user = open(svc, secret).await?.ok_or(AccountsError::InvalidToken)?;
    password::check_policy(
        svc.settings().password_min_length,
        new_password,
        &user.username,
        user.email.as_deref(),
    )?;
    let hash = password::hash(new_password.to_string()).await?;
    let tx = svc.store.begin().await?;
    let token = tokens::consume(&tx, secret, Purpose::Invite, now)
        .await?
        .ok_or(AccountsError::InvalidToken)?;
    let user = tokens::holder(&tx, &token, invitable)
        .await?
        .ok_or(AccountsError::InvalidToken)?;
    if !store::users::set_first_password(&tx, user.id, &hash, now).await? {
        return Err(AccountsError::InvalidToken);
    }
    // Someone else signed in on this browser (a shared clinic PC) is signed out first.
    if let Some(other) = signed_in.filter(|s| s.user_id != user.id) {
        sessions::end(&tx, &other, now).await?;
    }
    let (_, cookie) = sessions::start(&tx, user.id, "pwd", &["pwd"], origin, now).await?;
    let by = By {
        actor: audit::Actor::user(user.id, &user.username),
        source_ip: origin.ip.clone(),
    };
    audit::record(&tx, &by.event("user.invite_accept", &user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((user, cookie))
}

/// Voids a user's invite links and cancels invite mail not yet sent: the user was
/// disabled, or their address changed (the link went to the old one). Inside the
/// caller's transaction.
pub async fn void(c: &impl store::Conn, user_id: Uuid, reason: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    store::tokens::void_live(c, Purpose::Invite, Some(user_id), now).await?;
    store::outbox::cancel_purpose(c, user_id, "invite", reason).await?;
    Ok(())
}

/// An admin cancels a user's invite: its link stops working and unsent invite mail is
/// cancelled; audited.
pub async fn cancel(svc: &Services, by: &By, user: &User) -> Result<(), AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    void(&tx, user.id, "the invite was cancelled", now).await?;
    audit::record(&tx, &by.event("user.invite_cancel", user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
