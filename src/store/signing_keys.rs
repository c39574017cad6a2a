//! Signing keys (private parts encrypted by the caller).
use super::Result;
use chrono::{DateTime, Utc};
use entity::signing_key;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::model::signing_key::SigningKey;

/// Newest first.
pub async fn list(c: &impl ConnectionTrait) -> Result<Vec<SigningKey>> {
    let rows = signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .all(c)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| SigningKey {
            kid: r.kid,
            alg: r.alg,
            sealed: r.private_key,
            public_jwk: r.public_jwk,
            created_at: r.created_at,
            retired_at: r.retired_at,
        })
        .collect())
}

pub async fn insert(
    c: &impl ConnectionTrait,
    kid: &str,
    alg: &str,
    sealed: &[u8],
    public_jwk: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    signing_key::Entity::insert(signing_key::ActiveModel {
        kid: Set(kid.to_string()),
        alg: Set(alg.to_string()),
        private_key: Set(sealed.to_vec()),
        public_jwk: Set(public_jwk.clone()),
        created_at: Set(now),
        retired_at: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

pub async fn retire(c: &impl ConnectionTrait, kid: &str, now: DateTime<Utc>) -> Result<()> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, sea_orm::sea_query::Expr::value(now))
        .filter(signing_key::Column::Kid.eq(kid))
        .filter(signing_key::Column::RetiredAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

pub async fn remove_retired_before(c: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    let res = signing_key::Entity::delete_many()
        .filter(signing_key::Column::RetiredAt.lt(before))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}
