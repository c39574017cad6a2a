//! `/admin/users`: search, filter, sort and page through the users this admin reaches.
use super::console;
use crate::directory::listing::{self, Total};
use crate::http::web::page;
use crate::http::{AppState, WebError};
use crate::model::user_listing::{ListedUser, PageStart, Sort, SortKey, StateFilter, UserQuery};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// Longer searches are cut: no name or address is this long.
const SEARCH_MAX: usize = 200;

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    sort: String,
    /// A page after (or before) a row: see `Cursor`.
    #[serde(default)]
    after: String,
    #[serde(default)]
    before: String,
}

/// A row's place in the list, as a page link carries it: its sort key, and its position
/// (1-based), which only numbers the rows shown ("51–100"). Opaque to the reader;
/// one that does not decode shows the first page.
struct Cursor {
    key: SortKey,
    position: u64,
}

impl Cursor {
    fn encode(&self) -> String {
        let k = &self.key;
        let fields = (
            self.position,
            k.created_at.timestamp(),
            k.created_at.timestamp_subsec_nanos(),
            &k.username_key,
            &k.family_name,
            &k.given_name,
        );
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&fields).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Cursor> {
        let json = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (position, secs, nanos, username_key, family_name, given_name): (u64, i64, u32, String, String, String) =
            serde_json::from_slice(&json).ok()?;
        let key = SortKey {
            username_key,
            family_name,
            given_name,
            created_at: DateTime::<Utc>::from_timestamp(secs, nanos)?,
        };
        Some(Cursor { key, position })
    }
}

pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

struct Row {
    id: Uuid,
    name: String,
    username: String,
    email: String,
    states: Vec<&'static str>,
    groups: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage<'a> {
    nav: super::Nav<'a>,
    q: &'a str,
    groups: Vec<Choice>,
    states: Vec<Choice>,
    sorts: Vec<Choice>,
    rows: Vec<Row>,
    /// "51–100 of 1,234 users", or why there are no rows.
    status: String,
    previous: Option<String>,
    next: Option<String>,
}

/// What a row says of a user's state, in words.
pub(super) fn states_of(u: &ListedUser, now: chrono::DateTime<chrono::Utc>) -> Vec<&'static str> {
    let mut states = Vec::new();
    if !u.active {
        states.push("Disabled");
    } else if !u.has_password {
        states.push("Invited");
    } else {
        states.push("Active");
    }
    if u.locked_until.is_some_and(|t| t > now) {
        states.push("Locked");
    }
    if u.must_change_password && u.has_password {
        states.push("Must change password");
    }
    states
}

pub(super) fn full_name(given: Option<&str>, family: Option<&str>) -> String {
    [given, family].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// 1234567 as "1,234,567".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn status(first: u64, last: u64, total: Total, rows: usize) -> String {
    match total {
        Total::Exactly(0) => "No users match.".into(),
        _ if rows == 0 => "No more users.".into(),
        Total::Exactly(1) => format!("{first}–{last} of 1 user"),
        Total::Exactly(n) => format!("{}–{} of {} users", grouped(first), grouped(last), grouped(n)),
        Total::MoreThan(n) => format!("{}–{} of more than {} users", grouped(first), grouped(last), grouped(n)),
    }
}

/// The list with the same filters, from `page` on: ("after" or "before", a cursor).
fn link(p: &ListParams, page: (&str, Cursor)) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("q", &p.q), ("group", &p.group), ("state", &p.state), ("sort", &p.sort)] {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    query.append_pair(page.0, &page.1.encode());
    format!("/admin/users?{}", query.finish())
}

pub async fn list(
    State(svc): State<AppState>,
    jar: CookieJar,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, WebError> {
    let console = match console::enter(&svc, jar).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    // A hand-edited address (page=abc) shows the first page rather than an error.
    let Query(p) = params.unwrap_or_default();
    let q: String = p.q.trim().chars().take(SEARCH_MAX).collect();
    let words = q
        .to_lowercase()
        .split_whitespace()
        .take(5)
        .map(str::to_string)
        .collect();
    let groups_offered = crate::directory::scope::assignable_groups(&svc, &console.admin).await?;
    // Only a group the admin may see narrows the list; another is ignored, not probed.
    let group = Uuid::parse_str(&p.group)
        .ok()
        .filter(|g| groups_offered.iter().any(|(id, _)| id == g));
    let state = StateFilter::parse(&p.state);
    let sort = Sort::parse(&p.sort).unwrap_or_default();
    let (start, at) = match (Cursor::decode(&p.after), Cursor::decode(&p.before)) {
        (Some(c), _) => (PageStart::After(c.key), c.position),
        (None, Some(c)) => (PageStart::Before(c.key), c.position),
        (None, None) => (PageStart::First, 0),
    };
    let query = UserQuery {
        words,
        group,
        state,
        sort,
        start: start.clone(),
        ..UserQuery::default()
    };
    let found = listing::users(&svc, &console.admin, query).await?;
    let now = svc.now();
    let shown = found.page.users.len() as u64;
    // The positions the rows take; going back to the start makes them 1.. again.
    let first = match start {
        PageStart::Before(_) if found.page.more => at.saturating_sub(shown).max(1),
        PageStart::Before(_) | PageStart::First => 1,
        PageStart::After(_) => at + 1,
    };
    let last = first + shown.saturating_sub(1);
    let earlier = match start {
        PageStart::First => false,
        PageStart::After(_) => true,
        PageStart::Before(_) => found.page.more,
    };
    let later = match start {
        PageStart::Before(_) => true,
        PageStart::First | PageStart::After(_) => found.page.more,
    };
    let previous = match (&found.page.first, &start) {
        (Some(key), _) if earlier => Some((key.clone(), first)),
        // Past the last row (they went away meanwhile): back to where this page began.
        (None, PageStart::After(key)) => Some((key.clone(), at + 1)),
        _ => None,
    };
    let previous = previous.map(|(key, position)| link(&p, ("before", Cursor { key, position })));
    let next = found
        .page
        .last
        .clone()
        .filter(|_| later)
        .map(|key| link(&p, ("after", Cursor { key, position: last })));
    let rows = found
        .page
        .users
        .iter()
        .map(|u| Row {
            id: u.id,
            name: full_name(u.given_name.as_deref(), u.family_name.as_deref()),
            username: u.username.clone(),
            email: u.email.clone().unwrap_or_default(),
            states: states_of(u, now),
            groups: found.groups.get(&u.id).map(|g| g.join(", ")).unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let body = page(
        StatusCode::OK,
        &UsersPage {
            nav: super::Nav::of(&console, "users"),
            q: &q,
            groups: groups_offered
                .into_iter()
                .map(|(id, name)| Choice {
                    selected: Some(id) == group,
                    value: id.to_string(),
                    label: name,
                })
                .collect(),
            states: StateFilter::ALL
                .into_iter()
                .map(|s| Choice {
                    value: s.as_str().into(),
                    label: s.label().into(),
                    selected: Some(s) == state,
                })
                .collect(),
            sorts: Sort::ALL
                .into_iter()
                .map(|s| Choice {
                    value: s.as_str().into(),
                    label: s.label().into(),
                    selected: s == sort,
                })
                .collect(),
            status: status(first, last, found.total, rows.len()),
            previous,
            next,
            rows,
        },
    );
    Ok(console.answer(body))
}
