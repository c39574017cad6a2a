//! GET|POST /authorize: check the request, then show the sign-in step it needs, or
//! send the browser straight back to the client with a code.
use crate::http::answers::{self, Unserved, past_body_limit};
use crate::http::web::{session_cookie, signin as signin_step};
use crate::http::{AppState, ClientAddress, WebError, too_many};
use crate::oidc::Provider;
use crate::oidc::authorize::{self, Next, Params, Refusal};
use crate::oidc::grants::authorization_code;
use crate::oidc::signin::{self, Stage};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use std::net::IpAddr;

pub async fn get(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => authorize(&svc, from, &jar, params).await,
        Err(e) => malformed(e.body_text()),
    }
}

pub async fn post(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(params)) => authorize(&svc, from, &jar, params).await,
        Err(e) if past_body_limit(&e) => answers::page(Unserved::TooLarge).into_response(),
        Err(e) => malformed(e.body_text()),
    }
}

/// Unparseable (e.g. a parameter sent twice, RFC 6749 §3.1): nothing in it can be trusted
/// to redirect to.
fn malformed(why: String) -> Response {
    WebError::BadRequest(format!("This sign-in request is malformed: {why}")).into_response()
}

async fn authorize(svc: &Provider, from: IpAddr, jar: &CookieJar, params: Params) -> Response {
    let checked = match authorize::check(svc, params).await {
        Ok(c) => c,
        Err(r) => return refusal_response(svc, r),
    };
    let session = match session_cookie::current(svc, jar).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    let (stage, user_id) = match authorize::decide(svc, &checked, session).await {
        Ok(Next::Issue(session)) => {
            return match authorization_code::issue_code(svc, &checked, &session).await {
                Ok(location) => redirect(&location),
                Err(e) => refusal_response(svc, Refusal::Failed(e)),
            };
        }
        Ok(Next::SignIn) => (Stage::Identify, None),
        Ok(Next::Consent(session)) => (Stage::Consent, Some(session.user_id)),
        Err(r) => return refusal_response(svc, r),
    };
    // Only a request that is kept spends the address's budget: one answered at once
    // stores nothing but its code.
    if !svc.limits.pending_sign_ins.check(from) {
        return too_many("Too many sign-ins were started from this network. Wait a few minutes and try again.");
    }
    // The first step's page comes in this answer, saving the browser a round trip.
    match signin::begin(svc, checked, stage, user_id).await {
        Ok(pending) => signin_step::render(svc, jar.clone(), &pending, stage, None, &Default::default()).await,
        Err(e) => refusal_response(svc, Refusal::Failed(e)),
    }
}

pub fn signin_page(stage: Stage, handle: &str) -> String {
    format!("/signin/{}?r={}", stage.as_str(), handle)
}

/// 303: the browser follows with GET whatever the request was (RFC 9110 §15.4.4).
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page when the client cannot be trusted with the answer, else a redirect carrying
/// the error to the client (RFC 6749 §4.1.2.1).
pub fn refusal_response(svc: &Provider, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(message) => WebError::BadRequest(message).into_response(),
        Refusal::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => redirect(&crate::oidc::redirect::error_location(
            svc.config.issuer_id(),
            &redirect_uri,
            error,
            &description,
            state.as_deref(),
        )),
        Refusal::Failed(e) => WebError::Internal(e.to_string()).into_response(),
    }
}
