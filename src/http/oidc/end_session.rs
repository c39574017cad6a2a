//! GET|POST /end_session (OpenID Connect RP-Initiated Logout 1.0).
use super::authorize::redirect;
use crate::http::answers::{self, Unserved, past_body_limit};
use crate::http::web::{csrf, page, page_leading_to, session_cookie};
use crate::http::{AppState, WebError};
use crate::oidc::Provider;
use crate::oidc::logout::{self, EndSessionParams, Outcome};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "signin/logout_confirm.html")]
struct ConfirmPage<'a> {
    csrf: &'a str,
    id_token_hint: &'a str,
    post_logout_redirect_uri: &'a str,
    state: &'a str,
    client_id: &'a str,
}

#[derive(Template)]
#[template(path = "signin/signed_out.html")]
struct SignedOutPage;

#[derive(Deserialize, Default)]
pub struct EndSessionForm {
    #[serde(flatten)]
    params: EndSessionParams,
    csrf: Option<String>,
    confirm: Option<String>,
}

pub async fn get(
    State(svc): State<AppState>,
    jar: CookieJar,
    query: Result<Query<EndSessionParams>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => end_session(&svc, jar, params, false).await,
        Err(e) => {
            WebError::BadRequest(format!("This sign-out request is malformed: {}", e.body_text())).into_response()
        }
    }
}

/// An RP may POST the same parameters; the confirmation form posts them back with `confirm`.
pub async fn post(
    State(svc): State<AppState>,
    jar: CookieJar,
    form: Result<Form<EndSessionForm>, FormRejection>,
) -> Response {
    let Form(form) = match form {
        Ok(f) => f,
        Err(e) if past_body_limit(&e) => return answers::page(Unserved::TooLarge).into_response(),
        Err(e) => {
            return WebError::BadRequest(format!("This sign-out request is malformed: {}", e.body_text()))
                .into_response();
        }
    };
    let confirmed = form.confirm.is_some();
    if confirmed
        && !csrf::verify(
            &jar,
            &svc.secret,
            svc.config.secure_cookies(),
            form.csrf.as_deref().unwrap_or(""),
        )
    {
        return WebError::Forbidden(
            "This sign-out form has expired. Go back to the application and sign out again.".into(),
        )
        .into_response();
    }
    end_session(&svc, jar, form.params, confirmed).await
}

async fn end_session(svc: &Provider, jar: CookieJar, params: EndSessionParams, confirmed: bool) -> Response {
    let session = match session_cookie::current(svc, &jar).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let outcome = match logout::end_session(svc, &params, session, confirmed).await {
        Ok(o) => o,
        Err(e) => return WebError::Internal(e.to_string()).into_response(),
    };
    match outcome {
        Outcome::Confirm => {
            let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            let confirm = ConfirmPage {
                csrf: &csrf,
                id_token_hint: &text(&params.id_token_hint),
                post_logout_redirect_uri: &text(&params.post_logout_redirect_uri),
                state: &text(&params.state),
                client_id: &text(&params.client_id),
            };
            // end_session has checked post_logout_redirect_uri against the client's list
            // before asking; confirming ends in a redirect there.
            let target = params.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty());
            (jar, page_leading_to(StatusCode::OK, &confirm, target)).into_response()
        }
        Outcome::Redirect(location) => (session_cookie::clear(svc, jar), redirect(&location)).into_response(),
        Outcome::SignedOut => (session_cookie::clear(svc, jar), page(StatusCode::OK, &SignedOutPage)).into_response(),
        Outcome::Refused(message) => WebError::BadRequest(message).into_response(),
    }
}
