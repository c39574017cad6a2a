//! The JSON a passkey prompt's options come as, fetched by `/static/passkey.js` from
//! the sign-in pages and the account page alike: the options, or why there are none.
use super::capitalise;
use crate::accounts::AccountsError;
use crate::http::WebError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A ceremony's options for the browser, or why there are none, as JSON (fetched by
/// `/static/passkey.js`).
pub(crate) fn options_answer(options: Result<Option<String>, AccountsError>) -> Response {
    match options {
        Ok(Some(json)) => json_answer(StatusCode::OK, json),
        Ok(None) => json_error("There is no passkey to use here."),
        Err(AccountsError::Invalid { message, .. }) => json_error(&format!("{}.", capitalise(&message))),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Why there are no options, as the script shows it.
pub(super) fn json_error(message: &str) -> Response {
    json_answer(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "error": message }).to_string(),
    )
}

fn json_answer(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
