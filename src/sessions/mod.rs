//! SSO sessions: a browser's sign-in at Tessera, and ending it (one session, or every
//! session of a user) with what that implies for tokens and clients.
use crate::crypto::{random_token, token_hash};
use crate::store::{self, StoreError};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::model::grant::ClientToTell;
pub use crate::model::session::{Origin, Session, SessionSummary};

/// How long a sign-in lasts at most: a working day and then some.
pub fn lifetime() -> Duration {
    Duration::hours(12)
}

/// Starts a session; returns it and the cookie value (only its hash is stored).
pub async fn start(
    c: &impl store::Conn,
    user_id: Uuid,
    acr: &str,
    amr: &[&str],
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(Session, String), StoreError> {
    let token = random_token();
    let session = Session {
        id: Uuid::now_v7(),
        user_id,
        auth_time: now,
        acr: acr.to_string(),
        amr: amr.iter().map(|a| a.to_string()).collect(),
    };
    store::sessions::insert(c, &session, origin, token_hash(&token), now + lifetime()).await?;
    Ok((session, token))
}

/// The same user signed in again (prompt=login, max_age): the session keeps its id
/// (`sid`) but gets a new cookie value and auth_time, so a stolen old cookie is useless.
pub async fn renew(
    c: &impl store::Conn,
    session: &Session,
    acr: &str,
    amr: &[&str],
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(Session, String), StoreError> {
    let token = random_token();
    let renewed = Session {
        auth_time: now,
        acr: acr.to_string(),
        amr: amr.iter().map(|a| a.to_string()).collect(),
        ..session.clone()
    };
    store::sessions::rekey(c, &renewed, token_hash(&token), now + lifetime(), origin).await?;
    Ok((renewed, token))
}

pub async fn find(c: &impl store::Conn, cookie: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
    store::sessions::find_live(c, &token_hash(cookie), now).await
}

/// Ends one session: its grants are revoked and its clients told by back-channel logout.
pub async fn end(c: &impl store::Conn, session: &Session, now: DateTime<Utc>) -> Result<bool, StoreError> {
    if !store::sessions::end(c, session.id, now).await? {
        return Ok(false);
    }
    let told = store::grants::revoke_where(c, session.user_id, Some(&[session.id]), now).await?;
    queue_logouts(c, session.user_id, told, now).await?;
    Ok(true)
}

/// Ends every session of a user and revokes all their grants, offline ones included:
/// "sign out everywhere", and what disabling or deleting a user implies.
pub async fn sign_out_everywhere(c: &impl store::Conn, user_id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    sign_out_everywhere_but(c, user_id, None, now).await
}

/// `sign_out_everywhere`, keeping the sign-in in progress `keep` (the one changing
/// the password right now). Sign-ins still in progress end too: one waiting at its
/// second step must not finish after the password that started it was changed.
pub async fn sign_out_everywhere_but(
    c: &impl store::Conn,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store::sessions::end_all_for_user(c, user_id, now).await?;
    store::auth_requests::delete_for_user(c, user_id, keep).await?;
    let told = store::grants::revoke_where(c, user_id, None, now).await?;
    queue_logouts(c, user_id, told, now).await
}

async fn queue_logouts(
    c: &impl store::Conn,
    user_id: Uuid,
    told: Vec<ClientToTell>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for client in told {
        if let Some(uri) = &client.backchannel_logout_uri {
            store::backchannel::queue(c, &client.client_id, uri, user_id, client.session_id, now).await?;
        }
    }
    Ok(())
}

/// A user's live sessions, for the account page.
pub async fn of_user(
    c: &impl store::Conn,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<SessionSummary>, StoreError> {
    store::sessions::live_for_user(c, user_id, now).await
}

/// Ends one of the user's own sessions by id; false when it is not theirs or over.
pub async fn end_own(c: &impl store::Conn, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    match store::sessions::find_for_user(c, user_id, id, now).await? {
        Some(session) => end(c, &session, now).await,
        None => Ok(false),
    }
}
