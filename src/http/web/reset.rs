//! The page a reset link opens: the person chooses a new password; every sign-in ends.
use super::{CsrfForm, capitalise, checked_form, csrf, page};
use crate::accounts::password::MAX_LENGTH;
use crate::accounts::{AccountsError, User, resets};
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
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

impl CsrfForm for ResetForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "reset/choose_password.html")]
struct ChoosePasswordPage<'a> {
    organisation: &'a str,
    username: &'a str,
    token: &'a str,
    csrf: &'a str,
    error: Option<String>,
    min_length: usize,
    max_length: usize,
}

#[derive(Template)]
#[template(path = "reset/invalid.html")]
struct InvalidLinkPage;

#[derive(Template)]
#[template(path = "reset/done.html")]
struct DonePage;

fn invalid_link() -> Response {
    page(StatusCode::BAD_REQUEST, &InvalidLinkPage)
}

fn render(svc: &AppState, user: &User, token: &str, csrf: &str, error: Option<String>) -> Response {
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let body = ChoosePasswordPage {
        organisation: &svc.settings().organisation_name,
        username: &user.username,
        token,
        csrf,
        error,
        min_length: svc.settings().password_min_length,
        max_length: MAX_LENGTH,
    };
    page(status, &body)
}

pub async fn show(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let Some(user) = resets::open(&svc, &q.token).await? else {
        return Ok(invalid_link());
    };
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    Ok((jar, render(&svc, &user, &q.token, &csrf, None)).into_response())
}

pub async fn submit(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Result<Response, WebError> {
    if !svc.limits.link_forms.check(from) {
        return Ok(too_many(
            "Too many attempts from this network. Wait a minute and try again.",
        ));
    }
    let form = match checked_form(&svc, &jar, form, "Open the link in your mail again.") {
        Ok(form) => form,
        Err(answer) => return Ok(*answer),
    };
    let again = async |message: String| -> Result<Response, WebError> {
        match resets::open(&svc, &form.token).await? {
            Some(user) => Ok(render(&svc, &user, &form.token, &form.csrf, Some(message))),
            None => Ok(invalid_link()),
        }
    };
    if form.password != form.password_confirm {
        return again("The two passwords are not the same.".into()).await;
    }
    match resets::complete(&svc, &form.token, &form.password, Some(from.to_string())).await {
        Ok(_) => Ok(page(StatusCode::OK, &DonePage)),
        Err(AccountsError::InvalidToken) => Ok(invalid_link()),
        Err(AccountsError::WeakPassword(message)) => again(capitalise(&message)).await,
        Err(e) => Err(e.into()),
    }
}
