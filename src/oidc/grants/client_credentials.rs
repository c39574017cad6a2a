//! client_credentials (RFC 6749 §4.4): a service client's own access token.
use super::TokenRequest;
use crate::audit::{Actor, Event};
use crate::oidc::clients::Client;
use crate::oidc::tokens::{self, AccessGrant, TokenResponse};
use crate::oidc::{OidcError, SCOPES, access_token_lifetime, scope_list};
use crate::services::Services;

pub async fn exchange(svc: &Services, client: &Client, req: &TokenRequest) -> Result<TokenResponse, OidcError> {
    let asked = scope_list(req.scope.as_deref().unwrap_or(""));
    // Every scope Tessera knows is about a user, which client_credentials has none of.
    if let Some(bad) = asked.iter().find(|s| SCOPES.contains(&s.as_str())) {
        return Err(OidcError::invalid_scope(format!(
            "'{bad}' needs a user; client_credentials has none"
        )));
    }
    let scope = asked.join(" ");
    let now = svc.now();
    let keys = svc.keys.current(svc).await?;
    let (access_token, jti) = tokens::access_token(
        &keys,
        &AccessGrant {
            issuer: svc.config.issuer_id(),
            client_id: &client.id,
            subject: client.id.clone(),
            scope: &scope,
            grant_id: None,
            session_id: None,
            auth_time: None,
        },
        now,
    )?;
    svc.audit
        .record(
            Event::new(&Actor::client(&client.id, &client.name), "token.issue", None)
                .with_detail(serde_json::json!({ "grant_type": "client_credentials", "scope": scope, "jti": jti })),
            now,
        )
        .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access_token_lifetime().num_seconds(),
        refresh_token: None,
        id_token: None,
        scope,
    })
}
