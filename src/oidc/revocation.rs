//! Token revocation (RFC 7009): a refresh token revokes its grant; an access token is
//! remembered as revoked until it would have expired. Unknown tokens are not an error.
use super::OidcError;
use super::client_auth::{self, Presented};
use crate::audit::{self, Actor, Event};
use crate::crypto::token_hash;
use crate::json::JsonFields;
use crate::oidc::Provider;
use crate::store;
use chrono::{TimeZone, Utc};

/// `token_type_hint` is only advice (RFC 7009 §2.1) and is not needed: access tokens
/// are JWTs, refresh tokens opaque random strings.
pub async fn revoke(svc: &Provider, presented: &Presented, token: &str) -> Result<(), OidcError> {
    let client = client_auth::authenticate(svc, presented).await?;
    let now = svc.now();
    let c = svc.store.conn();
    let try_refresh = || async {
        if let Some(row) = store::grants::find_refresh(c, &token_hash(token)).await?
            && let Some(grant) = store::grants::find_grant(c, row.grant_id).await?
            && grant.client_id == client.id
        {
            store::grants::revoke_grant(c, grant.id, now).await?;
            return Ok::<bool, OidcError>(true);
        }
        Ok(false)
    };
    let try_access = || async {
        if let Some((_, claims)) = svc.keys.verify(svc, token).await?
            && claims.field("client_id") == client.id.as_str()
            && let (Some(jti), Some(exp)) = (claims.field("jti").as_str(), claims.field("exp").as_i64())
        {
            let expires = Utc.timestamp_opt(exp, 0).single().unwrap_or(now);
            store::grants::revoke_jti(c, jti, expires).await?;
            return Ok::<bool, OidcError>(true);
        }
        Ok(false)
    };
    let revoked = if token.split('.').count() == 3 {
        try_access().await?
    } else {
        try_refresh().await?
    };
    if revoked {
        audit::record(
            c,
            &Event::new(&Actor::client(&client.id, &client.name), "token.revoke", None),
            now,
        )
        .await?;
    }
    Ok(())
}
