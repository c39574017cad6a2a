//! GET|POST /userinfo: the bearer token in the header, or (POST) in the form body.
use super::no_store;
use crate::http::AppState;
use crate::http::answers::{self, Unserved, past_body_limit};
use crate::oidc::{OidcError, userinfo};
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

async fn answer(svc: &AppState, token: Option<String>) -> Result<Response, OidcError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::InvalidToken("an access token is required".into()))?;
    let claims = userinfo::userinfo(svc, &token).await?;
    Ok(no_store(Json(claims).into_response()))
}

pub async fn get(State(svc): State<AppState>, headers: HeaderMap) -> Result<Response, OidcError> {
    answer(&svc, bearer(&headers)).await
}

#[derive(Deserialize, Default)]
pub struct BodyToken {
    access_token: Option<String>,
}

pub async fn post(
    State(svc): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<BodyToken>, FormRejection>,
) -> Result<Response, OidcError> {
    // A POST carrying the token only in the header may have no form body at all.
    let body = match form {
        Err(e) if past_body_limit(&e) => return Err(answers::oauth(Unserved::TooLarge)),
        form => form.ok().and_then(|Form(f)| f.access_token),
    };
    // RFC 6750 §2: one way of sending the token, not two.
    match (bearer(&headers), body) {
        (Some(_), Some(_)) => Err(OidcError::invalid_request(
            "send the token in the header or the body, not both",
        )),
        (h, b) => answer(&svc, h.or(b)).await,
    }
}
