//! Changes an admin makes to a registered client: where it redirects and is told of
//! logouts, which groups it admits, and a new secret. Each change is audited and
//! counts at once: the client cache forgets the client.
use super::clients::{AUTHORIZATION_CODE, Client, check_uri};
use super::{OidcError, Provider};
use crate::audit::{self, Actor, Event, Target};
use crate::crypto::{random_token, token_hash};
use crate::store::{self, StoreError};
use uuid::Uuid;

/// What the console's client form sets; everything else stays as registered.
#[derive(Debug, Default, Clone)]
pub struct ClientEdit {
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// Only members of these groups may sign in; empty admits everyone.
    pub groups: Vec<Uuid>,
}

async fn editable(tx: &impl store::Conn, id: &str) -> Result<Client, OidcError> {
    if id == super::console::CLIENT_ID {
        return Err(OidcError::invalid_request(
            "the admin console's client is part of Tessera and cannot be changed",
        ));
    }
    store::oidc_clients::find(tx, id)
        .await?
        .ok_or_else(|| OidcError::invalid_request(format!("no client with id '{id}'")))
}

pub async fn edit(svc: &Provider, actor: &Actor, id: &str, edit: ClientEdit) -> Result<Client, OidcError> {
    let tx = svc.store.begin().await?;
    let client = editable(&tx, id).await?;
    for uri in &edit.redirect_uris {
        check_uri(uri, "redirect URI", client.public)?;
    }
    if client.allows_grant(AUTHORIZATION_CODE) && edit.redirect_uris.is_empty() {
        return Err(OidcError::invalid_request(
            "a client that signs users in needs at least one redirect URI",
        ));
    }
    for uri in &edit.post_logout_uris {
        check_uri(uri, "post-logout URI", client.public)?;
    }
    if let Some(uri) = &edit.backchannel_logout_uri {
        check_uri(uri, "back-channel logout URI", false)?;
    }
    let known = store::groups::all_names(&tx).await?;
    if !edit.groups.iter().all(|g| known.iter().any(|(id, _)| id == g)) {
        return Err(OidcError::invalid_request("one of the groups no longer exists"));
    }
    store::oidc_clients::set_endpoints(
        &tx,
        id,
        &edit.redirect_uris,
        &edit.post_logout_uris,
        edit.backchannel_logout_uri.as_deref(),
    )
    .await?;
    store::oidc_clients::set_groups(&tx, id, &edit.groups).await?;
    audit::record(
        &tx,
        &Event::new(actor, "client.update", Some(Target::client(&client.id, &client.name))).with_detail(
            serde_json::json!({
                "redirect_uris": edit.redirect_uris,
                "post_logout_uris": edit.post_logout_uris,
                "backchannel_logout_uri": edit.backchannel_logout_uri,
                "groups": edit.groups,
            }),
        ),
        svc.now(),
    )
    .await?;
    let changed = store::oidc_clients::find(&tx, id)
        .await?
        .ok_or_else(|| OidcError::invalid_request(format!("no client with id '{id}'")))?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.clients.forget(id);
    Ok(changed)
}

/// A new secret for a confidential client, returned once; the old one stops working.
pub async fn rotate_secret(svc: &Provider, actor: &Actor, id: &str) -> Result<(Client, String), OidcError> {
    let tx = svc.store.begin().await?;
    let client = editable(&tx, id).await?;
    if client.secret_hash.is_none() {
        return Err(OidcError::invalid_request(if client.public {
            "a public client has no secret"
        } else {
            "this client signs its requests with its own keys: it has no secret"
        }));
    }
    let secret = random_token();
    store::oidc_clients::set_secret_hash(&tx, id, token_hash(&secret)).await?;
    audit::record(
        &tx,
        &Event::new(
            actor,
            "client.rotate_secret",
            Some(Target::client(&client.id, &client.name)),
        ),
        svc.now(),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.clients.forget(id);
    Ok((client, secret))
}
