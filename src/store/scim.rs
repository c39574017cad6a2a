//! Queries the SCIM service needs: multi-valued rows, listing with filters, sort
//! and paging, groups and their members (added and removed row by row, so a change
//! to a 10,000-member group touches only the rows it names).
use super::scim_filter::{self, Table};
use super::{Result, StoreError};
use crate::model::filter::Filter;
use crate::model::group::{Group, Member, MemberKind};
use crate::model::query::{FilterSchema, Page, Scope, Sort, SortKey};
use crate::model::user::{MultiValue, User};
use chrono::{DateTime, Utc};
use entity::{group, group_member, user, user_value};
use sea_orm::sea_query::{Alias, Cond, Expr, Query};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The conditions that keep a listing inside a scope.
fn users_in(scope: &Scope) -> Option<Cond> {
    scope.is_limited().then(|| {
        let q = Query::select()
            .column(group_member::Column::MemberUserId)
            .from(group_member::Entity)
            .and_where(group_member::Column::GroupId.is_in(scope.groups.clone()))
            .and_where(group_member::Column::MemberUserId.is_not_null())
            .to_owned();
        Cond::all().add(user::Column::Id.in_subquery(q))
    })
}

fn groups_in(scope: &Scope) -> Option<Cond> {
    scope
        .is_limited()
        .then(|| Cond::all().add(group::Column::Id.is_in(scope.groups.clone())))
}

/// The column a sort key orders by; None when the table has no such attribute.
fn sort_column(table: Table, key: SortKey) -> Option<&'static str> {
    use SortKey as K;
    Some(match (table, key) {
        (_, K::Id) => "id",
        (_, K::Created) => "created_at",
        (_, K::LastModified) => "updated_at",
        (_, K::ExternalId) => "external_id",
        (Table::Groups, K::DisplayName) => "display_name_lower",
        (Table::Groups, _) => return None,
        (Table::Users, K::DisplayName) => "display_name",
        (Table::Users, K::UserName) => "username_lower",
        (Table::Users, K::FamilyName) => "family_name",
        (Table::Users, K::GivenName) => "given_name",
        (Table::Users, K::FormattedName) => "name_formatted",
        (Table::Users, K::Title) => "title",
        (Table::Users, K::UserType) => "user_type",
        (Table::Users, K::Email) => "email_lower",
        (Table::Users, K::EmployeeNumber) => "employee_number",
        (Table::Users, K::Department) => "department",
    })
}

/// One listing: what matches inside the scope, counted, then the requested page in a
/// stable order (ties broken by id).
async fn listing<E>(
    c: &impl ConnectionTrait,
    table: Table,
    filter: Option<(&Filter, &FilterSchema)>,
    scope: Option<Cond>,
    sort: Option<&Sort>,
    page: &Page,
) -> Result<(u64, Vec<E::Model>)>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let mut q = E::find();
    if let Some((f, schema)) = filter {
        q = q.filter(scim_filter::condition(table, schema, f)?);
    }
    if let Some(s) = scope {
        q = q.filter(s);
    }
    let total = q.clone().count(c).await?;
    if page.count == 0 {
        return Ok((total, Vec::new()));
    }
    let (by, dir) = match sort {
        Some(s) => {
            let column = sort_column(table, s.key)
                .ok_or_else(|| StoreError::Statement(format!("no sort column for {:?}", s.key)))?;
            (column, if s.descending { Order::Desc } else { Order::Asc })
        }
        None => ("created_at", Order::Asc),
    };
    let rows = q
        .order_by(Expr::col(Alias::new(by)), dir)
        .order_by_asc(Expr::col(Alias::new("id")))
        .offset(page.start_index.saturating_sub(1))
        .limit(page.count)
        .all(c)
        .await?;
    Ok((total, rows))
}

