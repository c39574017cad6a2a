//! The console's user list as one query (and one count): words, group, state and the
//! admin's reach become conditions; sorting and paging happen in the database.
use super::Result;
use crate::model::user_listing::{ListedUser, Sort, StateFilter, UserQuery};
use chrono::{DateTime, Utc};
use entity::{group_member, passkey, totp_key, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

fn members_of(groups: &[Uuid]) -> SelectStatement {
    Query::select()
        .column(group_member::Column::MemberUserId)
        .from(group_member::Entity)
        .and_where(group_member::Column::GroupId.is_in(groups.iter().copied()))
        .to_owned()
}

fn with_second_factor() -> Condition {
    let apps = Query::select()
        .column(totp_key::Column::UserId)
        .from(totp_key::Entity)
        .and_where(totp_key::Column::ConfirmedAt.is_not_null())
        .to_owned();
    let keys = Query::select()
        .column(passkey::Column::UserId)
        .from(passkey::Entity)
        .to_owned();
    Condition::any()
        .add(user::Column::Id.in_subquery(apps))
        .add(user::Column::Id.in_subquery(keys))
}

/// `%word%`, with the word's own wildcards escaped.
fn containing(word: &str) -> LikeExpr {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

fn matches_word(word: &str) -> Condition {
    let lower = |c: user::Column| Expr::expr(Func::lower(Expr::col(c)));
    Condition::any()
        .add(Expr::col(user::Column::UsernameLower).like(containing(word)))
        .add(Expr::col(user::Column::EmailLower).like(containing(word)))
        .add(lower(user::Column::GivenName).like(containing(word)))
        .add(lower(user::Column::FamilyName).like(containing(word)))
}

fn state(filter: StateFilter, now: DateTime<Utc>) -> Condition {
    let locked = Condition::all()
        .add(user::Column::LockedUntil.is_not_null())
        .add(user::Column::LockedUntil.gt(now));
    match filter {
        StateFilter::Invited => Condition::all()
            .add(user::Column::Active.eq(true))
            .add(user::Column::PasswordHash.is_null()),
        StateFilter::Active => Condition::all()
            .add(user::Column::Active.eq(true))
            .add(user::Column::PasswordHash.is_not_null())
            .add(locked.not()),
        StateFilter::Disabled => Condition::all().add(user::Column::Active.eq(false)),
        StateFilter::Locked => locked,
        StateFilter::MustChangePassword => Condition::all().add(user::Column::MustChangePassword.eq(true)),
        StateFilter::SecondFactor => with_second_factor(),
        StateFilter::NoSecondFactor => with_second_factor().not(),
    }
}

fn conditions(q: &UserQuery, now: DateTime<Utc>) -> Condition {
    let mut all = Condition::all();
    for word in &q.words {
        all = all.add(matches_word(word));
    }
    if let Some(group) = q.group {
        all = all.add(user::Column::Id.in_subquery(members_of(&[group])));
    }
    if let Some(within) = &q.within {
        all = all.add(user::Column::Id.in_subquery(members_of(within)));
    }
    if q.without_admins {
        let group_admins = Query::select()
            .column(group_member::Column::MemberUserId)
            .from(group_member::Entity)
            .and_where(group_member::Column::IsAdmin.eq(true))
            .and_where(group_member::Column::MemberUserId.is_not_null())
            .to_owned();
        all = all
            .add(user::Column::Role.ne(crate::model::user::Role::Admin.as_str()))
            .add(user::Column::Id.not_in_subquery(group_admins));
    }
    if let Some(s) = q.state {
        all = all.add(state(s, now));
    }
    all
}

/// One page of the users matching `q`, and how many match in all.
pub async fn page(c: &impl ConnectionTrait, q: &UserQuery, now: DateTime<Utc>) -> Result<(Vec<ListedUser>, u64)> {
    let filtered = user::Entity::find().filter(conditions(q, now));
    let total = filtered.clone().count(c).await?;
    let sorted = match q.sort {
        Sort::Username => filtered.order_by_asc(user::Column::UsernameLower),
        Sort::Name => filtered
            .order_by_asc(user::Column::FamilyName)
            .order_by_asc(user::Column::GivenName)
            .order_by_asc(user::Column::UsernameLower),
        Sort::Newest => filtered
            .order_by_desc(user::Column::CreatedAt)
            .order_by_asc(user::Column::UsernameLower),
    };
    let rows = sorted
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::GivenName,
            user::Column::FamilyName,
            user::Column::Email,
            user::Column::Active,
            user::Column::MustChangePassword,
            user::Column::LockedUntil,
            user::Column::CreatedAt,
        ])
        .expr_as(Expr::col(user::Column::PasswordHash).is_not_null(), "has_password")
        .offset(q.offset)
        .limit(q.limit)
        .into_model::<Row>()
        .all(c)
        .await?;
    Ok((rows.into_iter().map(Row::into_listed).collect(), total))
}

#[derive(sea_orm::FromQueryResult)]
struct Row {
    id: Uuid,
    username: String,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    active: bool,
    must_change_password: bool,
    locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    has_password: bool,
}

impl Row {
    fn into_listed(self) -> ListedUser {
        ListedUser {
            id: self.id,
            username: self.username,
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            active: self.active,
            has_password: self.has_password,
            must_change_password: self.must_change_password,
            locked_until: self.locked_until,
            created_at: self.created_at,
        }
    }
}
