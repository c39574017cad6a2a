//! Getting back into an account (seeds 001–003): a reset link by mail, asked for by
//! the person ("Forgot your password?") or sent by an admin; an admin's temporary
//! password, shown once and optionally mailed; and an admin's unlock.
use super::tokens::{self, Purpose};
use super::users::{self, By};
use super::{AccountsError, User, invites, password};
use crate::audit::{self, Actor, Event, Target};
use crate::mail::{self, messages};
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

/// A reset link on its way.
#[derive(Debug, Clone, Serialize)]
pub struct ResetLink {
    pub mail_id: Uuid,
    pub to: String,
    pub expires_at: DateTime<Utc>,
}

/// A temporary password an admin set: the password itself exists only here.
pub struct Temporary {
    pub user: User,
    pub password: String,
    pub expires_at: DateTime<Utc>,
    pub mail_id: Option<Uuid>,
}

/// One person's reset mails are this far apart at least, and at most `PER_DAY` a day,
/// however often they are asked for: a stranger cannot fill someone's mailbox from the
/// forgot-password form.
fn between_requests() -> Duration {
    Duration::minutes(2)
}
const PER_DAY: u64 = 5;

/// Issues a reset link (voiding older ones) and queues its mail, inside the caller's
/// transaction. Refused for users mail may not go to.
pub async fn send_link(
    c: &impl store::Conn,
    svc: &Services,
    user: &User,
    by: &By,
    now: DateTime<Utc>,
) -> Result<ResetLink, AccountsError> {
    let to = mail::address_of(user)?.to_string();
    store::outbox::cancel_purpose(c, user.id, "reset", "a newer reset link replaced it").await?;
    let issued = tokens::issue(
        c,
        Purpose::Reset,
        Some(user.id),
        now,
        svc.settings().reset_link_lifetime,
    )
    .await?;
    let link = format!("{}/reset?token={}", svc.config.base_url(), issued.secret);
    let message = messages::reset_link(&svc.settings(), user, &link, issued.token.expires_at)?;
    let queued = mail::queue_link_for_user(c, now, "reset", user, message, issued.token.id).await?;
    let expires_at = issued.token.expires_at;
    let detail = serde_json::json!({ "mail": queued.id, "to": to, "expires_at": expires_at });
    audit::record(c, &by.event("user.reset_link", user).with_detail(detail), now).await?;
    Ok(ResetLink {
        mail_id: queued.id,
        to,
        expires_at,
    })
}

/// An admin mails a user a reset link (`tessera user reset-password --link`).
pub async fn mail_link(svc: &Services, by: &By, username: &str) -> Result<ResetLink, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let user = find(&tx, username).await?;
    let sent = send_link(&tx, svc, &user, by, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(sent)
}

async fn find(c: &impl store::Conn, username: &str) -> Result<User, AccountsError> {
    store::users::find_by_username(c, username)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))
}

/// "Forgot your password?": the work happens after the answer, so the answer is the
/// same, in the same time, whether the account exists, is disabled or has no address.
pub fn forgotten(svc: &Services, identifier: &str, source_ip: Option<String>) {
    let svc = svc.clone();
    let identifier = identifier.trim().to_string();
    tokio::spawn(async move {
        if let Err(e) = request(&svc, &identifier, source_ip).await {
            tracing::warn!(error = %e, "a forgotten-password request failed");
        }
    });
}

