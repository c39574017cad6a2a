//! Authorization requests waiting on the sign-in steps, found by their handle's SHA-256.
use super::{Result, StoreError};
use chrono::{DateTime, Utc};
use entity::authorization_request;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::model::sign_in::{Params, PendingSignIn, Stage};

fn encode(params: &Params) -> Result<serde_json::Value> {
    serde_json::to_value(params).map_err(|e| StoreError::Statement(e.to_string()))
}

/// Stores a sign-in, found again by the hash of its handle.
pub async fn insert(c: &impl ConnectionTrait, p: &PendingSignIn, handle_hash: Vec<u8>) -> Result<()> {
    authorization_request::Entity::insert(authorization_request::ActiveModel {
        id: Set(p.id),
        handle_hash: Set(handle_hash),
        client_id: Set(p.client_id.clone()),
        params: Set(encode(&p.params)?),
        user_id: Set(p.user_id),
        stage: Set(p.stage.as_str().to_string()),
        amr: Set(Some(serde_json::json!(p.amr))),
        created_at: Set(p.created_at),
        expires_at: Set(p.expires_at),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// The unexpired sign-in behind a handle's hash. A row whose stage this version does
/// not know is treated as gone; unreadable parameters read as none (the request is
/// checked again anyway).
pub async fn find_live(c: &impl ConnectionTrait, hash: &[u8], now: DateTime<Utc>) -> Result<Option<PendingSignIn>> {
    let row = authorization_request::Entity::find()
        .filter(authorization_request::Column::HandleHash.eq(hash.to_vec()))
        .filter(authorization_request::Column::ExpiresAt.gt(now))
        .one(c)
        .await?;
    Ok(row.and_then(|r| {
        Some(PendingSignIn {
            stage: Stage::parse(&r.stage)?,
            id: r.id,
            client_id: r.client_id,
            params: serde_json::from_value(r.params).unwrap_or_default(),
            user_id: r.user_id,
            amr: r.amr.as_ref().map(super::json_strings).unwrap_or_default(),
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }))
}

/// Moves the request to `stage` for `user` (and new parameters); only from the stage
/// it is known to be at, so two tabs cannot both take a step.
pub async fn advance(
    c: &impl ConnectionTrait,
    id: Uuid,
    from: Stage,
    to: Stage,
    user: Option<Uuid>,
    params: Option<&Params>,
    amr: Option<&[String]>,
) -> Result<bool> {
    let mut update = authorization_request::Entity::update_many();
    if let Some(p) = params {
        update = update.col_expr(authorization_request::Column::Params, Expr::value(encode(p)?));
    }
    if let Some(amr) = amr {
        update = update.col_expr(authorization_request::Column::Amr, Expr::value(serde_json::json!(amr)));
    }
    let res = update
        .col_expr(
            authorization_request::Column::Stage,
            Expr::value(to.as_str().to_string()),
        )
        .col_expr(authorization_request::Column::UserId, Expr::value(user))
        .filter(authorization_request::Column::Id.eq(id))
        .filter(authorization_request::Column::Stage.eq(from.as_str().to_string()))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete(c: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    authorization_request::Entity::delete_by_id(id).exec(c).await?;
    Ok(())
}

/// Drops every sign-in in progress for a user (signed out everywhere, a new password,
/// second factor removed): none of them may finish on what was proven before.
pub async fn delete_for_user(c: &impl ConnectionTrait, user_id: Uuid, except: Option<Uuid>) -> Result<()> {
    let mut delete =
        authorization_request::Entity::delete_many().filter(authorization_request::Column::UserId.eq(user_id));
    if let Some(keep) = except {
        delete = delete.filter(authorization_request::Column::Id.ne(keep));
    }
    delete.exec(c).await?;
    Ok(())
}
