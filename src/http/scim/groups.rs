use super::request::{Body, Params, if_match, if_none_match, search_params};
use super::{Client, document, resource};
use crate::http::AppState;
use crate::scim::etag::version_of;
use crate::scim::schema::Resource;
use crate::scim::{ScimError, groups, list};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

fn with_note(summary: String, note: Option<String>) -> String {
    match note {
        Some(n) => format!("{summary}; {n}"),
        None => summary,
    }
}

fn label(doc: &Value) -> String {
    doc.get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

pub async fn list(State(svc): State<AppState>, client: Client, Params(p): Params) -> Result<Response, ScimError> {
    Ok(document(groups::list(&svc, &client, &p).await?))
}

pub async fn search(State(svc): State<AppState>, client: Client, Body(body): Body) -> Result<Response, ScimError> {
    let p = search_params(&body)?;
    Ok(document(groups::list(&svc, &client, &p).await?))
}

pub async fn get(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(p): Params,
) -> Result<Response, ScimError> {
    let doc = groups::get(&svc, &client, &id, &p).await?;
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
    let doc = list::project(Resource::Group, doc, &p.attributes, &p.excluded);
    Ok(resource(StatusCode::OK, doc, None))
}

pub async fn create(
    State(svc): State<AppState>,
    client: Client,
    Params(p): Params,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let (doc, note) = groups::create(&svc, &client, &body).await?;
    let summary = with_note(format!("created group {}", label(&doc)), note);
    let doc = list::project(Resource::Group, doc, &p.attributes, &p.excluded);
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
    let (doc, note) = groups::replace(&svc, &client, &id, &body, if_match(&headers).as_deref()).await?;
    let summary = with_note(format!("replaced group {}", label(&doc)), note);
    let doc = list::project(Resource::Group, doc, &p.attributes, &p.excluded);
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
    let (doc, note) = groups::patch(&svc, &client, &id, &body, if_match(&headers).as_deref(), &p).await?;
    let summary = with_note(format!("patched group {}", label(&doc)), note);
    let doc = list::project(Resource::Group, doc, &p.attributes, &p.excluded);
    Ok(resource(StatusCode::OK, doc, Some(summary)))
}

pub async fn delete(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    groups::delete(&svc, &client, &id, if_match(&headers).as_deref()).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .extensions_mut()
        .insert(super::Summary(format!("deleted group {id}")));
    Ok(response)
}
