//! The console's user list as one query (and one capped count): words, group, state and
//! the admin's reach become conditions; sorting and keyset paging happen in the database.
//!
//! Search words are looked up first in a trigram index over each user's search text
//! (its four values joined by spaces: a word has no space in it, so a word found in
//! the text is found in one value): PostgreSQL indexes that very expression, SQLite
//! keeps an FTS5 copy (migration m20261202_000003_user_search). The ids it finds narrow
//! the query; each word is then tested exactly, on each value, as before.
use super::Result;
use crate::model::user_listing::{ListedPage, ListedUser, PageStart, Sort, SortKey, StateFilter, UserQuery};
use chrono::{DateTime, Utc};
use entity::{group_member, passkey, totp_key, user};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Statement,
};
use uuid::Uuid;

/// The migration's search text, to the letter: PostgreSQL uses the index only for the
/// same expression.
const SEARCH_TEXT: &str = "(username_lower || ' ' || coalesce(email_lower, '') || ' ' || \
     lower(coalesce(given_name, '')) || ' ' || lower(coalesce(family_name, '')))";

/// The Name order's values, as its index has them.
const FAMILY_KEY: &str = "coalesce(family_name, '')";
const GIVEN_KEY: &str = "coalesce(given_name, '')";

/// Words matching more users than this are looked for by scanning instead:
/// walking the sort order finds a page of common matches sooner than fetching them all.
const CANDIDATES_MAX: u64 = 2_000;

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

/// The exact test of a word, on each value. Not the indexed expression on purpose: the
/// index is asked once, by `found_by_index`, and where it said "too many" a planner
/// should walk the sort order rather than build a bitmap of most of the table.
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

/// What narrows the list: the query, and on SQLite the ids the search index found.
fn conditions(q: &UserQuery, now: DateTime<Utc>, found: Option<&[Uuid]>) -> Condition {
    let mut all = Condition::all();
    if let Some(ids) = found {
        all = all.add(user::Column::Id.is_in(ids.iter().copied()));
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
    // Last: SQLite tests the terms of a scan in this order, and these cost the most.
    for word in &q.words {
        all = all.add(matches_word(word));
    }
    all
}

/// The users whose search text holds every word of three letters or more (a trigram
/// index cannot serve shorter ones), if there are at most CANDIDATES_MAX; None: no such
/// word, or too many to be worth it. PostgreSQL's trigram index serves the LIKE on the
/// expression; SQLite's FTS5 table a phrase query.
async fn found_by_index(c: &impl ConnectionTrait, words: &[String]) -> Result<Option<Vec<Uuid>>> {
    let long: Vec<&String> = words.iter().filter(|w| w.chars().count() >= 3).collect();
    if long.is_empty() {
        return Ok(None);
    }
    let rows = match c.get_database_backend() {
        DbBackend::Sqlite => {
            // Quoted, an FTS5 phrase is literal text; a quote inside is doubled.
            let phrases: Vec<String> = long.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect();
            let sql = "SELECT t.user_id AS id FROM user_search_text t WHERE t.row IN \
                       (SELECT rowid FROM user_search WHERE user_search MATCH ? LIMIT ?)";
            let values = [phrases.join(" ").into(), (CANDIDATES_MAX + 1).into()];
            c.query_all_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values))
                .await?
        }
        _ => {
            let mut select = Query::select().column(user::Column::Id).from(user::Entity).to_owned();
            for word in long {
                select.and_where(Expr::cust(SEARCH_TEXT).like(containing(word)));
            }
            c.query_all(select.limit(CANDIDATES_MAX + 1)).await?
        }
    };
    if rows.len() as u64 > CANDIDATES_MAX {
        return Ok(None);
    }
    let ids = rows
        .iter()
        .map(|r| r.try_get::<Uuid>("", "id"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Some(ids))
}

/// A sort order's values, first to last, and whether it runs downwards.
fn sort_columns(sort: Sort) -> (Vec<SimpleExpr>, bool) {
    let username = Expr::col(user::Column::UsernameLower);
    match sort {
        Sort::Username => (vec![username], false),
        Sort::Name => (vec![Expr::cust(FAMILY_KEY), Expr::cust(GIVEN_KEY), username], false),
        // Newest first; users made in the same instant by username, also downwards, so
        // one row comparison (and one index) serves the whole order.
        Sort::Newest => (vec![Expr::col(user::Column::CreatedAt), username], true),
    }
}

