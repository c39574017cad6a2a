//! ServiceProviderConfig, ResourceTypes and Schemas (RFC 7644 §4): what Tessera supports, truthfully.
use super::request::{Body, search_params};
use super::{Client, document};
use crate::http::AppState;
use crate::json::JsonFields;
use crate::scim::list::{self, MAX_RESULTS};
use crate::scim::schema::{self, ENTERPRISE, GROUP, USER};
use crate::scim::{ScimError, base_url, bulk, groups, users};
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

fn base(svc: &AppState) -> String {
    base_url(&svc.config.base_url())
}

pub async fn service_provider_config(State(svc): State<AppState>) -> Response {
    let base = base(&svc);
    document(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{}/", svc.config.base_url()),
        "patch": { "supported": true },
        "bulk": { "supported": true, "maxOperations": bulk::MAX_OPERATIONS, "maxPayloadSize": bulk::MAX_PAYLOAD },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": true },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A token issued by `tessera scim-client create`, sent as Authorization: Bearer.",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
    }))
}

fn resource_type_docs(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A member of staff.",
            "schema": USER,
            "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A clinic, site or department.",
            "schema": GROUP,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
    ]
}

pub async fn resource_types(State(svc): State<AppState>) -> Response {
    let docs = resource_type_docs(&base(&svc));
    let n = docs.len() as u64;
    document(list::response(n, 1, docs))
}

pub async fn resource_type(State(svc): State<AppState>, Path(id): Path<String>) -> Result<Response, ScimError> {
    resource_type_docs(&base(&svc))
        .into_iter()
        .find(|d| d["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(&id)))
        .map(document)
        .ok_or_else(|| ScimError::not_found(format!("no resource type '{id}'")))
}

pub async fn schemas(State(svc): State<AppState>) -> Response {
    let docs = schema::all_schemas(&base(&svc));
    let n = docs.len() as u64;
    document(list::response(n, 1, docs))
}

pub async fn schema(State(svc): State<AppState>, Path(id): Path<String>) -> Result<Response, ScimError> {
    schema::all_schemas(&base(&svc))
        .into_iter()
        .find(|d| d["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(&id)))
        .map(document)
        .ok_or_else(|| ScimError::not_found(format!("no schema '{id}'")))
}

/// POST /.search at the root: Users then Groups, paged as one list.
pub async fn search_all(State(svc): State<AppState>, client: Client, Body(body): Body) -> Result<Response, ScimError> {
    let p = search_params(&body)?;
    let page = p.page();
    // Totals first (count=0), then the page's slice of each list.
    let mut counting = p.clone();
    counting.count = Some(0);
    counting.start_index = Some(1);
    let total_users = users::list(&svc, &client, &counting)
        .await?
        .field("totalResults")
        .as_u64()
        .unwrap_or(0);
    let total_groups = groups::list(&svc, &client, &counting)
        .await?
        .field("totalResults")
        .as_u64()
        .unwrap_or(0);
    let first = page.start_index;
    let mut resources = Vec::new();
    if first <= total_users && page.count > 0 {
        let mut q = p.clone();
        q.start_index = Some(first as i64);
        q.count = Some(page.count as i64);
        if let Some(Value::Array(items)) = users::list(&svc, &client, &q)
            .await?
            .get_mut("Resources")
            .map(Value::take)
        {
            resources.extend(items);
        }
    }
    let remaining = page.count.saturating_sub(resources.len() as u64);
    if remaining > 0 {
        let mut q = p.clone();
        q.start_index = Some(first.saturating_sub(total_users).max(1) as i64);
        q.count = Some(remaining as i64);
        if let Some(Value::Array(items)) = groups::list(&svc, &client, &q)
            .await?
            .get_mut("Resources")
            .map(Value::take)
        {
            resources.extend(items);
        }
    }
    Ok(document(list::response(total_users + total_groups, first, resources)))
}

/// POST /Bulk: the body is read raw so its size can be checked against maxPayloadSize.
pub async fn bulk(
    State(svc): State<AppState>,
    client: Client,
    raw: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ScimError> {
    let raw = raw.map_err(|_| ScimError::payload_too_large(format!("maxPayloadSize is {}", bulk::MAX_PAYLOAD)))?;
    if raw.len() > bulk::MAX_PAYLOAD {
        return Err(ScimError::payload_too_large(format!(
            "the request is {} bytes; maxPayloadSize is {}",
            raw.len(),
            bulk::MAX_PAYLOAD
        )));
    }
    let body: Value = serde_json::from_slice(&raw)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    Ok(document(bulk::run(&svc, &client, &body, raw.len()).await?))
}
