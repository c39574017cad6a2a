//! Checking a password at sign-in: constant-time misses, lockout after repeated
//! failures, rehash when the stored hash's parameters are outdated.
use super::password::{self, Verified};
use super::{AccountsError, User, UserState};
use crate::audit::{self, Actor, Event, Target};
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::{DateTime, Duration, Utc};

/// Failed sign-ins in a row that lock an account, and for how long.
pub const LOCKOUT_THRESHOLD: i32 = 10;
pub fn lockout_duration() -> Duration {
    Duration::minutes(15)
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, disabled, or no password yet: deliberately one case.
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("account locked until {0}")]
    Locked(DateTime<Utc>),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        LoginError::Accounts(e.into())
    }
}

pub async fn check_password(
    svc: &Services,
    identifier: &str,
    password_text: &str,
    source_ip: Option<String>,
) -> Result<User, LoginError> {
    let now = svc.now();
    let identifier = identifier.trim();
    let found = store::users::find_by_login(svc.store.reader(), identifier).await?;
    let fail = |user: Option<&User>, reason: &str| {
        let target = user.map(|u| Target::user(u.id, &u.username));
        Event::new(&Actor::anonymous(), "login.password", target)
            .failed()
            .from_ip(source_ip.clone())
            .with_detail(serde_json::json!({ "identifier": identifier, "reason": reason }))
    };

    let Some(user) = found else {
        password::verify_dummy(password_text.to_string()).await?;
        audit::record(svc.store.conn(), &fail(None, "unknown user"), now).await?;
        return Err(LoginError::InvalidCredentials);
    };
    let (stored_hash, refusal) = match (user.state(now), &user.password_hash) {
        (UserState::Disabled, _) => (None, Some("disabled")),
        (UserState::Locked, _) => (None, Some("locked")),
        (_, None) => (None, Some("no password set")),
        (_, Some(h)) => (Some(h.clone()), None),
    };
    let Some(stored_hash) = stored_hash else {
        password::verify_dummy(password_text.to_string()).await?;
        let reason = refusal.unwrap_or("refused");
        audit::record(svc.store.conn(), &fail(Some(&user), reason), now).await?;
        return match (reason, user.locked_until) {
            ("locked", Some(until)) => Err(LoginError::Locked(until)),
            _ => Err(LoginError::InvalidCredentials),
        };
    };

    match password::verify(password_text.to_string(), stored_hash).await? {
        Verified::No => {
            let tx = svc.store.begin().await?;
            let failures = store::users::increment_failed_logins(&tx, user.id).await?;
            audit::record(&tx, &fail(Some(&user), "wrong password"), now).await?;
            let locked = failures >= LOCKOUT_THRESHOLD;
            if locked {
                let until = now + lockout_duration();
                store::users::lock_until(&tx, user.id, until).await?;
                audit::record(
                    &tx,
                    &Event::new(
                        &Actor::system(),
                        "user.lock",
                        Some(Target::user(user.id, &user.username)),
                    )
                    .with_detail(serde_json::json!({ "until": until, "failures": failures })),
                    now,
                )
                .await?;
            }
            tx.commit().await.map_err(StoreError::from)?;
            Err(LoginError::InvalidCredentials)
        }
        Verified::Yes { rehash } => {
            let event = Event::new(
                &Actor::user(user.id, &user.username),
                "login.password",
                Some(Target::user(user.id, &user.username)),
            )
            .from_ip(source_ip.clone())
            .with_detail(serde_json::json!({ "rehashed": rehash.is_some() }));
            let mut user = user;
            if user.failed_logins == 0 && user.locked_until.is_none() && rehash.is_none() {
                // Nothing to reset: the usual case writes only the audit event, grouped.
                svc.audit.record(event, now).await?;
                return Ok(user);
            }
            let tx = svc.store.begin().await?;
            store::users::record_successful_login(&tx, user.id, rehash.clone()).await?;
            audit::record(&tx, &event, now).await?;
            tx.commit().await.map_err(StoreError::from)?;
            user.failed_logins = 0;
            user.locked_until = None;
            if let Some(hash) = rehash {
                user.password_hash = Some(hash);
            }
            Ok(user)
        }
    }
}
