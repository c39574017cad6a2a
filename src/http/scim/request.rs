//! Reading SCIM requests: JSON bodies (errors as SCIM invalidSyntax), list
//! parameters by name case-insensitively, conditional headers.
use crate::http::answers::{self, Unserved};
use crate::scim::ScimError;
use crate::scim::list::ListParams;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde_json::Value;
use std::collections::HashMap;

/// A JSON body, whatever the content type says (clients send application/json and
/// application/scim+json alike).
pub struct Body(pub Value);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| answers::scim(Unserved::TooLarge))?;
        if bytes.is_empty() {
            return Err(ScimError::invalid_syntax("the request body is empty"));
        }
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
    }
}

/// Query parameters of a list or a single-resource GET.
pub struct Params(pub ListParams);

fn number(map: &HashMap<String, String>, key: &str) -> Result<Option<i64>, ScimError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ScimError::invalid_value(format!("{key} must be a whole number"))),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let map: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
            .collect();
        let get = |k: &str| map.get(k).map(String::as_str);
        ListParams::parse(
            get("filter"),
            get("sortby"),
            get("sortorder"),
            number(&map, "startindex")?,
            number(&map, "count")?,
            get("attributes"),
            get("excludedattributes"),
        )
        .map(Params)
    }
}

/// A SearchRequest body (POST .search).
pub fn search_params(body: &Value) -> Result<ListParams, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a SearchRequest must be an object"))?;
    let get = |k: &str| obj.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    let text = |k: &str| get(k).and_then(Value::as_str);
    let list = |k: &str| match get(k) {
        Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let int = |k: &str| -> Result<Option<i64>, ScimError> {
        match get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::invalid_value(format!("{k} must be a whole number"))),
        }
    };
    ListParams::parse(
        text("filter"),
        text("sortBy"),
        text("sortOrder"),
        int("startIndex")?,
        int("count")?,
        list("attributes").as_deref(),
        list("excludedAttributes").as_deref(),
    )
}

pub fn if_match(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub fn if_none_match(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
