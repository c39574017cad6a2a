use super::Result;
use crate::model::scim_client::{ClientRecord, ClientRights, LoggedRequest};
use chrono::{DateTime, Utc};
use entity::{scim_client, scim_client_group, scim_request};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

fn to_record(m: scim_client::Model, groups: Vec<Uuid>) -> ClientRecord {
    ClientRecord {
        id: m.id,
        name: m.name,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
        limited_to_groups: m.limited_to_groups,
        groups,
        rights: ClientRights {
            manage_admins: m.manage_admins,
            set_passwords: m.set_passwords,
            no_invites: m.no_invites,
        },
    }
}

async fn groups_of(c: &impl ConnectionTrait, id: Uuid) -> Result<Vec<Uuid>> {
    Ok(scim_client_group::Entity::find()
        .select_only()
        .column(scim_client_group::Column::GroupId)
        .filter(scim_client_group::Column::ClientId.eq(id))
        .into_tuple()
        .all(c)
        .await?)
}

pub async fn insert(c: &impl ConnectionTrait, r: &ClientRecord, token_hash: Vec<u8>) -> Result<()> {
    let row = scim_client::ActiveModel {
        id: Set(r.id),
        name: Set(r.name.clone()),
        name_lower: Set(r.name.to_lowercase()),
        token_hash: Set(token_hash),
        created_at: Set(r.created_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        manage_admins: Set(r.rights.manage_admins),
        set_passwords: Set(r.rights.set_passwords),
        no_invites: Set(r.rights.no_invites),
        limited_to_groups: Set(r.limited_to_groups),
    };
    scim_client::Entity::insert(row).exec_without_returning(c).await?;
    for g in &r.groups {
        let link = scim_client_group::ActiveModel {
            client_id: Set(r.id),
            group_id: Set(*g),
        };
        scim_client_group::Entity::insert(link)
            .exec_without_returning(c)
            .await?;
    }
    Ok(())
}

pub async fn find_by_name(c: &impl ConnectionTrait, name: &str) -> Result<Option<ClientRecord>> {
    let Some(m) = scim_client::Entity::find()
        .filter(scim_client::Column::NameLower.eq(name.to_lowercase()))
        .one(c)
        .await?
    else {
        return Ok(None);
    };
    let groups = groups_of(c, m.id).await?;
    Ok(Some(to_record(m, groups)))
}

/// The unrevoked client holding a token, by the token's hash.
pub async fn find_by_token(c: &impl ConnectionTrait, hash: &[u8]) -> Result<Option<ClientRecord>> {
    let Some(m) = scim_client::Entity::find()
        .filter(scim_client::Column::TokenHash.eq(hash.to_vec()))
        .filter(scim_client::Column::RevokedAt.is_null())
        .one(c)
        .await?
    else {
        return Ok(None);
    };
    let groups = groups_of(c, m.id).await?;
    Ok(Some(to_record(m, groups)))
}

pub async fn list(c: &impl ConnectionTrait) -> Result<Vec<ClientRecord>> {
    let rows = scim_client::Entity::find()
        .order_by_asc(scim_client::Column::NameLower)
        .all(c)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let groups = groups_of(c, m.id).await?;
        out.push(to_record(m, groups));
    }
    Ok(out)
}

pub async fn revoke(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let res = scim_client::Entity::update_many()
        .col_expr(scim_client::Column::RevokedAt, Expr::value(now))
        .filter(scim_client::Column::Id.eq(id))
        .filter(scim_client::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn touch(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    scim_client::Entity::update_many()
        .col_expr(scim_client::Column::LastUsedAt, Expr::value(now))
        .filter(scim_client::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn log_request(c: &impl ConnectionTrait, client_id: Uuid, r: &LoggedRequest) -> Result<()> {
    let row = scim_request::ActiveModel {
        id: NotSet,
        client_id: Set(client_id),
        at: Set(r.at),
        method: Set(r.method.clone()),
        path: Set(r.path.clone()),
        status: Set(i32::from(r.status)),
        error: Set(r.error.clone()),
        summary: Set(r.summary.clone()),
    };
    scim_request::Entity::insert(row).exec_without_returning(c).await?;
    Ok(())
}

/// Keeps the newest `keep` log rows of a client.
pub async fn prune_log(c: &impl ConnectionTrait, client_id: Uuid, keep: u64) -> Result<()> {
    let cutoff: Option<i64> = scim_request::Entity::find()
        .select_only()
        .column(scim_request::Column::Id)
        .filter(scim_request::Column::ClientId.eq(client_id))
        .order_by_desc(scim_request::Column::Id)
        .offset(keep)
        .limit(1)
        .into_tuple()
        .one(c)
        .await?;
    if let Some(id) = cutoff {
        scim_request::Entity::delete_many()
            .filter(scim_request::Column::ClientId.eq(client_id))
            .filter(scim_request::Column::Id.lte(id))
            .exec(c)
            .await?;
    }
    Ok(())
}

pub async fn recent_requests(c: &impl ConnectionTrait, client_id: Uuid, limit: u64) -> Result<Vec<LoggedRequest>> {
    Ok(scim_request::Entity::find()
        .filter(scim_request::Column::ClientId.eq(client_id))
        .order_by_desc(scim_request::Column::Id)
        .limit(limit)
        .all(c)
        .await?
        .into_iter()
        .map(|m| LoggedRequest {
            at: m.at,
            method: m.method,
            path: m.path,
            status: u16::try_from(m.status).unwrap_or(0),
            error: m.error,
            summary: m.summary,
        })
        .collect())
}
