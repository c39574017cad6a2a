use super::request::{Body, Params, if_match, if_none_match, search_params};
use super::{Client, document, resource};
use crate::http::AppState;
use crate::scim::etag::version_of;
use crate::scim::schema::Resource;
use crate::scim::{ScimError, list, users};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

fn label(doc: &Value) -> String {
    doc.get("userName").and_then(Value::as_str).unwrap_or("?").to_string()
}

pub async fn list(State(svc): State<AppState>, client: Client, Params(p): Params) -> Result<Response, ScimError> {
    Ok(document(users::list(&svc, &client, &p).await?))
}

pub async fn search(State(svc): State<AppState>, client: Client, Body(body): Body) -> Result<Response, ScimError> {
    let p = search_params(&body)?;
    Ok(document(users::list(&svc, &client, &p).await?))
}

/// GET by id; 304 when If-None-Match names the current version.
pub async fn get(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(p): Params,
) -> Result<Response, ScimError> {
    let doc = users::get(&svc, &client, &id).await?;
    if let (Some(tags), Some(current)) = (
        if_none_match(&headers),
        doc.pointer("/meta/version").and_then(Value::as_str),
    ) {
        let current = version_of(current);
        if tags.trim() == "*"
            || tags
                .split(',')
                .any(|t| version_of(t).is_some() && version_of(t) == current)
        {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
    }
    let doc = list::project(Resource::User, doc, &p.attributes, &p.excluded);
    Ok(resource(StatusCode::OK, doc, None))
}

pub async fn create(
    State(svc): State<AppState>,
    client: Client,
    Params(p): Params,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let doc = users::create(&svc, &client, &body).await?;
    let summary = format!("created user {}", label(&doc));
    let doc = list::project(Resource::User, doc, &p.attributes, &p.excluded);
    Ok(resource(StatusCode::CREATED, doc, Some(summary)))
}

pub async fn replace(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(p): Params,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let doc = users::replace(&svc, &client, &id, &body, if_match(&headers).as_deref()).await?;
    let summary = format!("replaced user {}", label(&doc));
    let doc = list::project(Resource::User, doc, &p.attributes, &p.excluded);
    Ok(resource(StatusCode::OK, doc, Some(summary)))
}

pub async fn patch(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(p): Params,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let doc = users::patch(&svc, &client, &id, &body, if_match(&headers).as_deref()).await?;
    let summary = format!("patched user {}", label(&doc));
    let doc = list::project(Resource::User, doc, &p.attributes, &p.excluded);
    Ok(resource(StatusCode::OK, doc, Some(summary)))
}

pub async fn delete(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    users::delete(&svc, &client, &id, if_match(&headers).as_deref()).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .extensions_mut()
        .insert(super::Summary(format!("deleted user {id}")));
    Ok(response)
}
