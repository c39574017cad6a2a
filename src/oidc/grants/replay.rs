//! Replay detection: a code or refresh token presented again after its one use was
//! stolen or leaked, so what its first use issued is revoked.
use crate::audit::{self, Actor, Event};
use crate::model::grant::Grant;
use crate::oidc::OidcError;
use crate::oidc::Provider;
use crate::oidc::clients::Client;
use crate::store::{self, StoreError};

/// A replayed authorization code: the grant its first use created is revoked (RFC 6749
/// §4.1.2). Returns the error to answer with.
pub async fn code_replayed(svc: &Provider, grant: &Grant) -> OidcError {
    tracing::warn!(client = %grant.client_id, grant = %grant.id, "authorization code replayed: grant revoked");
    match store::grants::revoke_grant(svc.store.conn(), grant.id, svc.now()).await {
        Ok(()) => OidcError::invalid_grant("the code is invalid, expired or already used"),
        Err(e) => e.into(),
    }
}

/// A refresh token presented a second time was stolen or leaked: the whole grant (every
/// refresh and access token it issued) is revoked. Returns the error to answer with.
pub async fn refresh_reused(svc: &Provider, client: &Client, grant: &Grant) -> OidcError {
    let now = svc.now();
    tracing::warn!(client = %client.id, grant = %grant.id, "refresh token reused: grant revoked");
    let recorded = async {
        let tx = svc.store.begin().await?;
        store::grants::revoke_grant(&tx, grant.id, now).await?;
        audit::record(
            &tx,
            &Event::new(&Actor::client(&client.id, &client.name), "token.reuse", None)
                .with_detail(serde_json::json!({ "grant": grant.id, "revoked": true })),
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)
    };
    match recorded.await {
        Ok(()) => OidcError::invalid_grant("the refresh token is invalid, expired or revoked"),
        Err(e) => e.into(),
    }
}
