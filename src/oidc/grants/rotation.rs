//! Refresh-token rotation: every use of a refresh token stores its successor in the
//! same statement that uses it up, so two requests with one token cannot both win.
use super::issue::Issue;
use crate::crypto::token_hash;
use crate::model::grant::Grant;
use crate::oidc::Provider;
use crate::oidc::{OidcError, refresh_token_lifetime};
use crate::store;
use chrono::{DateTime, Utc};

/// Records the refresh token being handed out (if any) and uses up the one presented
/// (at a refresh). False when the presented token was used first by another request:
/// a replay. Each case is one statement, atomic on its own.
pub async fn record(
    svc: &Provider,
    grant: &Grant,
    issue: Issue<'_>,
    successor: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, OidcError> {
    let c = svc.store.conn();
    let expires_at = now + refresh_token_lifetime();
    Ok(match (issue, successor) {
        (Issue::Rotate { used }, Some(token)) => {
            store::grants::rotate_refresh(c, used, token_hash(token), grant.id, now, expires_at).await?
        }
        // Narrowed away from offline_access: used up, without a successor.
        (Issue::Rotate { used }, None) => store::grants::use_refresh(c, used, now).await?,
        (Issue::First { .. }, Some(token)) => {
            store::grants::insert_refresh(c, token_hash(token), grant.id, now, expires_at).await?;
            true
        }
        (Issue::First { .. }, None) => true,
    })
}
