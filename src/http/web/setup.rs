//! The first admin's setup page, reached through the link printed at start-up.
use super::{CsrfForm, capitalise, checked_form, csrf, page};
use crate::accounts::AccountsError;
use crate::accounts::password::MAX_LENGTH;
use crate::accounts::setup::{self, FirstAdmin};
use crate::http::{AppState, ClientAddress, WebError, too_many};
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

impl CsrfForm for SetupForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    token: &'a str,
    csrf: &'a str,
    error: Option<String>,
    username: &'a str,
    email: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    min_length: usize,
    max_length: usize,
}

#[derive(Template)]
#[template(path = "setup_done.html")]
struct DonePage<'a> {
    username: &'a str,
}

fn invalid_link() -> WebError {
    WebError::BadRequest(
        "This setup link is invalid, was already used, or has expired. Restart `tessera serve` to get a new one, \
         or create an admin with `tessera user create --admin`."
            .into(),
    )
}

pub async fn show(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    if q.token.is_empty() || !setup::is_valid(&svc, &q.token).await? {
        return Err(invalid_link());
    }
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    let form = SetupForm::default();
    Ok((jar, render_form(&svc, StatusCode::OK, &q.token, &csrf, &form, None)).into_response())
}

pub async fn submit(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SetupForm>, FormRejection>,
) -> Result<Response, WebError> {
    if !svc.limits.link_forms.check(from) {
        return Ok(too_many(
            "Too many attempts from this network. Wait a minute and try again.",
        ));
    }
    let form = match checked_form(&svc, &jar, form, "Open the setup link again.") {
        Ok(form) => form,
        Err(answer) => return Ok(*answer),
    };
    let again = |status, message: String| render_form(&svc, status, &form.token, &form.csrf, &form, Some(message));
    if form.password != form.password_confirm {
        return Ok(again(
            StatusCode::BAD_REQUEST,
            "The two passwords are not the same.".into(),
        ));
    }
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let admin = FirstAdmin {
        username: form.username.clone(),
        email: form.email.clone(),
        given_name: optional(&form.given_name),
        family_name: optional(&form.family_name),
        password: form.password.clone(),
    };
    match setup::complete(&svc, &form.token, admin, Some(from.to_string())).await {
        Ok(user) => Ok(page(
            StatusCode::OK,
            &DonePage {
                username: &user.username,
            },
        )),
        Err(AccountsError::InvalidToken) => Err(invalid_link()),
        Err(
            e @ (AccountsError::Invalid { .. }
            | AccountsError::WeakPassword(_)
            | AccountsError::UsernameTaken(_)
            | AccountsError::EmailTaken(_)),
        ) => {
            let status = match e {
                AccountsError::UsernameTaken(_) | AccountsError::EmailTaken(_) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            Ok(again(status, capitalise(&e.to_string())))
        }
        Err(e) => Err(e.into()),
    }
}

fn render_form(
    svc: &AppState,
    status: StatusCode,
    token: &str,
    csrf: &str,
    form: &SetupForm,
    error: Option<String>,
) -> Response {
    page(
        status,
        &SetupPage {
            token,
            csrf,
            error,
            username: &form.username,
            email: &form.email,
            given_name: &form.given_name,
            family_name: &form.family_name,
            min_length: svc.settings().password_min_length,
            max_length: MAX_LENGTH,
        },
    )
}
