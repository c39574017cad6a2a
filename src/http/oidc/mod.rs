//! OpenID Connect endpoints: routing, client credentials from the request, and
//! `OidcError` as OAuth's JSON error responses (RFC 6749 §5.2, RFC 6750 §3).
mod authorize;
mod discovery;
mod end_session;
mod token;
mod userinfo;

pub use authorize::{redirect, refusal_response, signin_page};

use crate::http::AppState;
use crate::oidc::OidcError;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::metadata))
        .route("/jwks", get(discovery::jwks))
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/token", post(token::token))
        .route("/revoke", post(token::revoke))
        .route("/introspect", post(token::introspect))
        .route("/userinfo", get(userinfo::get).post(userinfo::post))
        .route("/end_session", get(end_session::get).post(end_session::post))
}

/// `Authorization: Basic` with client_id:client_secret, each form-urlencoded (RFC 6749 §2.3.1).
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Token responses and errors must not be cached (RFC 6749 §5.1).
pub fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        let (status, code, description) = match self {
            OidcError::Protocol {
                code,
                description,
                status,
            } => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                description,
            ),
            OidcError::InvalidToken(d) => {
                let challenge = format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    d.replace('"', "'")
                );
                let mut r = (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "invalid_token", "error_description": d})),
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                return no_store(r);
            }
            OidcError::Store(e) => {
                tracing::error!(error = %e, "OIDC request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Tessera could not finish the request".to_string(),
                )
            }
            OidcError::Internal(e) => {
                tracing::error!(error = %e, "OIDC request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Tessera could not finish the request".to_string(),
                )
            }
        };
        let mut r = (
            status,
            axum::Json(json!({"error": code, "error_description": description})),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED
            && let Ok(v) = HeaderValue::from_str("Basic realm=\"tessera\"")
        {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body may be unread: say the connection ends (as SCIM's 413 does).
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        no_store(r)
    }
}
