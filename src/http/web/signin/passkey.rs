//! Passkeys in the sign-in pages: the options for the browser's prompt (fetched by
//! `/static/passkey.js`), and its answer, posted like any step's form: alone from the
//! identify step, or as the second factor. Rate-limited per address like the codes.
use super::{StepForm, answer, pending_at};
use crate::http::web::passkey_options::options_answer;
use crate::http::web::{csrf, device_cookie};
use crate::http::{AppState, BrowserOrigin, ClientAddress, WebError, too_many};
use crate::oidc::signin::{self, Stage};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

const TOO_MANY: &str = "Too many passkey attempts from this network. Wait a minute and try again.";

pub(super) async fn options(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(from) {
        return too_many(TOO_MANY);
    }
    let Ok(Form(form)) = form else {
        return WebError::BadRequest("This form could not be read. Reload the page and try again.".into())
            .into_response();
    };
    if !csrf::verify(&jar, &svc.secret, svc.config.secure_cookies(), &form.csrf) {
        return WebError::Forbidden("This page has expired. Reload it and try again.".into()).into_response();
    }
    let stages = [Stage::Identify, Stage::Password, Stage::SecondFactor];
    match pending_at(&svc, &form.r, &stages).await {
        Ok(p) => options_answer(signin::passkey_options(&svc, &p).await),
        Err(answer) => answer,
    }
}

/// A passkey instead of a username and password.
pub(super) async fn sign_in(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    respond(svc, seen, jar, form, Stage::Identify, &[Stage::Password]).await
}

/// A passkey as the second factor.
pub(super) async fn second_factor(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    respond(svc, seen, jar, form, Stage::SecondFactor, &[]).await
}

async fn respond(
    svc: AppState,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
    stage: Stage,
    also: &[Stage],
) -> Response {
    if !svc.limits.second_factor.check(seen.address) {
        return too_many(TOO_MANY);
    }
    let (jar, device) = device_cookie::of(&svc, jar);
    answer(&svc, jar, seen.origin, form, stage, also, async |svc, p, f, browser| {
        signin::passkey(svc, p, &f.credential, &device, browser).await
    })
    .await
}
