//! Checking a password at sign-in: constant-time misses, lockout after repeated
//! failures (per browser the user is known in, else for all unknown browsers), rehash
//! when the stored hash's parameters are outdated.
use super::devices::{DeviceCookie, lockout_length};
use super::password::{self, Verified};
use super::{AccountsError, User};
use crate::audit::{self, Actor, Event, Target};
use crate::mail::{self, messages};
use crate::model::device::KnownDevice;
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, disabled, no password yet, or locked for unknown
    /// browsers: deliberately one case.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Locked in a browser the user is known in: that person may be told, and until when.
    #[error("sign-in from this browser is locked until {0}")]
    Locked(DateTime<Utc>),
    /// The right temporary password, but it expired unused: the person may be told.
    #[error("this temporary password has expired")]
    TemporaryPasswordExpired,
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        LoginError::Accounts(e.into())
    }
}

/// Whose failures a sign-in attempt counts towards: the browser's own, when the user
/// has signed in with it before, else those of every unknown browser together.
enum Bucket {
    Device(KnownDevice),
    Unknown,
}

impl Bucket {
    fn locked_until(&self, user: &User, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Bucket::Device(d) => d.locked_until,
            Bucket::Unknown => user.locked_until,
        }
        .filter(|until| *until > now)
    }

    fn label(&self) -> &'static str {
        match self {
            Bucket::Device(_) => "this browser",
            Bucket::Unknown => "unknown browsers",
        }
    }
}

async fn bucket_of(svc: &Services, user: &User, device: &DeviceCookie) -> Result<Bucket, StoreError> {
    if device.new {
        return Ok(Bucket::Unknown);
    }
    Ok(
        match store::devices::find(svc.store.reader(), user.id, &device.hash()).await? {
            Some(known) => Bucket::Device(known),
            None => Bucket::Unknown,
        },
    )
}

/// The second step of a sign-in (`method`: "totp" or "recovery_code"): refused while
/// the browser's bucket is locked, and a wrong code counts like a wrong password.
pub async fn check_second_factor(
    svc: &Services,
    user: &User,
    device: &DeviceCookie,
    method: &str,
    source_ip: Option<String>,
    verify: impl AsyncFnOnce() -> Result<bool, AccountsError>,
) -> Result<(), LoginError> {
    let now = svc.now();
    let event = |outcome_ok: bool, reason: Option<&str>| {
        let e = Event::new(
            &Actor::user(user.id, &user.username),
            "login.second_factor",
            Some(Target::user(user.id, &user.username)),
        )
        .from_ip(source_ip.clone())
        .with_detail(serde_json::json!({ "method": method, "reason": reason }));
        if outcome_ok { e } else { e.failed() }
    };
    let mut bucket = bucket_of(svc, user, device).await?;
    let refuse = |bucket: &Bucket| match bucket {
        Bucket::Device(d) => LoginError::Locked(d.locked_until.unwrap_or(now + svc.settings().lockout_duration)),
        Bucket::Unknown => LoginError::InvalidCredentials,
    };
    // The attempt is counted before the code is checked, atomically and only while the
    // bucket is unlocked: guesses sent in parallel cannot all get past the lock.
    let taken = match &bucket {
        Bucket::Device(d) => store::devices::take_attempt(svc.store.conn(), d.id, now).await?,
        Bucket::Unknown => store::users::take_attempt(svc.store.conn(), user.id, now).await?,
    };
    let threshold = i32::try_from(svc.settings().lockout_threshold).unwrap_or(i32::MAX);
    let Some(attempts) = taken.filter(|n| *n <= threshold) else {
        audit::record(svc.store.conn(), &event(false, Some("locked")), now).await?;
        return Err(refuse(&bucket));
    };
    // What the store holds now, so a success clears it.
    let mut counted = user.clone();
    match &mut bucket {
        Bucket::Device(d) => d.failed_logins = attempts,
        Bucket::Unknown => counted.failed_logins = attempts,
    }
    if verify().await? {
        succeeded(svc, counted, &bucket, device, None, event(true, None), true, now).await?;
        return Ok(());
    }
    record_failure(
        svc,
        user,
        &bucket,
        event(false, Some("wrong code")),
        attempts,
        true,
        now,
    )
    .await?;
    Err(LoginError::InvalidCredentials)
}

