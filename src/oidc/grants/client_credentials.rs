//! client_credentials (RFC 6749 §4.4): a service client's own access token.
use super::TokenRequest;
use crate::audit::{Actor, Event};
use crate::oidc::Provider;
use crate::oidc::clients::Client;
use crate::oidc::tokens::{self, AccessGrant, TokenResponse};
use crate::oidc::{OidcError, SCOPES, access_token_lifetime, is_scope_token, request_limits, scope_list};

pub async fn exchange(svc: &Provider, client: &Client, req: &TokenRequest) -> Result<TokenResponse, OidcError> {
    let scope = granted_scope(client, req.scope.as_deref().unwrap_or(""))?;
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

/// Only scopes an admin registered for the client (`--scope`); asking for none gives
/// all of them (RFC 6749 §3.3 lets the server choose a default).
fn granted_scope(client: &Client, asked: &str) -> Result<String, OidcError> {
    if asked.len() > request_limits::SCOPE {
        return Err(OidcError::invalid_scope(format!(
            "scope is longer than {} bytes",
            request_limits::SCOPE
        )));
    }
    let asked = scope_list(asked);
    // Every scope Tessera knows is about a user, which client_credentials has none of.
    if let Some(bad) = asked.iter().find(|s| SCOPES.contains(&s.as_str())) {
        return Err(OidcError::invalid_scope(format!(
            "'{bad}' needs a user; client_credentials has none"
        )));
    }
    if let Some(bad) = asked.iter().find(|s| !client.scopes.contains(s)) {
        // Echoed only when short and printable: an error description is plain ASCII.
        let named = if bad.len() <= 64 && is_scope_token(bad) {
            format!("'{bad}'")
        } else {
            "a scope asked for".to_string()
        };
        return Err(OidcError::invalid_scope(format!(
            "{named} is not registered for this client"
        )));
    }
    Ok(if asked.is_empty() {
        client.scopes.join(" ")
    } else {
        asked.join(" ")
    })
}
