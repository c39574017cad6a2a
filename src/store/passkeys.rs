//! Passkeys, and the state of WebAuthn ceremonies in progress.
use super::Result;
use crate::model::second_factor::StoredPasskey;
use chrono::{DateTime, Utc};
use entity::{passkey, passkey_challenge};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

fn from_row(m: passkey::Model) -> StoredPasskey {
    StoredPasskey {
        id: m.id,
        user_id: m.user_id,
        name: m.name,
        credential_id: m.credential_id,
        credential: m.credential,
        backup_eligible: m.backup_eligible,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    }
}

/// A user's passkeys, oldest first.
pub async fn of_user(c: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<StoredPasskey>> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .order_by_asc(passkey::Column::CreatedAt)
        .all(c)
        .await?
        .into_iter()
        .map(from_row)
        .collect())
}

pub async fn count(c: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .count(c)
        .await?)
}

pub async fn find_by_credential(c: &impl ConnectionTrait, credential_id: &str) -> Result<Option<StoredPasskey>> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id))
        .one(c)
        .await?
        .map(from_row))
}

/// Fails with `Conflict` when the credential is registered already (to anyone).
pub async fn insert(c: &impl ConnectionTrait, p: &StoredPasskey) -> Result<()> {
    passkey::Entity::insert(passkey::ActiveModel {
        id: Set(p.id),
        user_id: Set(p.user_id),
        name: Set(p.name.clone()),
        credential_id: Set(p.credential_id.clone()),
        credential: Set(p.credential.clone()),
        backup_eligible: Set(p.backup_eligible),
        created_at: Set(p.created_at),
        last_used_at: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// After a sign-in with it; with `swap` (old, new), the credential with its new counter
/// replaces the one read before, only if that is still the stored one. False when it
/// was not (another sign-in with the key came first) or the key is gone.
pub async fn used(c: &impl ConnectionTrait, id: Uuid, swap: Option<(&str, &str)>, now: DateTime<Utc>) -> Result<bool> {
    let mut update = passkey::Entity::update_many()
        .col_expr(passkey::Column::LastUsedAt, Expr::value(now))
        .filter(passkey::Column::Id.eq(id));
    if let Some((old, new)) = swap {
        update = update
            .col_expr(passkey::Column::Credential, Expr::value(new))
            .filter(passkey::Column::Credential.eq(old));
    }
    Ok(update.exec(c).await?.rows_affected == 1)
}

/// Renames one of the user's passkeys; false when it is not theirs.
pub async fn rename(c: &impl ConnectionTrait, user_id: Uuid, id: Uuid, name: &str) -> Result<bool> {
    let res = passkey::Entity::update_many()
        .col_expr(passkey::Column::Name, Expr::value(name))
        .filter(passkey::Column::Id.eq(id))
        .filter(passkey::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Removes one of the user's passkeys, giving its name; None when it is not theirs.
pub async fn remove(c: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<Option<String>> {
    let rows = passkey::Entity::delete_many()
        .filter(passkey::Column::Id.eq(id))
        .filter(passkey::Column::UserId.eq(user_id))
        .exec_with_returning(c)
        .await?;
    Ok(rows.into_iter().next().map(|m| m.name))
}

/// Removes all of a user's passkeys (an administrator's second-factor reset).
pub async fn remove_all(c: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    let res = passkey::Entity::delete_many()
        .filter(passkey::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

/// Keeps a ceremony's state for its owner, replacing the one it had.
pub async fn put_challenge(
    c: &impl ConnectionTrait,
    owner: Uuid,
    state: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    passkey_challenge::Entity::insert(passkey_challenge::ActiveModel {
        owner_id: Set(owner),
        state: Set(state.to_string()),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(passkey_challenge::Column::OwnerId)
            .update_columns([passkey_challenge::Column::State, passkey_challenge::Column::ExpiresAt])
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// Takes the owner's ceremony state: once only (a challenge answers one response), and
/// only while it lives.
pub async fn take_challenge(c: &impl ConnectionTrait, owner: Uuid, now: DateTime<Utc>) -> Result<Option<String>> {
    let rows = passkey_challenge::Entity::delete_many()
        .filter(passkey_challenge::Column::OwnerId.eq(owner))
        .exec_with_returning(c)
        .await?;
    Ok(rows.into_iter().next().filter(|m| m.expires_at > now).map(|m| m.state))
}
