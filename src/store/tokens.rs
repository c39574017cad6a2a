use super::Result;
use crate::model::one_time_token::{OneTimeToken, Purpose};
use chrono::{DateTime, Utc};
use entity::one_time_token::{ActiveModel, Column, Entity};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub async fn insert(c: &impl ConnectionTrait, t: &OneTimeToken, hash: Vec<u8>) -> Result<()> {
    let row = ActiveModel {
        id: Set(t.id),
        token_hash: Set(hash),
        purpose: Set(t.purpose.as_str().to_string()),
        user_id: Set(t.user_id),
        created_at: Set(t.created_at),
        expires_at: Set(t.expires_at),
        consumed_at: Set(None),
        opened_at: Set(None),
        voided_at: Set(None),
    };
    Entity::insert(row).exec_without_returning(c).await?;
    Ok(())
}

/// Voids every live token of this purpose for this user (or, with no user, the
/// user-less ones such as setup): a newer link replaces older ones.
pub async fn void_live(
    c: &impl ConnectionTrait,
    purpose: Purpose,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let owner = match user_id {
        Some(id) => Condition::all().add(Column::UserId.eq(id)),
        None => Condition::all().add(Column::UserId.is_null()),
    };
    let res = Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .col_expr(Column::VoidedAt, Expr::value(now))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::ConsumedAt.is_null())
        // An expired link stays "expired" in the mail history.
        .filter(Column::ExpiresAt.gt(now))
        .filter(owner)
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

/// A token that is unused and unexpired, by the hash of its secret.
pub async fn find_live(
    c: &impl ConnectionTrait,
    hash: &[u8],
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<OneTimeToken>> {
    let row = Entity::find()
        .filter(Column::TokenHash.eq(hash.to_vec()))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .one(c)
        .await?;
    Ok(row.map(|m| OneTimeToken {
        id: m.id,
        purpose,
        user_id: m.user_id,
        created_at: m.created_at,
        expires_at: m.expires_at,
    }))
}

/// Marks a token used; false when another request used it first.
pub async fn consume(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Notes the first time a token's link was opened.
pub async fn mark_opened(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::OpenedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::OpenedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

/// How many tokens of this purpose were issued to this user since `since`.
pub async fn issued_since(
    c: &impl ConnectionTrait,
    purpose: Purpose,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    let n = Entity::find()
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::CreatedAt.gt(since))
        .count(c)
        .await?;
    Ok(n)
}
