//! authorization_code (RFC 6749 §4.1, PKCE RFC 7636): issuing the code at the end of
//! the authorization request, and exchanging it once at the token endpoint.
use super::TokenRequest;
use crate::audit::{Actor, Event, Target};
use crate::crypto::{constant_time_eq, random_token, token_hash};
use crate::oidc::authorize::Checked;
use crate::oidc::clients::{self, Client};
use crate::oidc::signin::with_query;
use crate::oidc::tokens::{self, AccessGrant, IdTokenInput, TokenResponse};
use crate::oidc::{OidcError, claims, code_lifetime, refresh_token_lifetime, scope_list};
use crate::services::Services;
use crate::sessions::Session;
use crate::store::{self, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Records the grant and a single-use code; returns where to send the browser.
pub async fn issue_code(svc: &Services, req: &Checked, session: &Session) -> Result<String, OidcError> {
    // The callers choose the session accordingly; this is the last word on it.
    if !req.allows_user(session.user_id) {
        return Err(OidcError::Internal(
            "a code was about to be issued for a user the request does not name".into(),
        ));
    }
    let now = svc.now();
    let code = random_token();
    let grant_id = Uuid::now_v7();
    let tx = svc.store.begin().await?;
    store::grants::insert_grant(
        &tx,
        store::grants::GrantRow {
            id: grant_id,
            client_id: req.client.id.clone(),
            user_id: Some(session.user_id),
            session_id: Some(session.id),
            scope: req.scope(),
            claims: req.claims.clone(),
            auth_time: Some(session.auth_time),
            acr: Some(session.acr.clone()),
            amr: serde_json::json!(session.amr),
            created_at: now,
            revoked_at: None,
        },
    )
    .await?;
    store::grants::insert_code(
        &tx,
        store::grants::CodeRow {
            code_hash: token_hash(&code),
            grant_id,
            redirect_uri: req.redirect_uri.clone(),
            code_challenge: req.params.code_challenge.clone().filter(|c| !c.is_empty()),
            nonce: req.params.nonce.clone().filter(|n| !n.is_empty()),
            created_at: now,
            expires_at: now + code_lifetime(),
            used_at: None,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = req.params.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", svc.config.issuer_id()));
    Ok(with_query(&req.redirect_uri, &pairs))
}

fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let ok_chars = verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !(43..=128).contains(&verifier.len()) || !ok_chars {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

pub async fn exchange(svc: &Services, client: &Client, req: &TokenRequest) -> Result<TokenResponse, OidcError> {
    let now = svc.now();
    let code = req
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OidcError::invalid_request("code is required"))?;
    let hash = token_hash(code);
    let bad = || OidcError::invalid_grant("the code is invalid, expired or already used");
    // Read from the reader pool: `use_code`'s conditional UPDATE on the writer has the
    // last word on whether the code was already used.
    let (row, grant) = store::grants::find_code_and_grant(svc.store.reader(), &hash)
        .await?
        .ok_or_else(bad)?;
    if grant.client_id != client.id {
        return Err(bad());
    }
    if row.used_at.is_some() || !store::grants::use_code(svc.store.conn(), &hash, now).await? {
        // A replayed code: what its first use issued is revoked (RFC 6749 §4.1.2).
        store::grants::revoke_grant(svc.store.conn(), grant.id, now).await?;
        return Err(bad());
    }
    if row.expires_at <= now || grant.revoked_at.is_some() {
        return Err(bad());
    }
    if req.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        return Err(OidcError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&row.code_challenge, req.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce_matches(challenge, verifier) => {}
        (Some(_), _) => {
            return Err(OidcError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        (None, Some(_)) => return Err(OidcError::invalid_grant("code_verifier sent but no code_challenge was")),
        (None, None) if client.pkce_required => return Err(OidcError::invalid_grant("PKCE is required")),
        (None, None) => {}
    }
    let user_id = grant.user_id.ok_or_else(bad)?;
    let requested = claims::requested_in(grant.claims.as_ref(), "id_token");
    let subject = claims::load(svc, user_id, &scope_list(&grant.scope), &requested)
        .await?
        .ok_or_else(bad)?;
    if !subject.user.may_hold_tokens(now) {
        return Err(bad());
    }
    respond(
        svc,
        client,
        &grant,
        &subject,
        Issue::First {
            nonce: row.nonce.as_deref(),
        },
    )
    .await
}

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
    svc: &Services,
    client: &Client,
    grant: &store::grants::GrantRow,
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
        let amr: Vec<String> = grant
            .amr
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
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
                amr: &amr,
                claims: claims::collect(subject, &scopes, &requested),
            },
            now,
        )?)
    } else {
        None
    };
    let offline = scopes.iter().any(|s| s == "offline_access");
    let refresh_token = (client.allows_grant(clients::REFRESH_TOKEN) && (offline || !client.public)).then(random_token);

    // Each case is one statement, atomic on its own.
    let c = svc.store.conn();
    let expires_at = now + refresh_token_lifetime();
    let first_use = match (issue, &refresh_token) {
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
    };
    if !first_use {
        // Another request used this refresh token first: a replay (refresh_token.rs).
        return Err(super::refresh_token::replayed(svc, client, grant).await);
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
        expires_in: crate::oidc::access_token_lifetime().num_seconds(),
        refresh_token,
        id_token,
        scope: grant.scope.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_an_independently_computed_challenge() {
        // Challenge computed with Python: base64url(sha256(verifier)) without padding.
        let verifier = "dBjftJeZ4CVP-mJ92K9qfAbJy7MZ0Y2SXJlLSLYbaC8";
        let challenge = "KBsg_vha6_JfRSP_G9C8N6MzszezJxBovdh0F2x-Bv0";
        assert!(pkce_matches(challenge, verifier));
        assert!(!pkce_matches(challenge, "short"));
        assert!(!pkce_matches("KBsg_vha6_JfRSP_G9C8N6MzszezJxBovdh0F2x-Bv1", verifier));
    }
}
