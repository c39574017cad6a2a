//! Known browsers per user (device cookies, stored as SHA-256) and their lockouts.
use super::{Result, StoreError};
use crate::model::device::KnownDevice;
use chrono::{DateTime, Utc};
use entity::known_device::{ActiveModel, Column, Entity, Model};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

fn to_domain(m: Model) -> KnownDevice {
    KnownDevice {
        id: m.id,
        user_id: m.user_id,
        failed_logins: m.failed_logins,
        locked_until: m.locked_until,
        lockouts: m.lockouts,
        last_seen_at: m.last_seen_at,
    }
}

pub async fn find(c: &impl ConnectionTrait, user_id: Uuid, device_hash: &[u8]) -> Result<Option<KnownDevice>> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::DeviceHash.eq(device_hash.to_vec()))
        .one(c)
        .await?
        .map(to_domain))
}

/// The user signed in from this browser: it is known from now on, with a clean count.
pub async fn remember(c: &impl ConnectionTrait, user_id: Uuid, device_hash: &[u8], now: DateTime<Utc>) -> Result<()> {
    Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        device_hash: Set(device_hash.to_vec()),
        failed_logins: Set(0),
        locked_until: Set(None),
        lockouts: Set(0),
        created_at: Set(now),
        last_seen_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([Column::UserId, Column::DeviceHash])
            .update_columns([
                Column::FailedLogins,
                Column::LockedUntil,
                Column::Lockouts,
                Column::LastSeenAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// Counts a failed sign-in from this browser atomically; returns the new count.
pub async fn count_failure(c: &impl ConnectionTrait, id: Uuid) -> Result<i32> {
    Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).add(1))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    let row = Entity::find_by_id(id)
        .one(c)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("known device {id} vanished")))?;
    Ok(row.failed_logins)
}

/// Locks sign-ins from this browser until `until`; the count starts again and the
/// lockout is counted, so the next one lasts longer.
pub async fn lock(c: &impl ConnectionTrait, id: Uuid, until: DateTime<Utc>) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::LockedUntil, Expr::value(until))
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(Column::Lockouts, Expr::col(Column::Lockouts).add(1))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// Ends every lock and count of a user's browsers (an admin's unlock, a new password).
pub async fn clear_for_user(c: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::Lockouts, Expr::value(0))
        .filter(Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(())
}

/// Counts an attempt before it is checked, only while the browser is not locked; the
/// count now, or None when locked.
pub async fn take_attempt(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<Option<i32>> {
    use sea_orm::Condition;
    // One statement: the count after it comes back with it (RETURNING).
    let rows = Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).add(1))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::LockedUntil.is_null())
                .add(Column::LockedUntil.lte(now)),
        )
        .exec_with_returning(c)
        .await?;
    Ok(rows.first().map(|m| m.failed_logins))
}
