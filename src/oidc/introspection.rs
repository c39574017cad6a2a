//! Checking an access token: signature, expiry, single revocation, the grant it came
//! from, and the user's state now. Used by introspection (RFC 7662) and userinfo.
use super::OidcError;
use super::client_auth::{self, Presented};
use super::clients::{self, Client};
use crate::accounts::User;
use crate::crypto::token_hash;
use crate::json::JsonFields;
use crate::oidc::Provider;
use crate::store;
use serde_json::{Value, json};
use uuid::Uuid;

/// An access token that is good right now.
pub struct ActiveToken {
    pub claims: Value,
    pub user: Option<User>,
}

pub async fn check_access_token(svc: &Provider, token: &str) -> Result<ActiveToken, OidcError> {
    let inactive = || OidcError::InvalidToken("the access token is invalid, expired or revoked".into());
    let (header, claims) = svc.keys.verify(svc, token).await?.ok_or_else(inactive)?;
    if header.typ.as_deref() != Some("at+jwt") || claims.field("iss") != svc.config.issuer_id() {
        return Err(inactive());
    }
    let now = svc.now().timestamp();
    if claims.field("exp").as_i64().is_none_or(|exp| exp <= now) {
        return Err(inactive());
    }
    let c = svc.store.reader();
    if let Some(jti) = claims.field("jti").as_str()
        && store::grants::is_jti_revoked(c, jti).await?
    {
        return Err(inactive());
    }
    if let Some(gid) = claims.field("gid").as_str() {
        let gid = Uuid::parse_str(gid).map_err(|_| inactive())?;
        let grant = store::grants::find_grant(c, gid).await?.ok_or_else(inactive)?;
        if grant.revoked_at.is_some() {
            return Err(inactive());
        }
        let user = store::users::find_by_id(c, grant.user_id.ok_or_else(inactive)?)
            .await?
            .ok_or_else(inactive)?;
        if !user.may_hold_tokens(svc.now()) {
            return Err(inactive());
        }
        return Ok(ActiveToken {
            claims,
            user: Some(user),
        });
    }
    // A client's own token: the client must still exist.
    let client_id = claims.field("client_id").as_str().ok_or_else(inactive)?;
    clients::find(svc, client_id).await?.ok_or_else(inactive)?;
    Ok(ActiveToken { claims, user: None })
}

/// Whether `caller` may learn about this access token: it was issued to the caller or
/// names it as an audience, or the caller is a resource server registered with
/// `--introspect`. Any other client is told `active: false` (RFC 7662 §4), or every
/// client could read the user, scopes and session of every other client's tokens.
fn may_see(caller: &Client, claims: &Value) -> bool {
    let audience = match &claims["aud"] {
        Value::String(a) => a == &caller.id,
        Value::Array(all) => all.iter().any(|a| a == caller.id.as_str()),
        _ => false,
    };
    caller.may_introspect || claims["client_id"] == caller.id.as_str() || audience
}

/// RFC 7662: only confidential clients may ask; an unknown, expired or revoked token,
/// and one the caller may not see, is simply `{"active": false}`.
pub async fn introspect(svc: &Provider, presented: &Presented, token: &str) -> Result<Value, OidcError> {
    let caller = client_auth::authenticate(svc, presented).await?;
    if caller.public {
        return Err(OidcError::invalid_client("public clients cannot introspect tokens"));
    }
    if let Ok(active) = check_access_token(svc, token).await {
        if !may_see(&caller, &active.claims) {
            return Ok(json!({ "active": false }));
        }
        let mut out = json!({ "active": true, "token_type": "Bearer" });
        for k in [
            "scope",
            "client_id",
            "sub",
            "exp",
            "iat",
            "iss",
            "aud",
            "jti",
            "auth_time",
            "sid",
        ] {
            if let Some(v) = active.claims.get(k) {
                out.set(k, v.clone());
            }
        }
        if let Some(u) = active.user {
            out.set("username", json!(u.username));
        }
        return Ok(out);
    }
    // A refresh token introspects too, as long as it is usable, but only for its own
    // client: it is never shown to a resource server.
    let c = svc.store.reader();
    if let Some(row) = store::grants::find_refresh(c, &token_hash(token)).await?
        && row.used_at.is_none()
        && row.expires_at > svc.now()
        && !store::grants::has_successor(c, &row.token_hash).await?
        && let Some(grant) = store::grants::find_grant(c, row.grant_id).await?
        && grant.client_id == caller.id
        && grant.revoked_at.is_none()
        && let Some(user_id) = grant.user_id
        && let Some(user) = store::users::find_by_id(c, user_id).await?
        && user.may_hold_tokens(svc.now())
    {
        return Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": grant.scope,
            "client_id": grant.client_id,
            "sub": user.id.to_string(),
            "username": user.username,
            "exp": row.expires_at.timestamp(),
            "iat": row.created_at.timestamp(),
        }));
    }
    Ok(json!({ "active": false }))
}
