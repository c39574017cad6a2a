//! The pages' errors as HTTP responses, in one place: a readable HTML page; the cause
//! of a server error goes to the log, never to the response. (SCIM's and OAuth's
//! errors become responses in http/scim and http/oidc; answers.rs picks among the
//! three for answers no handler makes.)
use super::web::page;
use crate::accounts::AccountsError;
use crate::directory::DirectoryError;
use crate::mail::MailError;
use crate::store::StoreError;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request timed out")]
    TimedOut,
    #[error("request body too large")]
    TooLarge,
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
            WebError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Not available this way",
                "This address does not take this kind of request. Go back and try again.",
            ),
            WebError::TimedOut => (
                StatusCode::REQUEST_TIMEOUT,
                "This took too long",
                "Tessera stopped waiting for this request. Please try again.",
            ),
            WebError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much was sent",
                "This form sent more than Tessera accepts. Go back, shorten what you entered and try again.",
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
        let mut response = page(status, &ErrorPage { title, message });
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body may be unread: say the connection ends (as SCIM's 413 does).
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// 429 with a page saying why, and when to try again (RFC 6585 §4).
pub fn too_many(message: &str) -> Response {
    let mut r = WebError::TooMany(message.to_string()).into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
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
            AccountsError::Store(_)
            | AccountsError::Hashing(_)
            | AccountsError::Mail(MailError::Store(_) | MailError::Template(_)) => WebError::Internal(e.to_string()),
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

/// For the console's app pages: a refused registration reads as the form's error.
impl From<crate::oidc::OidcError> for WebError {
    fn from(e: crate::oidc::OidcError) -> Self {
        match e {
            crate::oidc::OidcError::Protocol { description, .. } => {
                WebError::BadRequest(crate::http::web::capitalise(&description))
            }
            crate::oidc::OidcError::Store(s) => s.into(),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<crate::scim::clients::ClientError> for WebError {
    fn from(e: crate::scim::clients::ClientError) -> Self {
        match e {
            crate::scim::clients::ClientError::Store(s) => s.into(),
            crate::scim::clients::ClientError::NotFound(_) => WebError::NotFound,
            other => WebError::BadRequest(crate::http::web::capitalise(&other.to_string())),
        }
    }
}