fn key_values(sort: Sort, key: &SortKey) -> Vec<SimpleExpr> {
    let username = Expr::val(key.username_key.clone());
    match sort {
        Sort::Username => vec![username],
        Sort::Name => vec![
            Expr::val(key.family_name.clone()),
            Expr::val(key.given_name.clone()),
            username,
        ],
        Sort::Newest => vec![Expr::val(key.created_at), username],
    }
}

/// The rows past `key` going forwards (or backwards): one row comparison, and the first
/// value's range alone too, which SQLite needs to start its index scan at the key.
fn past(sort: Sort, key: &SortKey, forwards: bool) -> Condition {
    let (columns, descending) = sort_columns(sort);
    let values = key_values(sort, key);
    let up = forwards != descending;
    let mut past = Condition::all();
    if let Some((column, value)) = columns.first().cloned().zip(values.first().cloned()) {
        past = past.add(if up { column.gte(value) } else { column.lte(value) });
    }
    let (columns, values) = (Expr::tuple(columns), Expr::tuple(values));
    past.add(if up { columns.gt(values) } else { columns.lt(values) })
}

/// One page of the users matching `q`, and how many match, counted up to `count_cap`
/// and one more (so "more than count_cap" can be told from exactly count_cap).
pub async fn page(
    c: &impl ConnectionTrait,
    q: &UserQuery,
    now: DateTime<Utc>,
    count_cap: u64,
) -> Result<(ListedPage, u64)> {
    let found = found_by_index(c, &q.words).await?;
    if found.as_ref().is_some_and(Vec::is_empty) {
        return Ok((ListedPage::default(), 0));
    }
    let filtered = user::Entity::find().filter(conditions(q, now, found.as_deref()));
    let total = count(c, filtered.clone(), count_cap + 1).await?;
    let (forwards, mut select) = match &q.start {
        PageStart::First => (true, filtered),
        PageStart::After(key) => (true, filtered.filter(past(q.sort, key, true))),
        PageStart::Before(key) => (false, filtered.filter(past(q.sort, key, false))),
    };
    let (columns, descending) = sort_columns(q.sort);
    let order = if forwards != descending {
        Order::Asc
    } else {
        Order::Desc
    };
    for column in columns {
        select = select.order_by(column, order.clone());
    }
    let mut rows = select
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::UsernameLower,
            user::Column::GivenName,
            user::Column::FamilyName,
            user::Column::Email,
            user::Column::Active,
            user::Column::MustChangePassword,
            user::Column::LockedUntil,
            user::Column::CreatedAt,
        ])
        .expr_as(Expr::col(user::Column::PasswordHash).is_not_null(), "has_password")
        // One more than a page: whether there is a next one.
        .limit(q.limit + 1)
        .into_model::<Row>()
        .all(c)
        .await?;
    let more = rows.len() as u64 > q.limit;
    rows.truncate(q.limit as usize);
    if !forwards {
        rows.reverse();
    }
    let listed = ListedPage {
        first: rows.first().map(Row::key),
        last: rows.last().map(Row::key),
        users: rows.into_iter().map(Row::into_listed).collect(),
        more,
    };
    Ok((listed, total))
}

/// How many rows `select` finds, counting no further than `cap`.
async fn count(c: &impl ConnectionTrait, select: sea_orm::Select<user::Entity>, cap: u64) -> Result<u64> {
    let capped = select.select_only().column(user::Column::Id).limit(cap).into_query();
    let counting = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(capped, Alias::new("matching"))
        .to_owned();
    let n: Option<i64> = match c.query_one(&counting).await? {
        Some(row) => row.try_get("", "n")?,
        None => None,
    };
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

#[derive(sea_orm::FromQueryResult)]
struct Row {
    id: Uuid,
    username: String,
    username_lower: String,
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
    fn key(&self) -> SortKey {
        SortKey {
            username_key: self.username_lower.clone(),
            family_name: self.family_name.clone().unwrap_or_default(),
            given_name: self.given_name.clone().unwrap_or_default(),
            created_at: self.created_at,
        }
    }

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
