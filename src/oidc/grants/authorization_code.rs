//! authorization_code (RFC 6749 §4.1, PKCE RFC 7636): issuing the code at the end of
//! the authorization request, and exchanging it once at the token endpoint.
use super::issue::{self, Issue};
use super::{TokenRequest, replay};
use crate::crypto::{constant_time_eq, random_token, token_hash};
use crate::model::grant::{AuthorizationCode, Grant};
use crate::oidc::Provider;
use crate::oidc::authorize::Checked;
use crate::oidc::clients::Client;
use crate::oidc::redirect::with_query;
use crate::oidc::tokens::TokenResponse;
use crate::oidc::{OidcError, claims, code_lifetime, scope_list};
use crate::sessions::Session;
use crate::store::{self, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Records the grant and a single-use code; returns where to send the browser.
pub async fn issue_code(svc: &Provider, req: &Checked, session: &Session) -> Result<String, OidcError> {
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
    let grant = Grant {
        id: grant_id,
        client_id: req.client.id.clone(),
        user_id: Some(session.user_id),
        session_id: Some(session.id),
        scope: req.scope(),
        claims: req.claims.clone(),
        auth_time: Some(session.auth_time),
        acr: Some(session.acr.clone()),
        amr: session.amr.clone(),
        created_at: now,
        revoked_at: None,
    };
    store::grants::insert_grant(&tx, &grant).await?;
    let stored = AuthorizationCode {
        code_hash: token_hash(&code),
        grant_id,
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.params.code_challenge.clone().filter(|c| !c.is_empty()),
        nonce: req.params.nonce.clone().filter(|n| !n.is_empty()),
        created_at: now,
        expires_at: now + code_lifetime(),
        used_at: None,
    };
    store::grants::insert_code(&tx, &stored).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = req.params.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", svc.config.issuer_id()));
    Ok(with_query(&req.redirect_uri, &pairs))
}

pub(crate) fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let ok_chars = verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !(43..=128).contains(&verifier.len()) || !ok_chars {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

pub async fn exchange(svc: &Provider, client: &Client, req: &TokenRequest) -> Result<TokenResponse, OidcError> {
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
    // The console's codes are redeemed by the console alone, in-process.
    if grant.client_id != client.id || client.id == crate::oidc::console::CLIENT_ID {
        return Err(bad());
    }
    if row.used_at.is_some() || !store::grants::use_code(svc.store.conn(), &hash, now).await? {
        return Err(replay::code_replayed(svc, &grant).await);
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
    if !subject.user.may_hold_tokens(svc.now()) {
        return Err(bad());
    }
    issue::respond(
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
