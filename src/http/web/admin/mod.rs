//! `/admin`: the console where an organisation's admins (and group admins, within
//! their groups) do by hand what SCIM does not. Every handler enters through
//! `console::enter`, and every action on a user checks the admin's reach first.
mod actions;
mod console;
mod create;
mod history;
mod membership;
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
}

/// A posted form's fields in order: `group` repeats, which a struct cannot take.
#[derive(serde::Deserialize, Default)]
#[serde(transparent)]
pub(super) struct Fields(Vec<(String, String)>);

impl crate::http::web::CsrfForm for Fields {
    fn csrf(&self) -> &str {
        self.0.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str())
    }
}

impl Fields {
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
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
