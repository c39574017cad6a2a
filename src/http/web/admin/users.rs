//! `/admin/users`: search, filter, sort and page through the users this admin reaches.
use super::console;
use crate::directory::listing::{self, PAGE_SIZE};
use crate::http::web::page;
use crate::http::{AppState, WebError};
use crate::model::user_listing::{ListedUser, Sort, StateFilter, UserQuery};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
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
    #[serde(default)]
    page: Option<u64>,
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
    total: u64,
    first: u64,
    last: u64,
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

fn link(p: &ListParams, page: u64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("q", &p.q), ("group", &p.group), ("state", &p.state), ("sort", &p.sort)] {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/admin/users".into()
    } else {
        format!("/admin/users?{query}")
    }
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
    let page_no = p.page.unwrap_or(1).clamp(1, 100_000);
    let query = UserQuery {
        words,
        group,
        state,
        sort,
        offset: (page_no - 1) * PAGE_SIZE,
        ..UserQuery::default()
    };
    let found = listing::users(&svc, &console.admin, query).await?;
    let now = svc.now();
    let rows = found
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
    let first = if rows.is_empty() {
        0
    } else {
        (page_no - 1) * PAGE_SIZE + 1
    };
    let last = (page_no - 1) * PAGE_SIZE + rows.len() as u64;
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
            previous: (page_no > 1).then(|| link(&p, page_no - 1)),
            next: (last < found.total).then(|| link(&p, page_no + 1)),
            rows,
            total: found.total,
            first,
            last,
        },
    );
    Ok(console.answer(body))
}
