use super::Result;
use crate::model::group::Group;
use chrono::{DateTime, Utc};
use entity::{group, group_member};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// The one mapping of a group row.
pub(super) fn to_domain(m: group::Model) -> Group {
    Group {
        id: m.id,
        display_name: m.display_name,
        external_id: m.external_id,
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    }
}

pub async fn insert(c: &impl ConnectionTrait, g: &Group) -> Result<()> {
    let row = group::ActiveModel {
        id: Set(g.id),
        display_name: Set(g.display_name.clone()),
        display_name_lower: Set(g.display_name.to_lowercase()),
        external_id: Set(g.external_id.clone()),
        created_at: Set(g.created_at),
        updated_at: Set(g.updated_at),
        version: Set(g.version),
        require_2fa: NotSet,
    };
    group::Entity::insert(row).exec_without_returning(c).await?;
    Ok(())
}

pub async fn find_by_name(c: &impl ConnectionTrait, name: &str) -> Result<Option<Group>> {
    Ok(group::Entity::find()
        .filter(group::Column::DisplayNameLower.eq(name.to_lowercase()))
        .one(c)
        .await?
        .map(to_domain))
}

/// Adds a user membership; returns false (and changes nothing) when it already exists.
pub async fn add_member(
    c: &impl ConnectionTrait,
    group_id: Uuid,
    user_id: Uuid,
    is_admin: bool,
    now: DateTime<Utc>,
) -> Result<bool> {
    let exists = group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .one(c)
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    let row = group_member::ActiveModel {
        id: NotSet,
        group_id: Set(group_id),
        member_user_id: Set(Some(user_id)),
        member_group_id: Set(None),
        is_admin: Set(is_admin),
        created_at: Set(now),
    };
    group_member::Entity::insert(row).exec_without_returning(c).await?;
    Ok(true)
}

/// The groups a user belongs to, by name.
pub async fn names_for_user(c: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<String>> {
    Ok(group::Entity::find()
        .inner_join(group_member::Entity)
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .order_by_asc(group::Column::DisplayNameLower)
        .all(c)
        .await?
        .into_iter()
        .map(|g| g.display_name)
        .collect())
}

/// The groups a user is directly in, as (id, name).
pub async fn of_user(c: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<(Uuid, String)>> {
    Ok(group::Entity::find()
        .inner_join(group_member::Entity)
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .order_by_asc(group::Column::DisplayNameLower)
        .all(c)
        .await?
        .into_iter()
        .map(|g| (g.id, g.display_name))
        .collect())
}

/// Whether the user administers at least one group.
pub async fn administers_any(c: &impl ConnectionTrait, user_id: Uuid) -> Result<bool> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .filter(group_member::Column::IsAdmin.eq(true))
        .one(c)
        .await?
        .is_some())
}

/// Sets whether members of a group must sign in with a second factor; false when there
/// is no such group.
pub async fn set_require_2fa(c: &impl ConnectionTrait, id: Uuid, required: bool) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let res = group::Entity::update_many()
        .col_expr(group::Column::Require2fa, Expr::value(required))
        .filter(group::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Whether a group makes the user need a second factor: one of their groups requires
/// it, or (`admins_too`) they administer one. One query, run at every sign-in.
pub async fn needs_second_factor(c: &impl ConnectionTrait, user_id: Uuid, admins_too: bool) -> Result<bool> {
    use sea_orm::Condition;
    let mut reason = Condition::any().add(group::Column::Require2fa.eq(true));
    if admins_too {
        reason = reason.add(group_member::Column::IsAdmin.eq(true));
    }
    Ok(group::Entity::find()
        .inner_join(group_member::Entity)
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .filter(reason)
        .one(c)
        .await?
        .is_some())
}

/// The groups a user administers, as (id, name), by name.
pub async fn administered_by(c: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<(Uuid, String)>> {
    Ok(group::Entity::find()
        .inner_join(group_member::Entity)
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .filter(group_member::Column::IsAdmin.eq(true))
        .order_by_asc(group::Column::DisplayNameLower)
        .all(c)
        .await?
        .into_iter()
        .map(|g| (g.id, g.display_name))
        .collect())
}

/// Every group, as (id, name), by name.
pub async fn all_names(c: &impl ConnectionTrait) -> Result<Vec<(Uuid, String)>> {
    Ok(group::Entity::find()
        .order_by_asc(group::Column::DisplayNameLower)
        .all(c)
        .await?
        .into_iter()
        .map(|g| (g.id, g.display_name))
        .collect())
}

/// Whether the user is directly in one of `groups`.
pub async fn in_any(c: &impl ConnectionTrait, user_id: Uuid, groups: &[Uuid]) -> Result<bool> {
    if groups.is_empty() {
        return Ok(false);
    }
    Ok(group_member::Entity::find()
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .filter(group_member::Column::GroupId.is_in(groups.iter().copied()))
        .one(c)
        .await?
        .is_some())
}

/// The groups of several users at once, as (user id, group name), by name.
pub async fn names_for_users(c: &impl ConnectionTrait, users: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = group_member::Entity::find()
        .find_also_related(group::Entity)
        .filter(group_member::Column::MemberUserId.is_in(users.iter().copied()))
        .order_by_asc(group::Column::DisplayNameLower)
        .all(c)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, g)| Some((m.member_user_id?, g?.display_name)))
        .collect())
}

/// Removes a user from a group; false when they were not in it.
pub async fn remove_member(c: &impl ConnectionTrait, group_id: Uuid, user_id: Uuid) -> Result<bool> {
    let res = group_member::Entity::delete_many()
        .filter(group_member::Column::GroupId.eq(group_id))
        .filter(group_member::Column::MemberUserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(res.rows_affected > 0)
}
