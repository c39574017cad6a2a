//! The admin console is one of Tessera's own relying parties: it signs people in
//! through the same hosted pages as every app (second factor, forced change and all),
//! with the code flow and PKCE, and redeems the code in-process. Its client row is
//! kept in step with the issuer at start-up.
use super::OidcError;
use super::grants::authorization_code::pkce_matches;
use crate::crypto::token_hash;
use crate::services::Services;
use crate::store::{self, StoreError};
use uuid::Uuid;

pub const CLIENT_ID: &str = "tessera-console";

/// Where sign-in pages send the browser back to.
pub fn redirect_uri(svc: &Services) -> String {
    format!("{}/admin/signed-in", svc.config.base_url())
}

/// Creates the console's client, or points it at the current issuer.
pub async fn ensure_client(svc: &Services) -> Result<(), StoreError> {
    let uri = redirect_uri(svc);
    let c = svc.store.conn();
    match store::oidc_clients::find(c, CLIENT_ID).await? {
        Some(existing) if existing.redirect_uris == [uri.clone()] => Ok(()),
        Some(_) => store::oidc_clients::set_redirect_uris(c, CLIENT_ID, &[uri]).await,
        None => {
            let client = super::clients::Client {
                id: CLIENT_ID.into(),
                name: "Tessera admin console".into(),
                secret_hash: None,
                public: true,
                redirect_uris: vec![uri],
                post_logout_uris: Vec::new(),
                backchannel_logout_uri: None,
                grants: vec![super::clients::AUTHORIZATION_CODE.into()],
                consent: false,
                pkce_required: true,
                id_token_alg: super::key_set::Alg::RS256.as_str().into(),
                groups: Vec::new(),
                created_at: svc.now(),
                jwks: None,
                scopes: Vec::new(),
                may_introspect: false,
                limited_to_groups: false,
            };
            match store::oidc_clients::insert(c, &client).await {
                // Another node made it first.
                Err(StoreError::Conflict(_)) => Ok(()),
                other => other,
            }
        }
    }
}

/// The console's code, redeemed once: the session it was issued for. None for a code
/// that is not the console's, is used, expired, or whose verifier does not match.
pub async fn redeem(svc: &Services, code: &str, verifier: &str) -> Result<Option<Uuid>, OidcError> {
    let now = svc.now();
    let hash = token_hash(code);
    let Some((row, grant)) = store::grants::find_code_and_grant(svc.store.conn(), &hash).await? else {
        return Ok(None);
    };
    let good = grant.client_id == CLIENT_ID
        && row.expires_at > now
        && grant.revoked_at.is_none()
        && row.redirect_uri == redirect_uri(svc)
        && row.code_challenge.as_deref().is_some_and(|c| pkce_matches(c, verifier));
    if !good || !store::grants::use_code(svc.store.conn(), &hash, now).await? {
        return Ok(None);
    }
    Ok(grant.session_id)
}

/// Spends a code that came back with the wrong state, so nobody redeems it later.
pub async fn burn(svc: &Services, code: &str) -> Result<(), StoreError> {
    store::grants::use_code(svc.store.conn(), &token_hash(code), svc.now()).await?;
    Ok(())
}
