//! `/admin`: the console where an organisation's admins (and group admins, within
//! their groups) do by hand what SCIM does not. Every handler enters through
//! `console::enter`, and every action on a user checks the admin's reach first.
mod actions;
mod audit_log;
mod client;
mod clients;
mod console;
mod create;
mod history;
mod keys;
mod membership;
mod scim_client;
mod scim_clients;
mod settings;
mod sign_in;
mod user;
mod users;

use crate::http::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/sign-in", get(sign_in::begin))
        .route("/admin/signed-in", get(sign_in::finish))
        .route("/admin/users", get(users::list))
        .route("/admin/users/new", get(create::form).post(create::submit))
        .route("/admin/users/{id}", get(user::show))
        .route("/admin/users/{id}/groups", post(membership::save))
        .route("/admin/users/{id}/{action}", post(actions::act))
        .route("/admin/clients", get(clients::list).post(clients::create))
        .route("/admin/clients/{id}", get(client::show).post(client::save))
        .route("/admin/clients/{id}/{action}", post(client::act))
        .route("/admin/scim", get(scim_clients::list).post(scim_clients::create))
        .route("/admin/scim/{id}", get(scim_client::show))
        .route("/admin/scim/{id}/revoke", post(scim_client::revoke))
        .route("/admin/keys", get(keys::list))
        .route("/admin/keys/rotate", post(keys::rotate))
        .route("/admin/audit", get(audit_log::show))
        .route("/admin/audit/export.csv", get(audit_log::export))
        .route("/admin/settings", get(settings::show).post(settings::save))
        .route("/admin/settings/test-mail", post(settings::test_mail))
}

/// A posted form's fields in order: `group` repeats, which a struct cannot take.
#[derive(serde::Deserialize, Default)]
#[serde(transparent)]
pub(super) struct Fields(Vec<(String, String)>);

impl crate::http::web::CsrfForm for Fields {
    fn csrf(&self) -> &str {
        self.get("csrf").unwrap_or("")
    }
}

impl Fields {
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// The first value posted under `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The console's header: where the admin is, and who they are.
pub(super) struct Nav<'a> {
    pub here: &'a str,
    pub username: String,
    pub csrf: String,
    /// A group admin: the groups it administers, by name.
    pub groups: Option<String>,
}

impl<'a> Nav<'a> {
    fn of(console: &console::Console, here: &'a str) -> Self {
        Nav {
            here,
            username: console.admin.user.username.clone(),
            csrf: console.csrf.clone(),
            groups: match &console.admin.reach {
                crate::directory::scope::Reach::Everyone => None,
                crate::directory::scope::Reach::Groups(g) => {
                    Some(g.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", "))
                }
            },
        }
    }
}

/// Enters the console for what only admins of the whole organisation do (apps, SCIM
/// clients, keys, the audit log, settings); a group admin is refused, audited.
pub(super) async fn enter_admin(
    svc: &AppState,
    jar: axum_extra::extract::cookie::CookieJar,
    action: &str,
    from: std::net::IpAddr,
) -> Result<console::Console, axum::response::Response> {
    let console = console::enter(svc, jar).await?;
    if console.admin.is_admin() {
        return Ok(console);
    }
    let why = crate::directory::scope::Refusal::AdminsOnly;
    let answer = user::refuse(svc, &console, action, None, why, Some(from.to_string())).await;
    Err(console.answer(answer))
}

/// `?done=...` after an action redirects back: which fixed notice the page shows.
#[derive(serde::Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    pub done: Option<String>,
}

/// Lines of a textarea, trimmed, without the empty ones.
pub(super) fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// A `datetime-local` field's value, read as UTC; None when empty.
pub(super) fn moment(s: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, crate::http::WebError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            crate::http::WebError::BadRequest(format!("'{s}' is not a date and time (like 2026-12-01T07:30)."))
        })
}
