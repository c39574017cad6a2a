//! TOTP keys and recovery codes.
use super::Result;
use crate::model::second_factor::TotpKey;
use chrono::{DateTime, Utc};
use entity::{recovery_code, totp_key};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

pub async fn find_totp(c: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<TotpKey>> {
    Ok(totp_key::Entity::find_by_id(user_id).one(c).await?.map(|m| TotpKey {
        user_id: m.user_id,
        sealed: m.sealed,
        confirmed_at: m.confirmed_at,
        last_used_step: m.last_used_step,
        created_at: m.created_at,
        bound_to: m.bound_to,
    }))
}

/// Keeps a key waiting for its first code, replacing an unconfirmed one; false when
/// the user has a confirmed key (it must be removed first).
pub async fn put_unconfirmed(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    sealed: Vec<u8>,
    bound_to: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = totp_key::Entity::insert(totp_key::ActiveModel {
        user_id: Set(user_id),
        sealed: Set(sealed),
        confirmed_at: Set(None),
        last_used_step: Set(None),
        created_at: Set(now),
        bound_to: Set(Some(bound_to)),
    })
    .on_conflict(
        OnConflict::column(totp_key::Column::UserId)
            .update_columns([
                totp_key::Column::Sealed,
                totp_key::Column::CreatedAt,
                totp_key::Column::BoundTo,
            ])
            .action_and_where(totp_key::Column::ConfirmedAt.is_null())
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    Ok(res == 1)
}

/// Confirms the waiting key with the step of its first code.
pub async fn confirm_totp(c: &impl ConnectionTrait, user_id: Uuid, step: i64, now: DateTime<Utc>) -> Result<bool> {
    let res = totp_key::Entity::update_many()
        .col_expr(totp_key::Column::ConfirmedAt, Expr::value(now))
        .col_expr(totp_key::Column::LastUsedStep, Expr::value(step))
        .col_expr(totp_key::Column::BoundTo, Expr::value(Option::<Uuid>::None))
        .filter(totp_key::Column::UserId.eq(user_id))
        .filter(totp_key::Column::ConfirmedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Takes a code's time step, once: false when that step or a later one was used
/// already (a replayed code, or one older than the last accepted).
pub async fn take_step(c: &impl ConnectionTrait, user_id: Uuid, step: i64) -> Result<bool> {
    let res = totp_key::Entity::update_many()
        .col_expr(totp_key::Column::LastUsedStep, Expr::value(step))
        .filter(totp_key::Column::UserId.eq(user_id))
        .filter(totp_key::Column::ConfirmedAt.is_not_null())
        .filter(
            Condition::any()
                .add(totp_key::Column::LastUsedStep.is_null())
                .add(totp_key::Column::LastUsedStep.lt(step)),
        )
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete_totp(c: &impl ConnectionTrait, user_id: Uuid) -> Result<bool> {
    Ok(totp_key::Entity::delete_by_id(user_id).exec(c).await?.rows_affected == 1)
}

/// Replaces a user's recovery codes with these (keyed hashes).
pub async fn replace_recovery_codes(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    hashes: Vec<Vec<u8>>,
    now: DateTime<Utc>,
) -> Result<()> {
    delete_recovery_codes(c, user_id).await?;
    let rows = hashes.into_iter().map(|h| recovery_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        code_hash: Set(h),
        created_at: Set(now),
        used_at: Set(None),
    });
    recovery_code::Entity::insert_many(rows)
        .exec_without_returning(c)
        .await?;
    Ok(())
}

pub async fn delete_recovery_codes(c: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(())
}

/// Uses a recovery code up; false when it is not one of the user's unused codes.
pub async fn use_recovery_code(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::CodeHash.eq(hash.to_vec()))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn unused_recovery_codes(c: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(c)
        .await?)
}

/// Forgets a key still waiting for its first code (a new password, a reset of 2FA).
pub async fn delete_unconfirmed(c: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    totp_key::Entity::delete_many()
        .filter(totp_key::Column::UserId.eq(user_id))
        .filter(totp_key::Column::ConfirmedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}
