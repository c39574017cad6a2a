//! `POST /admin/users/{id}/{action}`: what an admin does to one user. Each action
//! checks the CSRF token, the admin's reach, and for the sensitive ones (temporary
//! password, second-factor reset, delete) a recent proof of the admin's own password.
//! The work is the domain's: the same operations the CLI and SCIM call.
use super::console::{self, Console};
use super::user::{reachable, refuse};
use crate::accounts::users::By;
use crate::accounts::{Role, User, invites, resets, second_factor, users};
use crate::directory::scope::Refusal;
use crate::http::web::{CsrfForm, checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    /// Delete: the username typed again.
    #[serde(default)]
    confirm_username: String,
    /// Temporary password: mail it to the user too.
    #[serde(default)]
    mail: Option<String>,
    /// Role: `admin` or `member`.
    #[serde(default)]
    role: String,
    /// Access until: a `datetime-local` value in UTC; empty clears it.
    #[serde(default)]
    access_until: String,
    /// Profile: the fields as edited.
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    department: String,
}

impl CsrfForm for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "admin/temporary_password.html")]
pub(super) struct TemporaryPasswordPage<'a> {
    pub nav: super::Nav<'a>,
    pub id: String,
    pub username: &'a str,
    pub password: &'a str,
    pub expires: String,
    pub mailed: bool,
}

#[derive(Template)]
#[template(path = "admin/done.html")]
struct DonePage<'a> {
    nav: super::Nav<'a>,
    heading: &'a str,
    message: String,
}

/// Actions that ask for the admin's password again when its sign-in is not recent.
fn sensitive(action: &str) -> bool {
    matches!(
        action,
        "temporary-password" | "reset-2fa" | "delete" | "role" | "profile"
    )
}

/// Actions that hand over or remove the account itself (a new email address takes
/// the reset links with it): a group admin needs every group the user is in.
fn hands_over(action: &str) -> bool {
    matches!(action, "temporary-password" | "reset-2fa" | "delete" | "profile")
}

/// Actions an admin may not take on its own account here.
fn not_on_yourself(action: &str) -> bool {
    matches!(
        action,
        "disable" | "delete" | "reset-2fa" | "temporary-password" | "role" | "access-until"
    )
}

fn back(user: &User, done: &str) -> Response {
    Redirect::to(&format!("/admin/users/{}?done={done}", user.id)).into_response()
}

pub async fn act(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Response, WebError> {
    let form = match checked_form(&svc, &jar, form, "Open the user's page again.") {
        Ok(form) => form,
        Err(answer) => return Ok(*answer),
    };
    let console = match console::enter(&svc, jar).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let from = Some(from.to_string());
    let user = match reachable(&svc, &console, &id, &action, from.clone()).await {
        Ok(u) => u,
        Err(answer) => return Ok(console.answer(answer)),
    };
    if not_on_yourself(&action) && user.id == console.admin.user.id {
        let answer = refuse(&svc, &console, &action, Some(&user), Refusal::Yourself, from).await;
        return Ok(console.answer(answer));
    }
    if hands_over(&action) && !crate::directory::scope::reaches_fully(&svc, &console.admin, &user).await? {
        let answer = refuse(&svc, &console, &action, Some(&user), Refusal::OtherGroups, from).await;
        return Ok(console.answer(answer));
    }
    let by = By {
        actor: console.admin.actor(),
        source_ip: from.clone(),
    };
    let mut console = console;
    if sensitive(&action) && !console.step_up(&svc, &form.current_password, from.clone()).await? {
        return Ok(console.answer(back(&user, "wrong-password")));
    }
    let answer = match perform(&svc, &console, &user, &action, &form, &by).await {
        Ok(answer) => answer,
        Err(e) => e.into_response(),
    };
    Ok(console.answer(answer))
}

async fn perform(
    svc: &AppState,
    console: &Console,
    user: &User,
    action: &str,
    form: &ActionForm,
    by: &By,
) -> Result<Response, WebError> {
    let actor = &by.actor;
    Ok(match action {
        "disable" => {
            users::set_active(svc, actor, &user.username, false).await?;
            back(user, "disabled")
        }
        "restore" => {
            users::set_active(svc, actor, &user.username, true).await?;
            back(
                user,
                if user.access_ended(svc.now()) {
                    "restored-access"
                } else {
                    "restored"
                },
            )
        }
        "unlock" => {
            resets::unlock(svc, by, &user.username).await?;
            back(user, "unlocked")
        }
        "reset-link" => {
            resets::mail_link(svc, by, &user.username).await?;
            back(user, "reset-link")
        }
        "invite" => {
            invites::resend(svc, by, &user.username).await?;
            back(user, "invite")
        }
        "cancel-invite" => {
            invites::cancel(svc, by, user).await?;
            back(user, "invite-cancelled")
        }
        "sign-out-everywhere" => {
            users::sign_out_everywhere(svc, user, by).await?;
            back(user, "signed-out")
        }
        "profile" => {
            let edit = crate::accounts::profile::ProfileEdit {
                email: Some(form.email.clone()),
                given_name: Some(form.given_name.clone()),
                family_name: Some(form.family_name.clone()),
                title: Some(form.title.clone()),
                department: Some(form.department.clone()),
            };
            crate::accounts::profile::edit(svc, user, edit, by).await?;
            back(user, "profile")
        }
        "access-until" => {
            let until = super::moment(&form.access_until)?;
            crate::accounts::access_ends::set(svc, user, until, by).await?;
            back(
                user,
                if until.is_some() {
                    "access-until"
                } else {
                    "access-until-cleared"
                },
            )
        }
        "must-change" | "no-must-change" => {
            users::set_must_change(svc, user, action == "must-change", by).await?;
            back(user, action)
        }
        "role" => {
            let role = Role::parse(&form.role)
                .ok_or_else(|| WebError::BadRequest("Choose the role: admin or member.".into()))?;
            if let Err(why) = console.admin.may_grant(role) {
                return Ok(refuse(svc, console, "role", Some(user), why, by.source_ip.clone()).await);
            }
            users::set_role(svc, user, role, by).await?;
            back(user, "role")
        }
        "reset-2fa" => {
            second_factor::reset(svc, user, by).await?;
            back(user, "2fa-reset")
        }
        "temporary-password" => {
            let mail = form.mail.is_some();
            let made = resets::temporary(svc, by, &user.username, mail).await?;
            page(
                StatusCode::OK,
                &TemporaryPasswordPage {
                    nav: super::Nav::of(console, "users"),
                    id: user.id.to_string(),
                    username: &user.username,
                    password: &made.password,
                    expires: super::when(made.expires_at),
                    mailed: made.mail_id.is_some(),
                },
            )
        }
        "delete" => {
            if form.confirm_username.trim() != user.username {
                return Err(WebError::BadRequest(format!(
                    "To delete this user, type their username ({}) exactly. Nothing was deleted.",
                    user.username
                )));
            }
            users::delete(svc, actor, &user.username).await?;
            page(
                StatusCode::OK,
                &DonePage {
                    nav: super::Nav::of(console, "users"),
                    heading: "User deleted",
                    message: format!(
                        "{} is deleted: the username and email address are free to use again. \
                         The audit log keeps what was done.",
                        user.username
                    ),
                },
            )
        }
        _ => return Err(WebError::NotFound),
    })
}
