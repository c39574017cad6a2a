//! POST /token, /revoke and /introspect: form bodies, client authentication.
use super::{basic_credentials, no_store};
use crate::http::AppState;
use crate::http::answers::{self, Unserved, past_body_limit};
use crate::oidc::client_auth::{ClientFields, Presented};
use crate::oidc::grants::{self, TokenRequest};
use crate::oidc::{OidcError, introspection, revocation};
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;

fn form_error(e: FormRejection) -> OidcError {
    if past_body_limit(&e) {
        return answers::oauth(Unserved::TooLarge);
    }
    OidcError::invalid_request(format!("the body must be application/x-www-form-urlencoded: {e}"))
}

pub async fn token(
    State(svc): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, OidcError> {
    let Form(req) = form.map_err(form_error)?;
    let basic = basic_credentials(&headers);
    let response = grants::exchange(&svc, basic, req).await?;
    Ok(no_store(Json(response).into_response()))
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// The client that called and the token it names, common to /revoke and /introspect.
fn caller_and_token(
    svc: &AppState,
    path: &str,
    headers: &HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<(Presented, String), OidcError> {
    let Form(f) = form.map_err(form_error)?;
    let fields = ClientFields {
        client_id: f.client_id,
        client_secret: f.client_secret,
        client_assertion_type: f.client_assertion_type,
        client_assertion: f.client_assertion,
    };
    let who = Presented::new(
        basic_credentials(headers),
        fields,
        format!("{}{path}", svc.config.issuer_id()),
    );
    let token = f
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::invalid_request("token is required"))?;
    Ok((who, token))
}

pub async fn revoke(
    State(svc): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, OidcError> {
    let (who, token) = caller_and_token(&svc, "/revoke", &headers, form)?;
    revocation::revoke(&svc, &who, &token).await?;
    Ok(no_store(().into_response()))
}

pub async fn introspect(
    State(svc): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, OidcError> {
    let (who, token) = caller_and_token(&svc, "/introspect", &headers, form)?;
    let answer = introspection::introspect(&svc, &who, &token).await?;
    Ok(no_store(Json(answer).into_response()))
}
