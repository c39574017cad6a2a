//! SCIM clients: registered by an admin, holding a bearer token stored only as its
//! SHA-256, optionally limited to groups, with a log of their recent requests.
use super::{ScimClient, ScimError};
use crate::audit::{self, Actor, Event};
use crate::crypto::{random_token, token_hash};
use crate::model::query::Scope;
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::Duration;
use uuid::Uuid;

/// Requests kept per client.
pub const LOG_KEEP: u64 = 1000;

pub use crate::model::scim_client::{ClientRecord, ClientRights, LoggedRequest};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("name: {0}")]
    InvalidName(&'static str),
    #[error("a SCIM client named '{0}' already exists")]
    NameTaken(String),
    #[error("no SCIM client '{0}'")]
    NotFound(String),
    #[error("no group '{0}'")]
    NoGroup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers a client; the token is returned here once and never again.
pub async fn create(
    svc: &Services,
    actor: &Actor,
    name: &str,
    group_names: &[String],
    rights: ClientRights,
) -> Result<(ClientRecord, String), ClientError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(ClientError::InvalidName(
            "1 to 128 characters, without control characters",
        ));
    }
    let now = svc.now();
    let tx = svc.store.begin().await?;
    if store::scim_clients::find_by_name(&tx, name).await?.is_some() {
        return Err(ClientError::NameTaken(name.to_string()));
    }
    let mut groups = Vec::new();
    for g in group_names {
        let group = store::groups::find_by_name(&tx, g)
            .await?
            .ok_or_else(|| ClientError::NoGroup(g.clone()))?;
        groups.push(group.id);
    }
    let token = random_token();
    let record = ClientRecord {
        id: Uuid::now_v7(),
        name: name.to_string(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        limited_to_groups: !groups.is_empty(),
        groups,
        rights,
    };
    store::scim_clients::insert(&tx, &record, token_hash(&token)).await?;
    audit::record(
        &tx,
        &Event::new(actor, "scim_client.create", None).with_detail(serde_json::json!({
            "client_id": record.id, "name": name, "groups": group_names,
            "manage_admins": rights.manage_admins, "set_passwords": rights.set_passwords,
            "no_invites": rights.no_invites,
        })),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((record, token))
}

pub async fn revoke(svc: &Services, actor: &Actor, name: &str) -> Result<ClientRecord, ClientError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let mut record = store::scim_clients::find_by_name(&tx, name)
        .await?
        .ok_or_else(|| ClientError::NotFound(name.to_string()))?;
    if store::scim_clients::revoke(&tx, record.id, now).await? {
        record.revoked_at = Some(now);
        audit::record(
            &tx,
            &Event::new(actor, "scim_client.revoke", None)
                .with_detail(serde_json::json!({ "client_id": record.id, "name": record.name })),
            now,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(record)
}

pub async fn list(svc: &Services) -> Result<Vec<ClientRecord>, ClientError> {
    Ok(store::scim_clients::list(svc.store.conn()).await?)
}

pub async fn find(svc: &Services, id: Uuid) -> Result<ClientRecord, ClientError> {
    list(svc)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ClientError::NotFound(id.to_string()))
}

pub async fn log(svc: &Services, name: &str, limit: u64) -> Result<(ClientRecord, Vec<LoggedRequest>), ClientError> {
    let c = svc.store.conn();
    let record = store::scim_clients::find_by_name(c, name)
        .await?
        .ok_or_else(|| ClientError::NotFound(name.to_string()))?;
    let requests = store::scim_clients::recent_requests(c, record.id, limit).await?;
    Ok((record, requests))
}

/// The client behind a bearer token. Last use is recorded at most once a minute.
pub async fn authenticate(svc: &Services, token: &str, source_ip: Option<String>) -> Result<ScimClient, ScimError> {
    let c = svc.store.conn();
    let record = store::scim_clients::find_by_token(svc.store.reader(), &token_hash(token))
        .await?
        .ok_or_else(|| ScimError::unauthorized("the bearer token is not valid"))?;
    let now = svc.now();
    if record.last_used_at.is_none_or(|t| now - t > Duration::minutes(1)) {
        store::scim_clients::touch(c, record.id, now).await?;
    }
    Ok(ScimClient {
        id: record.id,
        name: record.name,
        scope: Scope {
            groups: record.groups,
            limited: record.limited_to_groups,
        },
        rights: record.rights,
        source_ip,
    })
}

/// Appends to the client's request log, now and then trimming it to `LOG_KEEP`.
pub async fn record_request(svc: &Services, client_id: Uuid, request: LoggedRequest) -> Result<(), StoreError> {
    let c = svc.store.conn();
    store::scim_clients::log_request(c, client_id, &request).await?;
    if rand::random_range(0..50) == 0 {
        store::scim_clients::prune_log(c, client_id, LOG_KEEP).await?;
    }
    Ok(())
}
