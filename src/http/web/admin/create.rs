//! `/admin/users/new`: a new user, by invite (a mailed link to choose a password) or
//! with a temporary password shown once, optionally mailed too (seed 001, B and C). A
//! group admin must put the user in at least one of its groups, and only in those.
use super::Fields;
use super::actions::TemporaryPasswordPage;
use super::console;
use super::user::refuse;
use super::users::Choice;
use crate::accounts::users::{self, By, InitialPassword, NewUser};
use crate::accounts::{AccountsError, Role};
use crate::directory::scope::{self, Refusal};
use crate::http::web::{capitalise, checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::model::group::Group;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

#[derive(Default)]
pub struct NewUserForm {
    username: String,
    email: String,
    given_name: String,
    family_name: String,
    role: String,
    /// `invite` or `temporary`.
    how: String,
    mail: bool,
    groups: Vec<String>,
}

impl From<Fields> for NewUserForm {
    fn from(fields: Fields) -> Self {
        let mut form = NewUserForm::default();
        for (k, v) in fields.into_pairs() {
            match k.as_str() {
                "username" => form.username = v,
                "email" => form.email = v,
                "given_name" => form.given_name = v,
                "family_name" => form.family_name = v,
                "role" => form.role = v,
                "how" => form.how = v,
                "mail" => form.mail = true,
                "group" => form.groups.push(v),
                _ => {}
            }
        }
        form
    }
}

#[derive(Template)]
#[template(path = "admin/new_user.html")]
struct NewUserPage<'a> {
    nav: super::Nav<'a>,
    form: &'a NewUserForm,
    groups: Vec<Choice>,
    /// Only admins may make admins.
    may_make_admins: bool,
    /// A group admin must choose a group.
    group_required: bool,
    error: Option<String>,
}

fn choices(offered: &[(Uuid, String)], form: &NewUserForm) -> Vec<Choice> {
    offered
        .iter()
        .map(|(id, name)| Choice {
            selected: form.groups.iter().any(|g| g == &id.to_string()),
            value: id.to_string(),
            label: name.clone(),
        })
        .collect()
}

pub async fn form(State(svc): State<AppState>, jar: CookieJar) -> Result<Response, WebError> {
    let console = match console::enter(&svc, jar).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let offered = scope::assignable_groups(&svc, &console.admin).await?;
    let empty = NewUserForm {
        how: "invite".into(),
        ..NewUserForm::default()
    };
    let body = page(
        StatusCode::OK,
        &NewUserPage {
            nav: super::Nav::of(&console, "new"),
            form: &empty,
            groups: choices(&offered, &empty),
            may_make_admins: console.admin.is_admin(),
            group_required: !console.admin.is_admin(),
            error: None,
        },
    );
    Ok(console.answer(body))
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

pub async fn submit(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let form: NewUserForm = match checked_form(&svc, &jar, form, "Open the new-user page again.") {
        Ok(fields) => fields.into(),
        Err(answer) => return Ok(*answer),
    };
    let console = match console::enter(&svc, jar).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let from = Some(from.to_string());
    let offered = scope::assignable_groups(&svc, &console.admin).await?;
    let mut groups = Vec::new();
    for g in &form.groups {
        let held = Uuid::parse_str(g).ok().filter(|id| console.admin.may_assign(*id));
        let Some((id, name)) = held.and_then(|id| offered.iter().find(|(o, _)| *o == id)) else {
            let answer = refuse(&svc, &console, "create_user", None, Refusal::GroupNotHeld, from).await;
            return Ok(console.answer(answer));
        };
        groups.push(Group {
            id: *id,
            display_name: name.clone(),
            external_id: None,
            created_at: svc.now(),
            updated_at: svc.now(),
            version: 1,
        });
    }
    let role = Role::parse(&form.role).unwrap_or(Role::Member);
    if let Err(why) = console.admin.may_grant(role) {
        let answer = refuse(&svc, &console, "create_user", None, why, from).await;
        return Ok(console.answer(answer));
    }
    let retry = |error: String| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewUserPage {
                nav: super::Nav::of(&console, "new"),
                form: &form,
                groups: choices(&offered, &form),
                may_make_admins: console.admin.is_admin(),
                group_required: !console.admin.is_admin(),
                error: Some(error),
            },
        )
    };
    if groups.is_empty() && !console.admin.is_admin() {
        let answer = retry("Choose at least one of your groups: you manage only the users in them.".into());
        return Ok(console.answer(answer));
    }
    let invite = form.how != "temporary";
    if invite && optional(&form.email).is_none() {
        let answer = retry("An invite goes by mail: give an email address, or choose a temporary password.".into());
        return Ok(console.answer(answer));
    }
    let new = NewUser {
        username: form.username.clone(),
        email: optional(&form.email),
        given_name: optional(&form.given_name),
        family_name: optional(&form.family_name),
        admin: role == Role::Admin,
    };
    let initial = if invite {
        InitialPassword::None
    } else {
        InitialPassword::Temporary
    };
    let by = By {
        actor: console.admin.actor(),
        source_ip: from,
    };
    let mail_temporary = !invite && form.mail;
    let created = match users::create_in_groups(&svc, &by, new, initial, &groups, mail_temporary).await {
        Ok(created) => created,
        Err(
            e @ (AccountsError::Invalid { .. }
            | AccountsError::UsernameTaken(_)
            | AccountsError::EmailTaken(_)
            | AccountsError::Mail(_)),
        ) => {
            let answer = retry(capitalise(&e.to_string()));
            return Ok(console.answer(answer));
        }
        Err(e) => return Err(e.into()),
    };
    let answer = match &created.temporary_password {
        Some(password) => page(
            StatusCode::OK,
            &TemporaryPasswordPage {
                nav: super::Nav::of(&console, "users"),
                id: created.user.id.to_string(),
                username: &created.user.username,
                password,
                expires: created.user.password_expires_at.map(super::when).unwrap_or_default(),
                mailed: mail_temporary,
            },
        ),
        None => Redirect::to(&format!("/admin/users/{}?done=created", created.user.id)).into_response(),
    };
    Ok(console.answer(answer))
}
