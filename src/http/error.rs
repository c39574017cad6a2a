//! Errors as HTTP responses, in one place. Pages get a readable HTML page, and a
//! caught panic the error format of the interface its path names; the cause of a
//! server error goes to the log, never to the response.
use super::web::page;
use crate::accounts::AccountsError;
use crate::directory::DirectoryError;
use crate::oidc::OidcError;
use crate::scim::ScimError;
use crate::store::StoreError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    TooMany(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Something is not right", m.as_str()),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.as_str()),
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no page at this address.",
            ),
            WebError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "Too many attempts", m.as_str()),
            WebError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Tessera could not finish this request. Please try again; if it keeps happening, tell your administrator.",
                )
            }
        };
        page(status, &ErrorPage { title, message })
    }
}

/// 429 with a page saying why, and when to try again (RFC 6585 §4).
pub fn too_many(message: &str) -> Response {
    let mut r = WebError::TooMany(message.to_string()).into_response();
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("60"),
    );
    r
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<AccountsError> for WebError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::Store(_) | AccountsError::Hashing(_) | AccountsError::Mail(_) => {
                WebError::Internal(e.to_string())
            }
            AccountsError::UserNotFound(_) => WebError::NotFound,
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

impl From<DirectoryError> for WebError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Store(s) => s.into(),
            DirectoryError::Accounts(a) => a.into(),
            DirectoryError::GroupNotFound(_) => WebError::NotFound,
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}

/// Which of Tessera's interfaces a request is for, known from its path alone, so an
/// answer made outside the handlers (a caught panic) speaks that interface's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    /// `/scim/v2`: RFC 7644 §3.12 error JSON.
    Scim,
    /// The endpoints OAuth clients call directly: RFC 6749 §5.2 error JSON.
    OAuth,
    /// Everything else is a browser's: an HTML page.
    Page,
}

impl Face {
    /// Runs before anything else, outside the panic-catching layer: must not panic itself.
    pub fn of(path: &str) -> Self {
        if super::scim::paths::under_prefix(path).is_some() {
            Face::Scim
        } else if matches!(path, "/token" | "/revoke" | "/introspect" | "/userinfo") {
            Face::OAuth
        } else {
            Face::Page
        }
    }
}

/// A 500 for a request whose handling panicked. The panic's text may hold anything
/// the request carried: it goes to the log, never into the response.
pub fn panic_response(face: Face, panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not text)");
    tracing::error!(panic = %text, "a request handler panicked");
    let cause = "a request handler panicked";
    match face {
        Face::Scim => ScimError::internal(cause).into_response(),
        Face::OAuth => OidcError::Internal(cause.into()).into_response(),
        Face::Page => WebError::Internal(cause.into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::CONTENT_TYPE;

    const SECRET: &str = "panicked at src/x.rs: token=hunter2";

    async fn answer(path: &str) -> (StatusCode, String, String) {
        let response = panic_response(Face::of(path), Box::new(SECRET.to_string()));
        let status = response.status();
        let kind = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        let body = String::from_utf8(body.to_vec()).expect("utf-8");
        assert!(!body.contains("hunter2") && !body.contains("src/x.rs"), "{body}");
        (status, kind, body)
    }

    #[tokio::test]
    async fn a_panic_under_scim_answers_scim_error_json() {
        for path in ["/scim/v2/Users", "/SCIM/v2/users/é", "/scim/v2"] {
            let (status, kind, body) = answer(path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(kind, "application/scim+json", "{path}");
            let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(doc["schemas"][0], crate::scim::schema::ERROR);
            assert_eq!(doc["status"], "500");
        }
    }

    #[tokio::test]
    async fn a_panic_at_an_oauth_endpoint_answers_oauth_error_json() {
        for path in ["/token", "/revoke", "/introspect", "/userinfo"] {
            let (status, kind, body) = answer(path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(kind.starts_with("application/json"), "{path}: {kind}");
            let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(doc["error"], "server_error");
        }
    }

    #[tokio::test]
    async fn a_panic_elsewhere_answers_a_readable_page() {
        for path in ["/authorize", "/signin/password", "/scim/v2x", "/", "/tokens"] {
            let (status, kind, body) = answer(path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(kind.starts_with("text/html"), "{path}: {kind}");
            assert!(body.contains("Something went wrong"), "{body}");
        }
    }
}