/// Users matching `filter` inside `scope`: the total, and the requested page.
pub async fn list_users(
    c: &impl ConnectionTrait,
    filter: Option<(&Filter, &FilterSchema)>,
    scope: &Scope,
    sort: Option<&Sort>,
    page: &Page,
) -> Result<(u64, Vec<User>)> {
    let (total, rows) = listing::<user::Entity>(c, Table::Users, filter, users_in(scope), sort, page).await?;
    let users = rows
        .into_iter()
        .map(super::users::to_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok((total, users))
}

/// Groups matching `filter` inside `scope`: the total, and the requested page.
pub async fn list_groups(
    c: &impl ConnectionTrait,
    filter: Option<(&Filter, &FilterSchema)>,
    scope: &Scope,
    sort: Option<&Sort>,
    page: &Page,
) -> Result<(u64, Vec<Group>)> {
    let (total, rows) = listing::<group::Entity>(c, Table::Groups, filter, groups_in(scope), sort, page).await?;
    Ok((total, rows.into_iter().map(super::groups::to_domain).collect()))
}

/// Whether a user is visible in `scope`.
pub async fn user_in_scope(c: &impl ConnectionTrait, id: Uuid, scope: &Scope) -> Result<bool> {
    if !scope.is_limited() {
        return Ok(true);
    }
    let n = group_member::Entity::find()
        .filter(group_member::Column::MemberUserId.eq(id))
        .filter(group_member::Column::GroupId.is_in(scope.groups.clone()))
        .count(c)
        .await?;
    Ok(n > 0)
}

/// Multi-valued attribute rows of several users, in the order the client sent them.
pub async fn values_of(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<MultiValue>>> {
    let mut out: HashMap<Uuid, Vec<MultiValue>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = user_value::Entity::find()
        .filter(user_value::Column::UserId.is_in(ids.to_vec()))
        .order_by_asc(user_value::Column::UserId)
        .order_by_asc(user_value::Column::Attr)
        .order_by_asc(user_value::Column::Position)
        .all(c)
        .await?;
    for r in rows {
        out.entry(r.user_id).or_default().push(MultiValue {
            attr: r.attr,
            kind: r.kind,
            value: r.value,
            display: r.display,
            primary: r.is_primary,
            data: r.data,
        });
    }
    Ok(out)
}

/// Replaces all multi-valued rows of a user.
pub async fn set_values(c: &impl ConnectionTrait, user_id: Uuid, values: &[MultiValue]) -> Result<()> {
    user_value::Entity::delete_many()
        .filter(user_value::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    insert_values(c, user_id, values).await
}

/// Stores the multi-valued attributes of a user that has none yet.
pub async fn insert_values(c: &impl ConnectionTrait, user_id: Uuid, values: &[MultiValue]) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| user_value::ActiveModel {
            id: NotSet,
            user_id: Set(user_id),
            attr: Set(v.attr.clone()),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            kind: Set(v.kind.clone()),
            kind_lower: Set(v.kind.as_deref().map(str::to_lowercase)),
            value: Set(v.value.clone()),
            value_lower: Set(v.value.as_deref().map(str::to_lowercase)),
            display: Set(v.display.clone()),
            is_primary: Set(v.primary),
            data: Set(v.data.clone()),
        })
        .collect();
    // Eleven bound values a row: batches stay far below SQLite's limit on variables.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(VALUE_ROWS_PER_INSERT).collect();
        user_value::Entity::insert_many(batch).exec_without_returning(c).await?;
    }
    Ok(())
}

/// The groups of several users (id and name), for the read-only `groups` attribute.
pub async fn groups_of(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<(Uuid, String)>>> {
    let mut out: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(Option<Uuid>, Uuid, String)> = group_member::Entity::find()
        .select_only()
        .column(group_member::Column::MemberUserId)
        .column(group::Column::Id)
        .column(group::Column::DisplayName)
        .inner_join(group::Entity)
        .filter(group_member::Column::MemberUserId.is_in(ids.to_vec()))
        .order_by_asc(group::Column::DisplayNameLower)
        .into_tuple()
        .all(c)
        .await?;
    for (user, gid, name) in rows {
        if let Some(u) = user {
            out.entry(u).or_default().push((gid, name));
        }
    }
    Ok(out)
}

pub async fn find_group(c: &impl ConnectionTrait, id: Uuid) -> Result<Option<Group>> {
    Ok(group::Entity::find_by_id(id)
        .one(c)
        .await?
        .map(super::groups::to_domain))
}

/// Writes name and externalId if the version is still `expected`, bumping it.
pub async fn update_group(c: &impl ConnectionTrait, g: &Group, expected: i64) -> Result<bool> {
    let res = group::Entity::update_many()
        .col_expr(group::Column::DisplayName, Expr::value(g.display_name.clone()))
        .col_expr(
            group::Column::DisplayNameLower,
            Expr::value(g.display_name.to_lowercase()),
        )
        .col_expr(group::Column::ExternalId, Expr::value(g.external_id.clone()))
        .col_expr(group::Column::UpdatedAt, Expr::value(g.updated_at))
        .col_expr(group::Column::Version, Expr::value(g.version))
        .filter(group::Column::Id.eq(g.id))
        .filter(group::Column::Version.eq(expected))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn delete_group(c: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    Ok(group::Entity::delete_by_id(id).exec(c).await?.rows_affected == 1)
}

/// All members of a group, in the order they were added: one indexed read, no joins.
pub async fn members(c: &impl ConnectionTrait, group_id: Uuid) -> Result<Vec<Member>> {
    let rows: Vec<(Option<Uuid>, Option<Uuid>)> = group_member::Entity::find()
        .select_only()
        .column(group_member::Column::MemberUserId)
        .column(group_member::Column::MemberGroupId)
        .filter(group_member::Column::GroupId.eq(group_id))
        .order_by_asc(group_member::Column::Id)
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, g)| match (u, g) {
            (Some(id), _) => Some(Member {
                id,
                kind: MemberKind::User,
            }),
            (None, Some(id)) => Some(Member {
                id,
                kind: MemberKind::Group,
            }),
            (None, None) => None,
        })
        .collect())
}

