//! Answers no handler makes: the router's (no such path, method not allowed), the
//! request timeout's, the body limit's and the panic catcher's. Each comes in the
//! format of the interface the request's path names, and `Face::of` is the one place
//! that tells which that is.
use super::error::WebError;
use crate::oidc::OidcError;
use crate::scim::ScimError;
use axum::extract::rejection::FormRejection;
use axum::extract::{OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Which of Tessera's interfaces a request is for, known from its path alone, so an
/// answer made outside the handlers speaks that interface's format.
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

/// Why a request is answered by the router or a layer rather than by a handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unserved {
    /// 404: no route has this path.
    NotFound,
    /// 405: a route has this path but not this method (the router adds `Allow`).
    MethodNotAllowed,
    /// 408: no answer within the configured request timeout.
    TimedOut,
    /// 413: the body is past the body limit (answered where a handler reads the body).
    TooLarge,
}

/// The answer in the face's format, with the status `why` names.
pub fn answer(face: Face, why: Unserved) -> Response {
    match face {
        Face::Scim => scim(why).into_response(),
        Face::OAuth => oauth(why).into_response(),
        Face::Page => page(why).into_response(),
    }
}

pub fn scim(why: Unserved) -> ScimError {
    match why {
        Unserved::NotFound => ScimError::not_found("no such SCIM endpoint"),
        Unserved::MethodNotAllowed => ScimError {
            status: 405,
            scim_type: None,
            detail: "this SCIM endpoint does not take this method; the Allow header lists those it does".into(),
        },
        Unserved::TimedOut => ScimError {
            status: 408,
            scim_type: None,
            detail: "the request was not answered in time; try again".into(),
        },
        Unserved::TooLarge => ScimError::payload_too_large("the request body is too large"),
    }
}

pub fn oauth(why: Unserved) -> OidcError {
    let (code, status, description) = match why {
        Unserved::NotFound => ("invalid_request", 404, "there is no endpoint at this address"),
        Unserved::MethodNotAllowed => (
            "invalid_request",
            405,
            "this endpoint does not take this method; the Allow header lists those it does",
        ),
        Unserved::TimedOut => (
            "temporarily_unavailable",
            408,
            "the request was not answered in time; try again",
        ),
        Unserved::TooLarge => ("invalid_request", 413, "the request body is too large"),
    };
    OidcError::Protocol {
        code,
        description: description.into(),
        status,
    }
}

pub fn page(why: Unserved) -> WebError {
    match why {
        Unserved::NotFound => WebError::NotFound,
        Unserved::MethodNotAllowed => WebError::MethodNotAllowed,
        Unserved::TimedOut => WebError::TimedOut,
        Unserved::TooLarge => WebError::TooLarge,
    }
}

/// Whether a form extractor refused the body for passing the router's body limit
/// (its other refusals are the handler's to word).
pub fn past_body_limit(rejection: &FormRejection) -> bool {
    rejection.status() == StatusCode::PAYLOAD_TOO_LARGE
}

/// The router's fallback for paths no route has.
pub async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    answer(Face::of(uri.path()), Unserved::NotFound)
}

/// Every route's fallback for methods it does not take; the router adds `Allow`.
pub async fn method_not_allowed(OriginalUri(uri): OriginalUri) -> Response {
    answer(Face::of(uri.path()), Unserved::MethodNotAllowed)
}

/// A request without an answer after `limit` is answered 408 (the handler's future is
/// dropped, as with any timeout).
pub async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let face = Face::of(req.uri().path());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => answer(face, Unserved::TimedOut),
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
    use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};

    const SECRET: &str = "panicked at src/x.rs: token=hunter2";

    async fn parts(response: Response) -> (StatusCode, String, String) {
        let status = response.status();
        let kind = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        let body = String::from_utf8(body.to_vec()).expect("utf-8");
        (status, kind, body)
    }

    async fn panicked(path: &str) -> (StatusCode, String, String) {
        let answer = parts(panic_response(Face::of(path), Box::new(SECRET.to_string()))).await;
        assert!(
            !answer.2.contains("hunter2") && !answer.2.contains("src/x.rs"),
            "{}",
            answer.2
        );
        answer
    }

    #[tokio::test]
    async fn a_panic_under_scim_answers_scim_error_json() {
        for path in ["/scim/v2/Users", "/SCIM/v2/users/é", "/scim/v2"] {
            let (status, kind, body) = panicked(path).await;
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
            let (status, kind, body) = panicked(path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(kind.starts_with("application/json"), "{path}: {kind}");
            let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(doc["error"], "server_error");
        }
    }

    #[tokio::test]
    async fn a_panic_elsewhere_answers_a_readable_page() {
        for path in ["/authorize", "/signin/password", "/scim/v2x", "/", "/tokens"] {
            let (status, kind, body) = panicked(path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(kind.starts_with("text/html"), "{path}: {kind}");
            assert!(body.contains("Something went wrong"), "{body}");
        }
    }

    const UNSERVED: [(Unserved, u16); 4] = [
        (Unserved::NotFound, 404),
        (Unserved::MethodNotAllowed, 405),
        (Unserved::TimedOut, 408),
        (Unserved::TooLarge, 413),
    ];

    #[tokio::test]
    async fn each_refusal_keeps_its_status_in_every_face() {
        for (why, code) in UNSERVED {
            let (status, kind, body) = parts(answer(Face::Scim, why)).await;
            assert_eq!(status.as_u16(), code);
            assert_eq!(kind, "application/scim+json");
            let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(doc["status"], code.to_string());

            let response = answer(Face::OAuth, why);
            assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
            let (status, kind, body) = parts(response).await;
            assert_eq!(status.as_u16(), code);
            assert!(kind.starts_with("application/json"), "{kind}");
            let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
            let expected = if why == Unserved::TimedOut {
                "temporarily_unavailable"
            } else {
                "invalid_request"
            };
            assert_eq!(doc["error"], expected);

            let (status, kind, body) = parts(answer(Face::Page, why)).await;
            assert_eq!(status.as_u16(), code);
            assert!(kind.starts_with("text/html"), "{kind}");
            assert!(body.contains("<h1>"), "{body}");
        }
    }
}
