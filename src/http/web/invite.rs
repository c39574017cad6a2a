//! The page an invite link opens: the new user chooses a password and is signed in.
use super::{CsrfForm, capitalise, checked_form, csrf, page, session_cookie};
use crate::accounts::password::MAX_LENGTH;
use crate::accounts::{AccountsError, User, invites};
use crate::http::{AppState, BrowserOrigin, WebError, too_many};
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

impl CsrfForm for InviteForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "invite/choose_password.html")]
struct ChoosePasswordPage<'a> {
    organisation: &'a str,
    name: &'a str,
    username: &'a str,
    token: &'a str,
    csrf: &'a str,
    error: Option<String>,
    min_length: usize,
    max_length: usize,
}

fn invalid_link() -> WebError {
    WebError::BadRequest(
        "This invitation link has expired, was used already, or a newer invitation replaced it. \
         Ask your administrator to send you a new invitation."
            .into(),
    )
}

fn render(svc: &AppState, user: &User, token: &str, csrf: &str, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        status,
        &ChoosePasswordPage {
            organisation: &svc.settings().organisation_name,
            name: user.given_name.as_deref().unwrap_or(&user.username),
            username: &user.username,
            token,
            csrf,
            error,
            min_length: svc.settings().password_min_length,
            max_length: MAX_LENGTH,
        },
    )
}

pub async fn show(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let Some(user) = invites::open(&svc, &q.token).await? else {
        return Err(invalid_link());
    };
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    Ok((jar, render(&svc, &user, &q.token, &csrf, None)).into_response())
}

pub async fn submit(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<InviteForm>, FormRejection>,
) -> Result<Response, WebError> {
    if !svc.limits.link_forms.check(seen.address) {
        return Ok(too_many(
            "Too many attempts from this network. Wait a minute and try again.",
        ));
    }
    let form = match checked_form(&svc, &jar, form, "Open the invitation link again.") {
        Ok(form) => form,
        Err(answer) => return Ok(*answer),
    };
    let again = |user: &User, message: String| render(&svc, user, &form.token, &form.csrf, Some(message));
    if form.password != form.password_confirm {
        let user = invites::open(&svc, &form.token).await?.ok_or_else(invalid_link)?;
        return Ok(again(&user, "The two passwords are not the same.".into()));
    }
    let signed_in = session_cookie::current(&svc, &jar).await?;
    match invites::accept(&svc, &form.token, &form.password, signed_in, &seen.origin).await {
        Ok((_, cookie)) => {
            let jar = session_cookie::set(&svc, jar, cookie);
            Ok((jar, Redirect::to("/account?welcome=1")).into_response())
        }
        Err(AccountsError::InvalidToken) => Err(invalid_link()),
        Err(AccountsError::WeakPassword(message)) => {
            let user = invites::open(&svc, &form.token).await?.ok_or_else(invalid_link)?;
            Ok(again(&user, capitalise(&message)))
        }
        Err(e) => Err(e.into()),
    }
}