pub async fn check_password(
    svc: &Services,
    identifier: &str,
    password_text: &str,
    device: &DeviceCookie,
    source_ip: Option<String>,
) -> Result<User, LoginError> {
    check_password_step(svc, identifier, password_text, device, source_ip)
        .await
        .map(|(user, _)| user)
}

/// `check_password` as the first step of a sign-in: also the second factors the user
/// has, one of which follows.
pub async fn check_password_step(
    svc: &Services,
    identifier: &str,
    password_text: &str,
    device: &DeviceCookie,
    source_ip: Option<String>,
) -> Result<(User, super::second_factor::Factors), LoginError> {
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
        if !device.new {
            // The look-up a known account's sign-in makes, so both take as long.
            store::devices::find(svc.store.reader(), uuid::Uuid::nil(), &device.hash()).await?;
        }
        password::verify_dummy(password_text.to_string()).await?;
        audit::record(svc.store.conn(), &fail(None, "unknown user"), now).await?;
        return Err(LoginError::InvalidCredentials);
    };
    let bucket = bucket_of(svc, &user, device).await?;
    let locked = bucket.locked_until(&user, now);
    let refusal = match (&user.password_hash, locked) {
        _ if !user.active => Some("disabled"),
        _ if user.access_ended(now) => Some("access ended"),
        (_, Some(_)) => Some("locked"),
        (None, _) => Some("no password set"),
        (Some(_), None) => None,
    };
    if let Some(reason) = refusal {
        password::verify_dummy(password_text.to_string()).await?;
        audit::record(svc.store.conn(), &fail(Some(&user), reason), now).await?;
        // Only a browser the user signed in with before hears that it is locked.
        return match (&bucket, locked) {
            (Bucket::Device(_), Some(until)) if user.may_hold_tokens(now) => Err(LoginError::Locked(until)),
            _ => Err(LoginError::InvalidCredentials),
        };
    }
    let stored_hash = user.password_hash.clone().unwrap_or_default();
    match password::verify(password_text.to_string(), stored_hash).await? {
        Verified::No => {
            count_failure(svc, &user, &bucket, fail(Some(&user), "wrong password"), now).await?;
            Err(LoginError::InvalidCredentials)
        }
        Verified::Yes { .. } if user.password_expires_at.is_some_and(|at| at <= now) => {
            let event = fail(Some(&user), "temporary password expired");
            audit::record(svc.store.conn(), &event, now).await?;
            Err(LoginError::TemporaryPasswordExpired)
        }
        Verified::Yes { rehash } => {
            let event = Event::new(
                &Actor::user(user.id, &user.username),
                "login.password",
                Some(Target::user(user.id, &user.username)),
            )
            .from_ip(source_ip)
            .with_detail(serde_json::json!({ "rehashed": rehash.is_some() }));
            let factors = super::second_factor::factors(svc, user.id).await?;
            let user = succeeded(svc, user, &bucket, device, rehash, event, !factors.any(), now).await?;
            Ok((user, factors))
        }
    }
}

/// A wrong password (or, later, second factor): counted against the bucket, which
/// locks at the threshold, for longer each lockout in a row.
async fn count_failure(
    svc: &Services,
    user: &User,
    bucket: &Bucket,
    event: Event,
    now: DateTime<Utc>,
) -> Result<(), LoginError> {
    let failures = {
        let tx = svc.store.begin().await?;
        let n = match bucket {
            Bucket::Device(d) => store::devices::count_failure(&tx, d.id).await?,
            Bucket::Unknown => store::users::increment_failed_logins(&tx, user.id).await?,
        };
        tx.commit().await.map_err(StoreError::from)?;
        n
    };
    record_failure(svc, user, bucket, event, failures, false, now).await
}

