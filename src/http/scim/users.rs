use super::request::{Body, Params, if_match, search_params};
use super::shapes::{self, Change};
use super::{Client, document};
use crate::http::AppState;
use crate::scim::schema::Resource;
use crate::scim::{ScimError, users};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

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
    Ok(shapes::read(Resource::User, doc, &headers, &p))
}

pub async fn create(
    State(svc): State<AppState>,
    client: Client,
    Params(p): Params,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let doc = users::create(&svc, &client, &body).await?;
    Ok(shapes::written(Resource::User, Change::Created, doc, &p, None))
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
    Ok(shapes::written(Resource::User, Change::Replaced, doc, &p, None))
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
    Ok(shapes::written(Resource::User, Change::Patched, doc, &p, None))
}

pub async fn delete(
    State(svc): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    users::delete(&svc, &client, &id, if_match(&headers).as_deref()).await?;
    Ok(shapes::deleted(Resource::User, &id))
}
