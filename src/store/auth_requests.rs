//! Authorization requests waiting on the sign-in steps, found by their handle's SHA-256.
use super::Result;
use chrono::{DateTime, Utc};
use entity::authorization_request;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use authorization_request::Model as PendingRow;

pub async fn insert(c: &impl ConnectionTrait, row: PendingRow) -> Result<()> {
    authorization_request::Entity::insert(authorization_request::ActiveModel {
        id: Set(row.id),
        handle_hash: Set(row.handle_hash),
        client_id: Set(row.client_id),
        params: Set(row.params),
        user_id: Set(row.user_id),
        stage: Set(row.stage),
        created_at: Set(row.created_at),
        expires_at: Set(row.expires_at),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

pub async fn find_live(c: &impl ConnectionTrait, hash: &[u8], now: DateTime<Utc>) -> Result<Option<PendingRow>> {
    Ok(authorization_request::Entity::find()
        .filter(authorization_request::Column::HandleHash.eq(hash.to_vec()))
        .filter(authorization_request::Column::ExpiresAt.gt(now))
        .one(c)
        .await?)
}

/// Moves the request to `stage` for `user` (and new parameters); only from the stage
/// it is known to be at, so two tabs cannot both take a step.
pub async fn advance(
    c: &impl ConnectionTrait,
    id: Uuid,
    from: &str,
    to: &str,
    user: Option<Uuid>,
    params: Option<serde_json::Value>,
) -> Result<bool> {
    let mut update = authorization_request::Entity::update_many();
    if let Some(p) = params {
        update = update.col_expr(authorization_request::Column::Params, Expr::value(p));
    }
    let res = update
        .col_expr(authorization_request::Column::Stage, Expr::value(to.to_string()))
        .col_expr(authorization_request::Column::UserId, Expr::value(user))
        .filter(authorization_request::Column::Id.eq(id))
        .filter(authorization_request::Column::Stage.eq(from.to_string()))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete(c: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    authorization_request::Entity::delete_by_id(id).exec(c).await?;
    Ok(())
}
