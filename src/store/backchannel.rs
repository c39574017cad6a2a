//! The back-channel logout outbox: one row per client to tell, retried until delivered.
use super::Result;
use chrono::{DateTime, Utc};
use entity::backchannel_logout;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::model::backchannel_logout::BackchannelLogout;

pub async fn queue(
    c: &impl ConnectionTrait,
    client_id: &str,
    uri: &str,
    user_id: Uuid,
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<()> {
    backchannel_logout::Entity::insert(backchannel_logout::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id.to_string()),
        uri: Set(uri.to_string()),
        user_id: Set(user_id),
        session_id: Set(session_id),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        delivered_at: Set(None),
        last_error: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

pub async fn due(c: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<BackchannelLogout>> {
    let rows = backchannel_logout::Entity::find()
        .filter(backchannel_logout::Column::DeliveredAt.is_null())
        .filter(backchannel_logout::Column::NextAttemptAt.lte(now))
        .order_by_asc(backchannel_logout::Column::NextAttemptAt)
        .limit(limit)
        .all(c)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| BackchannelLogout {
            id: r.id,
            client_id: r.client_id,
            uri: r.uri,
            user_id: r.user_id,
            session_id: r.session_id,
            attempts: r.attempts,
        })
        .collect())
}

/// Claims a row for one attempt by moving its next attempt on; false if another node did.
pub async fn claim(c: &impl ConnectionTrait, row: &BackchannelLogout, until: DateTime<Utc>) -> Result<bool> {
    let res = backchannel_logout::Entity::update_many()
        .col_expr(backchannel_logout::Column::NextAttemptAt, Expr::value(until))
        .col_expr(backchannel_logout::Column::Attempts, Expr::value(row.attempts + 1))
        .filter(backchannel_logout::Column::Id.eq(row.id))
        .filter(backchannel_logout::Column::Attempts.eq(row.attempts))
        .filter(backchannel_logout::Column::DeliveredAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delivered(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    backchannel_logout::Entity::update_many()
        .col_expr(backchannel_logout::Column::DeliveredAt, Expr::value(now))
        .col_expr(
            backchannel_logout::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(backchannel_logout::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn failed(c: &impl ConnectionTrait, id: Uuid, error: &str) -> Result<()> {
    backchannel_logout::Entity::update_many()
        .col_expr(backchannel_logout::Column::LastError, Expr::value(error.to_string()))
        .filter(backchannel_logout::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}
