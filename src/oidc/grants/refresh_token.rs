//! refresh_token (RFC 6749 §6) with rotation on every use; presenting a used refresh
//! token again revokes its whole grant (OAuth 2.1 §4.3.1).
use super::TokenRequest;
use super::issue::{self, Issue};
use super::replay;
use crate::crypto::token_hash;
use crate::oidc::Provider;
use crate::oidc::clients::Client;
use crate::oidc::tokens::TokenResponse;
use crate::oidc::{OidcError, claims, request_limits, scope_list};
use crate::store::{self};

pub async fn exchange(svc: &Provider, client: &Client, req: &TokenRequest) -> Result<TokenResponse, OidcError> {
    let now = svc.now();
    let token = req
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::invalid_request("refresh_token is required"))?;
    let hash = token_hash(token);
    let bad = || OidcError::invalid_grant("the refresh token is invalid, expired or revoked");
    // Read from the reader pool: the rotation's conditional INSERT in `respond` has the
    // last word on whether this token was already used.
    let (row, grant) = store::grants::find_refresh_and_grant(svc.store.reader(), &hash)
        .await?
        .ok_or_else(bad)?;
    // Bound to its client: another client presenting it learns nothing.
    if grant.client_id != client.id {
        return Err(bad());
    }
    if row.used_at.is_some() {
        return Err(replay::refresh_reused(svc, client, &grant).await);
    }
    if grant.revoked_at.is_some() || row.expires_at <= now {
        return Err(bad());
    }
    let user_id = grant.user_id.ok_or_else(bad)?;
    let requested = claims::requested_in(grant.claims.as_ref(), "id_token");
    let subject = claims::load(svc, user_id, &scope_list(&grant.scope), &requested)
        .await?
        .ok_or_else(bad)?;
    // A client since limited to groups the user is not in refreshes nothing more.
    if !subject.user.may_hold_tokens(svc.now()) || !crate::oidc::clients::admits(svc, client, user_id).await? {
        return Err(bad());
    }
    let mut grant = grant;
    if let Some(asked) = req.scope.as_deref().filter(|s| !s.is_empty()) {
        // Longer than any granted scope can be, and not worth splitting.
        if asked.len() > request_limits::SCOPE {
            return Err(OidcError::invalid_scope("a refresh may only narrow the granted scope"));
        }
        let granted = scope_list(&grant.scope);
        let asked = scope_list(asked);
        if asked.iter().any(|s| !granted.contains(s)) {
            return Err(OidcError::invalid_scope("a refresh may only narrow the granted scope"));
        }
        grant.scope = asked.join(" ");
    }
    issue::respond(svc, client, &grant, &subject, Issue::Rotate { used: &hash }).await
}
