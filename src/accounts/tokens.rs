//! One-time tokens (setup, and later invite and reset links): 256-bit random,
//! stored as SHA-256, single use, expiring per purpose; a new one voids older ones.
use crate::crypto::{random_token, token_hash};
use crate::model::user::User;
use crate::store::{self, StoreError};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

pub use crate::model::one_time_token::{OneTimeToken, Purpose};

/// A freshly issued token with its secret, which exists only here and in the link.
pub struct Issued {
    pub token: OneTimeToken,
    pub secret: String,
}

pub async fn issue(
    c: &impl store::Conn,
    purpose: Purpose,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<Issued, StoreError> {
    store::tokens::void_live(c, purpose, user_id, now).await?;
    let secret = random_token();
    let token = OneTimeToken {
        id: Uuid::now_v7(),
        purpose,
        user_id,
        created_at: now,
        expires_at: now + lifetime,
    };
    store::tokens::insert(c, &token, token_hash(&secret)).await?;
    Ok(Issued { token, secret })
}

/// Notes that a token's link was opened (its page shown), for the mail history.
pub async fn opened(c: &impl store::Conn, token: &OneTimeToken, now: DateTime<Utc>) -> Result<(), StoreError> {
    store::tokens::mark_opened(c, token.id, now).await
}

/// The live token behind a secret, without using it up (to show a form).
pub async fn peek(
    c: &impl store::Conn,
    secret: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<OneTimeToken>, StoreError> {
    store::tokens::find_live(c, &token_hash(secret), purpose, now).await
}

/// Uses a token up. `None` when it is unknown, expired, voided, or was used first by
/// a concurrent request.
pub async fn consume(
    c: &impl store::Conn,
    secret: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<OneTimeToken>, StoreError> {
    let Some(token) = peek(c, secret, purpose, now).await? else {
        return Ok(None);
    };
    if store::tokens::consume(c, token.id, now).await? {
        Ok(Some(token))
    } else {
        Ok(None)
    }
}

/// The user a token was issued to, when `may_use` still admits them.
pub async fn holder(
    c: &impl store::Conn,
    token: &OneTimeToken,
    may_use: impl Fn(&User) -> bool,
) -> Result<Option<User>, StoreError> {
    let Some(id) = token.user_id else {
        return Ok(None);
    };
    Ok(store::users::find_by_id(c, id).await?.filter(|u| may_use(u)))
}

/// The user a still-good link of `purpose` is for, when `may_use` admits them; the link
/// counts as opened from now on (for the mail history).
pub async fn open_link(
    c: &impl store::Conn,
    secret: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
    may_use: impl Fn(&User) -> bool,
) -> Result<Option<User>, StoreError> {
    let Some(token) = peek(c, secret, purpose, now).await? else {
        return Ok(None);
    };
    let Some(user) = holder(c, &token, may_use).await? else {
        return Ok(None);
    };
    opened(c, &token, now).await?;
    Ok(Some(user))
}
