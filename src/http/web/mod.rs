//! Server-rendered pages (askama): first-admin setup, invites, password resets, the
//! hosted sign-in steps, the account page; the admin console later.
mod account;
mod account_passkeys;
mod account_security;
mod admin;
pub mod csrf;
pub(crate) mod device_cookie;
mod forgot;
mod invite;
mod passkey_options;
mod reset;
pub mod session_cookie;
mod setup;
pub(crate) mod signin;

use super::AppState;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/setup", get(setup::show).post(setup::submit))
        .route("/invite", get(invite::show).post(invite::submit))
        .route("/forgot", get(forgot::show).post(forgot::submit))
        .route("/reset", get(reset::show).post(reset::submit))
        .route("/account", get(account::show))
        .route("/account/password", post(account_security::change_password))
        .route(
            "/account/totp",
            get(account_security::totp_page).post(account_security::enrol_totp),
        )
        .route("/account/totp/remove", post(account_security::remove_totp))
        .route("/account/recovery-codes", post(account_security::regenerate_codes))
        .route("/account/sessions/end", post(account_security::end_session))
        .route("/account/passkeys", post(account_passkeys::add))
        .route("/account/passkeys/options", post(account_passkeys::options))
        .route("/account/passkeys/rename", post(account_passkeys::rename))
        .route("/account/passkeys/remove", post(account_passkeys::remove))
        .route("/account/sign-out", post(account::sign_out))
        .route("/account/sign-out-everywhere", post(account::sign_out_everywhere))
        .route("/static/tessera.css", get(stylesheet))
        .route("/static/passkey.js", get(passkey_script))
        .route("/static/console.js", get(console_script))
        .merge(signin::routes())
        .merge(admin::routes())
}

/// Pages allow only their own stylesheet, their one script (passkeys) and forms posting
/// back to Tessera, and are never cached (they can carry one-time tokens).
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A form that carries the page's CSRF token.
pub(crate) trait CsrfForm {
    fn csrf(&self) -> &str;
}

/// A posted form within the body limit whose CSRF token matches this browser's cookie;
/// otherwise the answer to send, which says to `start_over` ("Open the setup link again.").
pub(crate) fn checked_form<T: CsrfForm>(
    svc: &AppState,
    jar: &axum_extra::extract::cookie::CookieJar,
    form: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
    start_over: &str,
) -> Result<T, Box<Response>> {
    let form = match form {
        Ok(axum::Form(form)) => form,
        Err(e) if crate::http::answers::past_body_limit(&e) => {
            return Err(Box::new(
                crate::http::answers::page(crate::http::answers::Unserved::TooLarge).into_response(),
            ));
        }
        // Its other refusals (415, 422) are answered as axum words them.
        Err(e) => return Err(Box::new(e.into_response())),
    };
    if !csrf::verify(jar, &svc.secret, svc.config.secure_cookies(), form.csrf()) {
        return Err(Box::new(
            crate::http::WebError::Forbidden(format!(
                "This form has expired or was not sent from Tessera's own page. {start_over}"
            ))
            .into_response(),
        ));
    }
    Ok(form)
}

/// A message of the domain's ("must not contain…") as a sentence on a page.
pub(crate) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn page(status: StatusCode, template: &impl Template) -> Response {
    page_leading_to(status, template, None)
}

/// A page whose form may be answered by a redirect to `target` (a client's registered,
/// already checked redirect or post-logout URI): Chromium and WebKit apply `form-action`
/// to the redirects after a form post too, so the target's origin must be allowed.
pub fn page_leading_to(status: StatusCode, template: &impl Template, target: Option<&str>) -> Response {
    let csp = match target.and_then(csp_source) {
        Some(source) => {
            HeaderValue::from_str(&PAGE_CSP.replace("form-action 'self'", &format!("form-action 'self' {source}")))
        }
        None => Ok(HeaderValue::from_static(PAGE_CSP)),
    };
    match (template.render(), csp) {
        (Ok(html), Ok(csp)) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        (_, Err(e)) => {
            tracing::error!(error = %e, "page policy is not a valid header");
            (StatusCode::INTERNAL_SERVER_ERROR, "Tessera could not render this page.").into_response()
        }
        (Err(e), _) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Tessera could not render this page.").into_response()
        }
    }
}

/// The CSP source expression for a URI's origin: `https://app.example:8443`, or for a
/// native app's private scheme just `com.example.app:`.
fn csp_source(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let origin = url.origin();
    if origin.is_tuple() {
        Some(origin.ascii_serialization())
    } else {
        Some(format!("{}:", url.scheme()))
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/static/tessera.css"),
    )
}

async fn passkey_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/static/passkey.js"),
    )
}

async fn console_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/static/console.js"),
    )
}
