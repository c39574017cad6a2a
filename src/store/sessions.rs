//! SSO sessions (the cookie's SHA-256 only).
use super::Result;
use chrono::{DateTime, Utc};
use entity::sso_session;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::model::session::{Origin, Session, SessionSummary};

fn to_session(row: sso_session::Model) -> Session {
    Session {
        amr: super::json_strings(&row.amr),
        id: row.id,
        user_id: row.user_id,
        auth_time: row.auth_time,
        acr: row.acr,
    }
}

/// Stores a session started at its auth_time, found again by its cookie's hash.
pub async fn insert(
    c: &impl ConnectionTrait,
    s: &Session,
    origin: &Origin,
    token_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sso_session::Entity::insert(sso_session::ActiveModel {
        id: Set(s.id),
        token_hash: Set(token_hash),
        user_id: Set(s.user_id),
        auth_time: Set(s.auth_time),
        acr: Set(s.acr.clone()),
        amr: Set(serde_json::json!(s.amr)),
        created_at: Set(s.auth_time),
        expires_at: Set(expires_at),
        ended_at: Set(None),
        user_agent: Set(origin.user_agent.clone()),
        ip: Set(origin.ip.clone()),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// A session that has not ended or expired.
pub async fn find_live(c: &impl ConnectionTrait, hash: &[u8], now: DateTime<Utc>) -> Result<Option<Session>> {
    Ok(sso_session::Entity::find()
        .filter(sso_session::Column::TokenHash.eq(hash.to_vec()))
        .filter(sso_session::Column::EndedAt.is_null())
        .filter(sso_session::Column::ExpiresAt.gt(now))
        .one(c)
        .await?
        .map(to_session))
}

/// Ends the session; false if it had already ended.
pub async fn end(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let res = sso_session::Entity::update_many()
        .col_expr(sso_session::Column::EndedAt, Expr::value(now))
        .filter(sso_session::Column::Id.eq(id))
        .filter(sso_session::Column::EndedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Ends every live session of a user; returns their ids.
pub async fn end_all_for_user(c: &impl ConnectionTrait, user_id: Uuid, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let live: Vec<Uuid> = sso_session::Entity::find()
        .filter(sso_session::Column::UserId.eq(user_id))
        .filter(sso_session::Column::EndedAt.is_null())
        .all(c)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if !live.is_empty() {
        sso_session::Entity::update_many()
            .col_expr(sso_session::Column::EndedAt, Expr::value(now))
            .filter(sso_session::Column::Id.is_in(live.clone()))
            .exec(c)
            .await?;
    }
    Ok(live)
}

/// A new cookie value (`hash`), sign-in time, `acr`/`amr` and origin for a session the
/// same user signed in to again (`renewed` holds the new values).
pub async fn rekey(
    c: &impl ConnectionTrait,
    renewed: &Session,
    hash: Vec<u8>,
    expires_at: DateTime<Utc>,
    origin: &Origin,
) -> Result<()> {
    let (id, auth_time, acr, amr) = (renewed.id, renewed.auth_time, renewed.acr.as_str(), &renewed.amr);
    sso_session::Entity::update_many()
        .col_expr(sso_session::Column::UserAgent, Expr::value(origin.user_agent.clone()))
        .col_expr(sso_session::Column::Ip, Expr::value(origin.ip.clone()))
        .col_expr(sso_session::Column::TokenHash, Expr::value(hash))
        .col_expr(sso_session::Column::Acr, Expr::value(acr))
        .col_expr(sso_session::Column::Amr, Expr::value(serde_json::json!(amr)))
        .col_expr(sso_session::Column::AuthTime, Expr::value(auth_time))
        .col_expr(sso_session::Column::ExpiresAt, Expr::value(expires_at))
        .filter(sso_session::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// A user's live sessions, newest first.
pub async fn live_for_user(c: &impl ConnectionTrait, user_id: Uuid, now: DateTime<Utc>) -> Result<Vec<SessionSummary>> {
    use sea_orm::QueryOrder;
    Ok(sso_session::Entity::find()
        .filter(sso_session::Column::UserId.eq(user_id))
        .filter(sso_session::Column::EndedAt.is_null())
        .filter(sso_session::Column::ExpiresAt.gt(now))
        .order_by_desc(sso_session::Column::CreatedAt)
        .all(c)
        .await?
        .into_iter()
        .map(|row| SessionSummary {
            id: row.id,
            started_at: row.created_at,
            auth_time: row.auth_time,
            acr: row.acr,
            origin: Origin {
                ip: row.ip,
                user_agent: row.user_agent,
            },
        })
        .collect())
}

/// One of a user's live sessions by id (None when it is another user's, or over).
pub async fn find_for_user(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Session>> {
    Ok(sso_session::Entity::find_by_id(id)
        .filter(sso_session::Column::UserId.eq(user_id))
        .filter(sso_session::Column::EndedAt.is_null())
        .filter(sso_session::Column::ExpiresAt.gt(now))
        .one(c)
        .await?
        .map(to_session))
}
