use super::{Result, StoreError};
use crate::model::user::{Profile, Role, User};
use crate::model::username;
use chrono::{DateTime, Utc};
use entity::user::{self, ActiveModel, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub(super) fn to_domain(m: user::Model) -> Result<User> {
    let role =
        Role::parse(&m.role).ok_or_else(|| StoreError::Corrupt(format!("user {} has role '{}'", m.id, m.role)))?;
    Ok(User {
        id: m.id,
        username: m.username,
        email: m.email,
        given_name: m.given_name,
        family_name: m.family_name,
        display_name: m.display_name,
        profile: Profile {
            name_formatted: m.name_formatted,
            middle_name: m.middle_name,
            honorific_prefix: m.honorific_prefix,
            honorific_suffix: m.honorific_suffix,
            nick_name: m.nick_name,
            profile_url: m.profile_url,
            title: m.title,
            user_type: m.user_type,
            preferred_language: m.preferred_language,
            locale: m.locale,
            timezone: m.timezone,
            employee_number: m.employee_number,
            cost_center: m.cost_center,
            organization: m.organization,
            division: m.division,
            department: m.department,
            manager_id: m.manager_id,
            active_unset: m.active_unset,
        },
        external_id: m.external_id,
        active: m.active,
        role,
        password_hash: m.password_hash,
        must_change_password: m.must_change_password,
        failed_logins: m.failed_logins,
        locked_until: m.locked_until,
        lockouts: m.lockouts,
        password_expires_at: m.password_expires_at,
        access_until: m.access_until,
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    })
}

fn one(m: Option<user::Model>) -> Result<Option<User>> {
    m.map(to_domain).transpose()
}

fn to_row(u: &User) -> ActiveModel {
    let p = &u.profile;
    ActiveModel {
        id: Set(u.id),
        username: Set(u.username.clone()),
        username_lower: Set(username::lookup_key(&u.username)),
        email: Set(u.email.clone()),
        email_lower: Set(u.email.as_deref().map(str::to_lowercase)),
        given_name: Set(u.given_name.clone()),
        family_name: Set(u.family_name.clone()),
        display_name: Set(u.display_name.clone()),
        name_formatted: Set(p.name_formatted.clone()),
        middle_name: Set(p.middle_name.clone()),
        honorific_prefix: Set(p.honorific_prefix.clone()),
        honorific_suffix: Set(p.honorific_suffix.clone()),
        nick_name: Set(p.nick_name.clone()),
        profile_url: Set(p.profile_url.clone()),
        title: Set(p.title.clone()),
        user_type: Set(p.user_type.clone()),
        preferred_language: Set(p.preferred_language.clone()),
        locale: Set(p.locale.clone()),
        timezone: Set(p.timezone.clone()),
        employee_number: Set(p.employee_number.clone()),
        cost_center: Set(p.cost_center.clone()),
        organization: Set(p.organization.clone()),
        division: Set(p.division.clone()),
        department: Set(p.department.clone()),
        manager_id: Set(p.manager_id.clone()),
        external_id: Set(u.external_id.clone()),
        active: Set(u.active),
        active_unset: Set(p.active_unset),
        role: Set(u.role.as_str().to_string()),
        password_hash: Set(u.password_hash.clone()),
        must_change_password: Set(u.must_change_password),
        failed_logins: Set(u.failed_logins),
        locked_until: Set(u.locked_until),
        lockouts: Set(u.lockouts),
        password_expires_at: Set(u.password_expires_at),
        access_until: Set(u.access_until),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
        version: Set(u.version),
    }
}

pub async fn insert(c: &impl ConnectionTrait, u: &User) -> Result<()> {
    Entity::insert(to_row(u)).exec_without_returning(c).await?;
    Ok(())
}

/// Writes every field of `u` if the stored version is still `expected_version`;
/// false when another writer got there first (or the user is gone).
pub async fn replace(c: &impl ConnectionTrait, u: &User, expected_version: i64) -> Result<bool> {
    let res = Entity::update_many()
        .set(to_row(u))
        .filter(Column::Id.eq(u.id))
        .filter(Column::Version.eq(expected_version))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn find_by_id(c: &impl ConnectionTrait, id: Uuid) -> Result<Option<User>> {
    one(Entity::find_by_id(id).one(c).await?)
}

pub async fn find_by_username(c: &impl ConnectionTrait, username: &str) -> Result<Option<User>> {
    one(Entity::find()
        .filter(Column::UsernameLower.eq(username::lookup_key(username)))
        .one(c)
        .await?)
}

/// The one user with this address; None when nobody has it, or when several do
/// (an address shared by several people identifies none of them).
async fn find_by_email(c: &impl ConnectionTrait, email: &str) -> Result<Option<User>> {
    let mut found = Entity::find()
        .filter(Column::EmailLower.eq(email.to_lowercase()))
        .limit(2)
        .all(c)
        .await?;
    if found.len() == 1 { one(found.pop()) } else { Ok(None) }
}

/// Whether a username would capture another user's sign-in by email: its key is
/// the address of someone else.
pub async fn is_others_email(c: &impl ConnectionTrait, username: &str, except: Uuid) -> Result<bool> {
    Ok(Entity::find()
        .filter(Column::EmailLower.eq(username::lookup_key(username)))
        .filter(Column::Id.ne(except))
        .count(c)
        .await?
        > 0)
}

pub async fn email_in_use(c: &impl ConnectionTrait, email: &str) -> Result<bool> {
    Ok(Entity::find()
        .filter(Column::EmailLower.eq(email.to_lowercase()))
        .count(c)
        .await?
        > 0)
}

/// Sign-in accepts the username or the primary email.
pub async fn find_by_login(c: &impl ConnectionTrait, identifier: &str) -> Result<Option<User>> {
    match find_by_username(c, identifier).await? {
        Some(u) => Ok(Some(u)),
        None => find_by_email(c, identifier).await,
    }
}

/// Recomputes every username key by the current rule. Where two usernames now share
/// a key (NFC and NFD forms of one name, say), the older account keeps it and the
/// newer gets a key nobody can type until an admin renames it; each case is logged,
/// as is a username the rule refuses (its owner can still sign in by email).
pub async fn rekey(db: &sea_orm::DatabaseConnection) -> Result<()> {
    use sea_orm::TransactionTrait;
    let rows: Vec<(Uuid, String, String)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Username)
        .column(Column::UsernameLower)
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut holders: std::collections::HashMap<String, Uuid> = std::collections::HashMap::new();
    let mut changes = Vec::new();
    for (id, name, old_key) in rows {
        let mut key = username::lookup_key(&name);
        if let Some(first) = holders.get(&key) {
            tracing::warn!(user = %id, username = %name, same_as = %first,
                "two usernames are now the same: the newer cannot sign in by username until renamed");
            key = format!(" {key}#{id}");
        } else {
            if key.starts_with(' ') {
                tracing::warn!(user = %id, username = %name,
                    "username breaks the username rule: it cannot be typed at sign-in until renamed");
            }
            holders.insert(key.clone(), id);
        }
        // The stored form follows the rule too, except where it must tell a collision apart.
        let shown = username::enforce(&name)
            .ok()
            .filter(|n| *n != name && !key.starts_with(' '));
        if key != old_key || shown.is_some() {
            changes.push((id, key, shown));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let tx = db.begin().await?;
    // Through unique placeholders first, so keys that trade places never collide.
    for (id, _, _) in &changes {
        set_key(&tx, *id, &format!(" rekey#{id}"), None).await?;
    }
    for (id, key, shown) in &changes {
        set_key(&tx, *id, key, shown.as_deref()).await?;
    }
    tx.commit().await?;
    tracing::info!(users = changes.len(), "username keys recomputed");
    Ok(())
}

async fn set_key(c: &impl ConnectionTrait, id: Uuid, key: &str, shown: Option<&str>) -> Result<()> {
    let mut update = Entity::update_many().col_expr(Column::UsernameLower, Expr::value(key));
    if let Some(name) = shown {
        update = update.col_expr(Column::Username, Expr::value(name));
    }
    update.filter(Column::Id.eq(id)).exec(c).await?;
    Ok(())
}

pub async fn list(c: &impl ConnectionTrait) -> Result<Vec<User>> {
    Entity::find()
        .order_by_asc(Column::UsernameLower)
        .all(c)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Admins who can sign in: while there are none, start-up offers a setup link.
pub async fn count_admins_with_password(c: &impl ConnectionTrait) -> Result<u64> {
    Ok(Entity::find()
        .filter(Column::Role.eq(Role::Admin.as_str()))
        .filter(Column::Active.eq(true))
        .filter(Column::PasswordHash.is_not_null())
        .count(c)
        .await?)
}

/// Sets `active`, bumping the version. Returns false when the user is gone.
pub async fn set_active(c: &impl ConnectionTrait, id: Uuid, active: bool, now: DateTime<Utc>) -> Result<bool> {
    set_versioned(c, id, Column::Active, active, now).await
}

/// Sets one column, bumping the version; false when the user is gone.
async fn set_versioned(
    c: &impl ConnectionTrait,
    id: Uuid,
    column: Column,
    value: impl Into<sea_orm::Value>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(column, Expr::value(value))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete(c: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    Ok(Entity::delete_by_id(id).exec(c).await?.rows_affected == 1)
}

/// Counts a failed sign-in atomically (concurrent failures on several nodes all count);
/// returns the new count.
pub async fn increment_failed_logins(c: &impl ConnectionTrait, id: Uuid) -> Result<i32> {
    Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).add(1))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    let user = find_by_id(c, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("user {id} vanished")))?;
    Ok(user.failed_logins)
}

/// Locks sign-ins from unknown browsers until `until`; the count starts again and the
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

/// After a good password: clear the failure count and lock, and store a rehash if one was made.
pub async fn record_successful_login(c: &impl ConnectionTrait, id: Uuid, rehash: Option<String>) -> Result<()> {
    let mut update = Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::Lockouts, Expr::value(0));
    if let Some(hash) = rehash {
        update = update.col_expr(Column::PasswordHash, Expr::value(hash));
    }
    update.filter(Column::Id.eq(id)).exec(c).await?;
    Ok(())
}

/// Sets the password of an active user who has none yet (an invite accepted); false
/// when the user was disabled, deleted or given a password first.
pub async fn set_first_password(c: &impl ConnectionTrait, id: Uuid, hash: &str, now: DateTime<Utc>) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::MustChangePassword, Expr::value(false))
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Active.eq(true))
        .filter(Column::PasswordHash.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Sets a new password and ends any lockout. `temporary_until`: an admin's temporary
/// password, which must be changed at sign-in and stops working unused after then.
pub async fn set_password(
    c: &impl ConnectionTrait,
    id: Uuid,
    hash: &str,
    temporary_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::MustChangePassword, Expr::value(temporary_until.is_some()))
        .col_expr(Column::PasswordExpiresAt, Expr::value(temporary_until))
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::Lockouts, Expr::value(0))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Ends a lockout of sign-ins from unknown browsers at once; false when there is no such user.
pub async fn unlock(c: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::Lockouts, Expr::value(0))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Stores a stronger hash of the same password.
pub async fn set_rehash(c: &impl ConnectionTrait, id: Uuid, hash: &str) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// Holds the user's row until the transaction ends (a no-op write takes PostgreSQL's
/// row lock; SQLite's write transactions are serial already), so two requests about
/// one user take turns.
pub async fn hold(c: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version))
        .filter(Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

/// Counts a sign-in attempt from unknown browsers before it is checked, only while
/// they are not locked out; the count now, or None when locked.
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

/// Sets whether the password must change at the next sign-in, bumping the version.
pub async fn set_must_change(c: &impl ConnectionTrait, id: Uuid, must: bool, now: DateTime<Utc>) -> Result<bool> {
    set_versioned(c, id, Column::MustChangePassword, must, now).await
}

/// Sets the role, bumping the version.
pub async fn set_role(c: &impl ConnectionTrait, id: Uuid, role: Role, now: DateTime<Utc>) -> Result<bool> {
    set_versioned(c, id, Column::Role, role.as_str(), now).await
}

/// Sets or clears when the user's access ends, bumping the version.
pub async fn set_access_until(
    c: &impl ConnectionTrait,
    id: Uuid,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    set_versioned(c, id, Column::AccessUntil, until, now).await
}

/// Enabled users whose access has ended: the sweep disables them.
pub async fn access_ended(c: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<User>> {
    Entity::find()
        .filter(Column::AccessUntil.lte(now))
        .filter(Column::Active.eq(true))
        .order_by_asc(Column::AccessUntil)
        .limit(limit)
        .all(c)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Disables the user if still enabled and its access still ended; false when another
/// node was first, or an admin restored the user or moved the end meanwhile.
pub async fn disable_if_access_ended(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::Active, Expr::value(false))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Active.eq(true))
        .filter(Column::AccessUntil.lte(now))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}
