//! "Forgot your password?": the form that asks for a reset link, and its answer, which
//! is the same whoever was named (no account, disabled, no address, a real one).
use super::{CsrfForm, checked_form, csrf, page};
use crate::accounts::resets;
use crate::http::{AppState, ClientAddress, WebError, too_many};
use crate::oidc::signin;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

/// `r`: the sign-in this came from, to go back to.
#[derive(Deserialize, Default)]
pub struct ForgotQuery {
    #[serde(default)]
    r: String,
}

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    r: String,
    #[serde(default)]
    username: String,
}

impl CsrfForm for ForgotForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "reset/forgot.html")]
struct ForgotPage<'a> {
    csrf: &'a str,
    r: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "reset/sent.html")]
struct SentPage<'a> {
    r: &'a str,
    username: &'a str,
    hours: i64,
}

/// The handle only when it names a sign-in still going, so the page links back to it.
async fn live_handle(svc: &AppState, r: &str) -> Option<(String, String)> {
    if r.is_empty() {
        return None;
    }
    match signin::load(svc, r).await {
        Ok(Some(p)) => Some((r.to_string(), p.identifier().to_string())),
        _ => None,
    }
}

pub async fn show(State(svc): State<AppState>, jar: CookieJar, Query(q): Query<ForgotQuery>) -> Response {
    let (r, username) = live_handle(&svc, &q.r).await.unwrap_or_default();
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    let body = ForgotPage {
        csrf: &csrf,
        r: &r,
        username: &username,
        error: None,
    };
    (jar, page(StatusCode::OK, &body)).into_response()
}

pub async fn submit(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<ForgotForm>, FormRejection>,
) -> Result<Response, WebError> {
    let form = match checked_form(&svc, &jar, form, "Open the page again and try once more.") {
        Ok(form) => form,
        Err(answer) => return Ok(*answer),
    };
    let (r, _) = live_handle(&svc, &form.r).await.unwrap_or_default();
    let username = form.username.trim();
    if username.is_empty() || username.len() > 256 {
        let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
        let body = ForgotPage {
            csrf: &csrf,
            r: &r,
            username,
            error: Some("Enter your username or email address."),
        };
        return Ok((jar, page(StatusCode::BAD_REQUEST, &body)).into_response());
    }
    if !svc.limits.forgot_password.check(from) {
        return Ok(too_many(
            "Too many password reset requests from this network. Wait a few minutes, or ask your administrator.",
        ));
    }
    resets::forgotten(&svc, username, Some(from.to_string()));
    let body = SentPage {
        r: &r,
        username,
        hours: svc.settings().reset_link_lifetime.num_hours(),
    };
    Ok(page(StatusCode::OK, &body))
}
