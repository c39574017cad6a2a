//! Issuing tokens for a grant, at the code exchange and at every refresh: the access
//! token, the ID token (scope openid) and the refresh token, recorded and audited.
use super::{replay, rotation};
use crate::audit::{Actor, Event, Target};
use crate::crypto::random_token;
use crate::model::grant::Grant;
use crate::oidc::Provider;
use crate::oidc::clients::{self, Client};
use crate::oidc::tokens::{self, AccessGrant, IdTokenInput, TokenResponse};
use crate::oidc::{OidcError, access_token_lifetime, claims, scope_list};

/// Why tokens are issued for a grant.
pub enum Issue<'a> {
    /// At the code exchange, with the authorization request's nonce.
    First { nonce: Option<&'a str> },
    /// At a refresh, in exchange for this refresh token (its hash), which is used up
    /// in the same transaction that stores its successor.
    Rotate { used: &'a [u8] },
}

/// Access token, ID token (scope openid) and refresh token (when the client may refresh;
/// public clients only with offline_access) for a grant. Tokens are signed before the
/// transaction that records them, so no database lock is held while signing.
pub async fn respond(
    svc: &Provider,
    client: &Client,
    grant: &Grant,
    subject: &claims::Subject,
    issue: Issue<'_>,
) -> Result<TokenResponse, OidcError> {
    let (nonce, first) = match issue {
        Issue::First { nonce } => (nonce, true),
        Issue::Rotate { .. } => (None, false),
    };
    let now = svc.now();
    let keys = svc.keys.current(svc).await?;
    let scopes = scope_list(&grant.scope);
    let issuer = svc.config.issuer_id();
    let (access_token, _) = tokens::access_token(
        &keys,
        &AccessGrant {
            issuer,
            client_id: &client.id,
            subject: subject.user.id.to_string(),
            scope: &grant.scope,
            grant_id: Some(grant.id),
            session_id: grant.session_id,
            auth_time: grant.auth_time,
        },
        now,
    )?;
    let id_token = if scopes.iter().any(|s| s == "openid") {
        let requested = claims::requested_in(grant.claims.as_ref(), "id_token");
        Some(tokens::id_token(
            &keys,
            IdTokenInput {
                issuer,
                client_id: &client.id,
                alg: client.id_token_alg(),
                subject: subject.user.id,
                auth_time: grant.auth_time.unwrap_or(now),
                nonce,
                access_token: &access_token,
                session_id: grant.session_id,
                acr: grant.acr.as_deref(),
                amr: &grant.amr,
                claims: claims::collect(subject, &scopes, &requested),
            },
            now,
        )?)
    } else {
        None
    };
    let offline = scopes.iter().any(|s| s == "offline_access");
    let refresh_token = (client.allows_grant(clients::REFRESH_TOKEN) && (offline || !client.public)).then(random_token);

    if !rotation::record(svc, grant, issue, refresh_token.as_deref(), now).await? {
        // Another request used this refresh token first.
        return Err(replay::refresh_reused(svc, client, grant).await);
    }
    // Recorded before the tokens are handed out; grouped with other requests' events.
    svc.audit
        .record(
            Event::new(
                &Actor::client(&client.id, &client.name),
                if first { "token.issue" } else { "token.refresh" },
                Some(Target::user(subject.user.id, &subject.user.username)),
            )
            .with_detail(serde_json::json!({ "scope": grant.scope, "grant": grant.id })),
            now,
        )
        .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access_token_lifetime().num_seconds(),
        refresh_token,
        id_token,
        scope: grant.scope.clone(),
    })
}
