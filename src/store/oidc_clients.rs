//! Registered OpenID Connect clients and the groups they are limited to.
use super::Result;
use chrono::{DateTime, Utc};
use entity::{oidc_client, oidc_client_group};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grants: Vec<String>,
    pub consent: bool,
    pub pkce_required: bool,
    pub id_token_alg: String,
    pub groups: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    /// A JWK Set: the client authenticates with `private_key_jwt`.
    pub jwks: Option<serde_json::Value>,
    /// What client_credentials may grant it; nothing else is granted.
    pub scopes: Vec<String>,
    /// A resource server: may introspect access tokens issued to other clients.
    pub may_introspect: bool,
    /// Registered with groups: admits only their members, and no one once none is left.
    pub limited_to_groups: bool,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn to_record(m: oidc_client::Model, groups: Vec<Uuid>) -> ClientRecord {
    ClientRecord {
        redirect_uris: strings(&m.redirect_uris),
        post_logout_uris: strings(&m.post_logout_uris),
        grants: strings(&m.grants),
        scopes: strings(&m.scopes),
        may_introspect: m.may_introspect,
        limited_to_groups: m.limited_to_groups,
        id: m.id,
        name: m.name,
        secret_hash: m.secret_hash,
        public: m.public,
        backchannel_logout_uri: m.backchannel_logout_uri,
        consent: m.consent,
        pkce_required: m.pkce_required,
        id_token_alg: m.id_token_alg,
        groups,
        created_at: m.created_at,
        jwks: m.jwks,
    }
}

pub async fn insert(c: &impl ConnectionTrait, r: &ClientRecord) -> Result<()> {
    oidc_client::Entity::insert(oidc_client::ActiveModel {
        id: Set(r.id.clone()),
        name: Set(r.name.clone()),
        secret_hash: Set(r.secret_hash.clone()),
        public: Set(r.public),
        redirect_uris: Set(json!(r.redirect_uris)),
        post_logout_uris: Set(json!(r.post_logout_uris)),
        backchannel_logout_uri: Set(r.backchannel_logout_uri.clone()),
        grants: Set(json!(r.grants)),
        consent: Set(r.consent),
        pkce_required: Set(r.pkce_required),
        id_token_alg: Set(r.id_token_alg.clone()),
        created_at: Set(r.created_at),
        jwks: Set(r.jwks.clone()),
        scopes: Set(json!(r.scopes)),
        may_introspect: Set(r.may_introspect),
        limited_to_groups: Set(r.limited_to_groups),
    })
    .exec_without_returning(c)
    .await?;
    if !r.groups.is_empty() {
        let rows = r.groups.iter().map(|g| oidc_client_group::ActiveModel {
            client_id: Set(r.id.clone()),
            group_id: Set(*g),
        });
        oidc_client_group::Entity::insert_many(rows)
            .exec_without_returning(c)
            .await?;
    }
    Ok(())
}

async fn groups_of(c: &impl ConnectionTrait, id: &str) -> Result<Vec<Uuid>> {
    Ok(oidc_client_group::Entity::find()
        .filter(oidc_client_group::Column::ClientId.eq(id))
        .all(c)
        .await?
        .into_iter()
        .map(|g| g.group_id)
        .collect())
}

pub async fn find(c: &impl ConnectionTrait, id: &str) -> Result<Option<ClientRecord>> {
    let Some(m) = oidc_client::Entity::find_by_id(id.to_string()).one(c).await? else {
        return Ok(None);
    };
    let groups = groups_of(c, id).await?;
    Ok(Some(to_record(m, groups)))
}

pub async fn list(c: &impl ConnectionTrait) -> Result<Vec<ClientRecord>> {
    let mut out = Vec::new();
    for m in oidc_client::Entity::find()
        .order_by_asc(oidc_client::Column::CreatedAt)
        .all(c)
        .await?
    {
        let groups = groups_of(c, &m.id).await?;
        out.push(to_record(m, groups));
    }
    Ok(out)
}

pub async fn delete(c: &impl ConnectionTrait, id: &str) -> Result<bool> {
    let res = oidc_client::Entity::delete_by_id(id.to_string()).exec(c).await?;
    Ok(res.rows_affected == 1)
}

pub async fn set_redirect_uris(c: &impl ConnectionTrait, id: &str, uris: &[String]) -> Result<()> {
    oidc_client::Entity::update_many()
        .col_expr(oidc_client::Column::RedirectUris, Expr::value(json!(uris)))
        .filter(oidc_client::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// Where a client's browser answers and logout notices go.
pub async fn set_endpoints(
    c: &impl ConnectionTrait,
    id: &str,
    redirect_uris: &[String],
    post_logout_uris: &[String],
    backchannel_logout_uri: Option<&str>,
) -> Result<()> {
    oidc_client::Entity::update_many()
        .col_expr(oidc_client::Column::RedirectUris, Expr::value(json!(redirect_uris)))
        .col_expr(
            oidc_client::Column::PostLogoutUris,
            Expr::value(json!(post_logout_uris)),
        )
        .col_expr(
            oidc_client::Column::BackchannelLogoutUri,
            Expr::value(backchannel_logout_uri.map(str::to_string)),
        )
        .filter(oidc_client::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// The groups a client admits, replacing the old ones; none means everyone.
pub async fn set_groups(c: &impl ConnectionTrait, id: &str, groups: &[Uuid]) -> Result<()> {
    oidc_client_group::Entity::delete_many()
        .filter(oidc_client_group::Column::ClientId.eq(id))
        .exec(c)
        .await?;
    if !groups.is_empty() {
        let rows = groups.iter().map(|g| oidc_client_group::ActiveModel {
            client_id: Set(id.to_string()),
            group_id: Set(*g),
        });
        oidc_client_group::Entity::insert_many(rows)
            .exec_without_returning(c)
            .await?;
    }
    oidc_client::Entity::update_many()
        .col_expr(oidc_client::Column::LimitedToGroups, Expr::value(!groups.is_empty()))
        .filter(oidc_client::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn set_secret_hash(c: &impl ConnectionTrait, id: &str, hash: Vec<u8>) -> Result<()> {
    oidc_client::Entity::update_many()
        .col_expr(oidc_client::Column::SecretHash, Expr::value(hash))
        .filter(oidc_client::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}
