//! The UserInfo endpoint (OIDC Core §5.3): the claims of the token's scope.
use super::introspection::check_access_token;
use super::{OidcError, claims, scope_list};
use crate::json::JsonFields;
use crate::oidc::Provider;
use serde_json::{Value, json};

pub async fn userinfo(svc: &Provider, token: &str) -> Result<Value, OidcError> {
    let active = check_access_token(svc, token).await?;
    let user = active
        .user
        .ok_or_else(|| OidcError::InvalidToken("this token was issued to a client, not for a user".into()))?;
    let scopes = scope_list(active.claims.field("scope").as_str().unwrap_or(""));
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OidcError::Protocol {
            code: "insufficient_scope",
            description: "the token was not issued with the openid scope".into(),
            status: 403,
        });
    }
    let grant_claims = match active
        .claims
        .field("gid")
        .as_str()
        .and_then(|g| uuid::Uuid::parse_str(g).ok())
    {
        Some(gid) => crate::store::grants::find_grant(svc.store.reader(), gid)
            .await?
            .and_then(|g| g.claims),
        None => None,
    };
    let requested = claims::requested_in(grant_claims.as_ref(), "userinfo");
    let subject = claims::load(svc, user.id, &scopes, &requested)
        .await?
        .ok_or_else(|| OidcError::InvalidToken("the user no longer exists".into()))?;
    let mut out = claims::collect(&subject, &scopes, &requested);
    out.insert("sub".into(), json!(user.id.to_string()));
    Ok(Value::Object(out))
}