/// A failure already counted (`failures` in a row now; `codes`: of the second factor,
/// after the right password): audited, and the bucket locks at the threshold, for
/// longer each lockout in a row.
async fn record_failure(
    svc: &Services,
    user: &User,
    bucket: &Bucket,
    event: Event,
    failures: i32,
    codes: bool,
    now: DateTime<Utc>,
) -> Result<(), LoginError> {
    let tx = svc.store.begin().await?;
    audit::record(&tx, &event, now).await?;
    let lockouts = match bucket {
        Bucket::Device(d) => d.lockouts,
        Bucket::Unknown => user.lockouts,
    };
    if failures >= i32::try_from(svc.settings().lockout_threshold).unwrap_or(i32::MAX) {
        let until = now + lockout_length(svc.settings().lockout_duration, lockouts);
        match bucket {
            Bucket::Device(d) => store::devices::lock(&tx, d.id, until).await?,
            Bucket::Unknown => store::users::lock(&tx, user.id, until).await?,
        }
        let detail = serde_json::json!({ "until": until, "failures": failures, "for": bucket.label() });
        let event = Event::new(
            &Actor::system(),
            "user.lock",
            Some(Target::user(user.id, &user.username)),
        );
        audit::record(&tx, &event.with_detail(detail), now).await?;
        // The person hears of a lock they did not cause; one on their own browser
        // they see on the page.
        if matches!(bucket, Bucket::Unknown) && user.mail_address().is_some() {
            let message = messages::account_locked(&svc.settings(), user, until, codes).map_err(AccountsError::from)?;
            mail::queue_for_user(&tx, now, "account_locked", user, message)
                .await
                .map_err(AccountsError::from)?;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(())
}

/// A step of the sign-in succeeded (`event`). Only once the last of them has
/// (`complete`: the password without a second factor to follow, or the second factor)
/// does the browser become known and its count start again: a guesser who has the
/// password must not win fresh tries at the code by typing it between them.
#[allow(clippy::too_many_arguments)]
async fn succeeded(
    svc: &Services,
    mut user: User,
    bucket: &Bucket,
    device: &DeviceCookie,
    rehash: Option<String>,
    event: Event,
    complete: bool,
    now: DateTime<Utc>,
) -> Result<User, LoginError> {
    // Each write below stands alone (each is idempotent), and the audit event goes with
    // others in one group commit: a sign-in costs as few statements as it can.
    let c = svc.store.conn();
    let reset_user = complete
        && matches!(bucket, Bucket::Unknown)
        && (user.failed_logins != 0 || user.locked_until.is_some() || user.lockouts != 0);
    if reset_user || (complete && rehash.is_some() && matches!(bucket, Bucket::Unknown)) {
        // Only a sign-in from an unknown browser resets the unknown browsers' count: a
        // success elsewhere must not give a guesser a fresh set of tries.
        store::users::record_successful_login(c, user.id, rehash.clone()).await?;
        (user.failed_logins, user.locked_until, user.lockouts) = (0, None, 0);
    } else if let Some(hash) = &rehash {
        store::users::set_rehash(c, user.id, hash).await?;
    }
    if let Some(hash) = rehash {
        user.password_hash = Some(hash);
    }
    let device_fresh = match bucket {
        // Seen within the day: its last sighting is fresh enough for the purge.
        Bucket::Device(d) => d.failed_logins == 0 && d.lockouts == 0 && now - d.last_seen_at < Duration::days(1),
        Bucket::Unknown => false,
    };
    if complete && !device_fresh {
        // The browser is known from now on, its count clean.
        store::devices::remember(c, user.id, &device.hash(), now).await?;
    }
    svc.audit.record(event, now).await?;
    Ok(user)
}

/// A sign-in with a passkey alone (it verified its user itself): audited, and this
/// browser is known for the user from now on, as after a password.
pub async fn passkey_signed_in(
    svc: &Services,
    user: User,
    device: &DeviceCookie,
    source_ip: Option<String>,
) -> Result<User, LoginError> {
    let now = svc.now();
    let bucket = bucket_of(svc, &user, device).await?;
    let event = Event::new(
        &Actor::user(user.id, &user.username),
        "login.passkey",
        Some(Target::user(user.id, &user.username)),
    )
    .from_ip(source_ip);
    succeeded(svc, user, &bucket, device, None, event, true, now).await
}

/// How recent a sign-in must be for the account page to change a password or a second
/// factor without asking for the password again.
pub fn recent_sign_in() -> Duration {
    Duration::minutes(5)
}

/// The person at the account page is the user: signed in within `recent_sign_in`, or
/// they typed the password again now (counted like any sign-in attempt).
pub async fn reconfirm(
    svc: &Services,
    user: &User,
    signed_in_at: DateTime<Utc>,
    password_text: &str,
    device: &DeviceCookie,
    source_ip: Option<String>,
) -> Result<(), LoginError> {
    if svc.now() - signed_in_at <= recent_sign_in() {
        return Ok(());
    }
    if password_text.is_empty() {
        return Err(LoginError::InvalidCredentials);
    }
    check_password(svc, &user.username, password_text, device, source_ip)
        .await
        .map(|_| ())
}