async fn request(svc: &Services, identifier: &str, source_ip: Option<String>) -> Result<(), AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let user = store::users::find_by_login(&tx, identifier).await?;
    if let Some(u) = &user {
        // Concurrent requests for one person take turns, so only one mail goes out.
        store::users::hold(&tx, u.id).await?;
    }
    let by = By {
        actor: Actor::anonymous(),
        source_ip,
    };
    let refusal = match &user {
        None => Some("unknown user"),
        Some(u) if !u.active => Some("disabled"),
        Some(u) if u.email.is_none() => Some("no address"),
        Some(u) if store::tokens::issued_since(&tx, Purpose::Reset, u.id, now - between_requests()).await? > 0 => {
            Some("a link was sent moments ago")
        }
        Some(u)
            if store::tokens::issued_since(&tx, Purpose::Reset, u.id, now - Duration::days(1)).await? >= PER_DAY =>
        {
            Some("the day's reset links were sent")
        }
        Some(_) => None,
    };
    match (user, refusal) {
        (Some(user), None) => {
            send_link(&tx, svc, &user, &by, now).await?;
        }
        (user, reason) => {
            let target = user.as_ref().map(|u| Target::user(u.id, &u.username));
            let detail = serde_json::json!({ "identifier": identifier, "reason": reason });
            let event = Event::new(&by.actor, "user.reset_link", target)
                .failed()
                .from_ip(by.source_ip.clone())
                .with_detail(detail);
            audit::record(&tx, &event, now).await?;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(())
}

/// The user a still-good reset link is for; the link counts as opened from now on.
pub async fn open(svc: &Services, secret: &str) -> Result<Option<User>, AccountsError> {
    Ok(tokens::open_link(svc.store.conn(), secret, Purpose::Reset, svc.now(), |u| u.active).await?)
}

/// The person chose a new password through the link: it is set (policy enforced), the
/// link used up, every sign-in ended (sessions, refresh tokens, apps told), the account
/// unlocked, and "your password was changed" mailed. The person then signs in anew,
/// second factor included: a link proves the mailbox, not the person.
pub async fn complete(
    svc: &Services,
    secret: &str,
    new_password: &str,
    source_ip: Option<String>,
) -> Result<User, AccountsError> {
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
    let token = tokens::consume(&tx, secret, Purpose::Reset, now)
        .await?
        .ok_or(AccountsError::InvalidToken)?;
    let user = tokens::holder(&tx, &token, |u| u.active)
        .await?
        .ok_or(AccountsError::InvalidToken)?;
    new_password_set(&tx, &user, &hash, None, now).await?;
    if user.mail_address().is_some() {
        let message = messages::password_changed(&svc.settings(), &user, now)?;
        mail::queue_for_user(&tx, now, "password_changed", &user, message).await?;
    }
    let by = By {
        actor: Actor::user(user.id, &user.username),
        source_ip,
    };
    audit::record(&tx, &by.event("user.password_reset", &user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(user)
}

/// What any new password set for a user brings, inside the caller's transaction: the
/// lockouts end, links that would set another are voided, every sign-in ends.
async fn new_password_set(
    c: &impl store::Conn,
    user: &User,
    hash: &str,
    temporary_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store::users::set_password(c, user.id, hash, temporary_until, now).await?;
    store::devices::clear_for_user(c, user.id).await?;
    store::second_factors::delete_unconfirmed(c, user.id).await?;
    store::tokens::void_live(c, Purpose::Reset, Some(user.id), now).await?;
    store::outbox::cancel_purpose(c, user.id, "reset", "a new password was set").await?;
    invites::void(c, user.id, "a password was set", now).await?;
    users::on_password_changed(c, user.id, now).await
}

/// An admin gives a user a temporary password (seed 001, option C): shown once, never
/// stored in clear or logged, to be changed at the next sign-in, and good for
/// `temporary_password_lifetime` only. With `send`, it is mailed to the user as well.
pub async fn temporary(svc: &Services, by: &By, username: &str, send: bool) -> Result<Temporary, AccountsError> {
    let user = find(svc.store.conn(), username).await?;
    if send {
        // Refused before anything changes: disabled, or no address.
        mail::address_of(&user)?;
    }
    let temporary = users::temporary_password();
    let hash = password::hash(temporary.clone()).await?;
    let now = svc.now();
    let expires_at = now + svc.settings().temporary_password_lifetime;
    let tx = svc.store.begin().await?;
    let mut user = find(&tx, username).await?;
    new_password_set(&tx, &user, &hash, Some(expires_at), now).await?;
    user.password_hash = Some(hash);
    user.must_change_password = true;
    user.password_expires_at = Some(expires_at);
    (user.failed_logins, user.locked_until, user.lockouts) = (0, None, 0);
    let mail_id = match send {
        true => {
            let message = messages::access_information(&svc.settings(), &user, &temporary, expires_at)?;
            Some(
                mail::queue_for_user(&tx, now, "temporary_password", &user, message)
                    .await?
                    .id,
            )
        }
        false => None,
    };
    let detail = serde_json::json!({ "expires_at": expires_at, "mailed": send });
    audit::record(
        &tx,
        &by.event("user.password_temporary", &user).with_detail(detail),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    if send {
        svc.mail_wake.notify_one();
    }
    Ok(Temporary {
        user,
        password: temporary,
        expires_at,
        mail_id,
    })
}

/// An admin ends a user's lockouts at once (`tessera user unlock`), in every browser.
pub async fn unlock(svc: &Services, by: &By, username: &str) -> Result<User, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let mut user = find(&tx, username).await?;
    store::users::unlock(&tx, user.id).await?;
    store::devices::clear_for_user(&tx, user.id).await?;
    let detail = serde_json::json!({ "was_locked_until": user.locked_until.filter(|u| *u > now) });
    audit::record(&tx, &by.event("user.unlock", &user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    user.failed_logins = 0;
    user.locked_until = None;
    user.lockouts = 0;
    Ok(user)
}

/// Voids a user's reset links and cancels reset mail not yet sent (their address
/// changed: the link went to the old one). Inside the caller's transaction.
pub async fn void(c: &impl store::Conn, user_id: Uuid, reason: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    store::tokens::void_live(c, Purpose::Reset, Some(user_id), now).await?;
    store::outbox::cancel_purpose(c, user_id, "reset", reason).await?;
    Ok(())
}