/// Which of `ids` exist as users and as groups (members must exist).
pub async fn resolve_members(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<Uuid> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(c)
            .await?;
        users.extend(found);
        let found: Vec<Uuid> = group::Entity::find()
            .select_only()
            .column(group::Column::Id)
            .filter(group::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(c)
            .await?;
        groups.extend(found);
    }
    Ok((users, groups))
}

/// Adds members that are not there yet; returns how many rows were added.
pub async fn add_members(
    c: &impl ConnectionTrait,
    group_id: Uuid,
    users: &[Uuid],
    groups: &[Uuid],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut existing: HashSet<Uuid> = HashSet::new();
    // Chunked: SQLite allows at most 32,766 bound values in one statement.
    for chunk in users.chunks(CHUNK) {
        let found: Vec<Option<Uuid>> = group_member::Entity::find()
            .select_only()
            .column(group_member::Column::MemberUserId)
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::MemberUserId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(c)
            .await?;
        existing.extend(found.into_iter().flatten());
    }
    for chunk in groups.chunks(CHUNK) {
        let found: Vec<Option<Uuid>> = group_member::Entity::find()
            .select_only()
            .column(group_member::Column::MemberGroupId)
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::MemberGroupId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(c)
            .await?;
        existing.extend(found.into_iter().flatten());
    }
    let row = |u: Option<Uuid>, g: Option<Uuid>| group_member::ActiveModel {
        id: NotSet,
        group_id: Set(group_id),
        member_user_id: Set(u),
        member_group_id: Set(g),
        is_admin: Set(false),
        created_at: Set(now),
    };
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for u in users {
        if !existing.contains(u) && seen.insert(*u) {
            rows.push(row(Some(*u), None));
        }
    }
    for g in groups {
        if *g != group_id && !existing.contains(g) && seen.insert(*g) {
            rows.push(row(None, Some(*g)));
        }
    }
    let added = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(CHUNK).collect();
        group_member::Entity::insert_many(batch)
            .exec_without_returning(c)
            .await?;
    }
    Ok(added)
}

/// Rows or ids per statement, well under SQLite's limit on bound values.
const CHUNK: usize = 1000;
const VALUE_ROWS_PER_INSERT: usize = 500;

/// Removes the named members; returns how many rows went.
pub async fn remove_members(c: &impl ConnectionTrait, group_id: Uuid, ids: &[Uuid]) -> Result<u64> {
    let mut removed = 0;
    for chunk in ids.chunks(CHUNK) {
        let res = group_member::Entity::delete_many()
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(
                Cond::any()
                    .add(group_member::Column::MemberUserId.is_in(chunk.to_vec()))
                    .add(group_member::Column::MemberGroupId.is_in(chunk.to_vec())),
            )
            .exec(c)
            .await?;
        removed += res.rows_affected;
    }
    Ok(removed)
}

/// The users who administer this group (their memberships carry admin rights).
pub async fn admin_members(c: &impl ConnectionTrait, group_id: Uuid) -> Result<Vec<Uuid>> {
    let rows: Vec<Option<Uuid>> = group_member::Entity::find()
        .select_only()
        .column(group_member::Column::MemberUserId)
        .filter(group_member::Column::GroupId.eq(group_id))
        .filter(group_member::Column::IsAdmin.eq(true))
        .into_tuple()
        .all(c)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

pub async fn remove_all_members(c: &impl ConnectionTrait, group_id: Uuid) -> Result<u64> {
    let res = group_member::Entity::delete_many()
        .filter(group_member::Column::GroupId.eq(group_id))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}
