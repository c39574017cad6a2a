//! `/scim/v2`: routing, bearer authentication, the per-client request log, and
//! SCIM responses (application/scim+json, ETag, Location, errors per RFC 7644 §3.12).
mod discovery;
mod groups;
pub mod paths;
mod request;
mod shapes;
mod users;

use super::{AppState, ClientAddress, answers};
use crate::json::JsonFields;
use crate::scim::clients::{self, LoggedRequest};
use crate::scim::{ScimClient, ScimError, schema};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const CONTENT_TYPE: &str = "application/scim+json";

pub fn routes(state: AppState) -> Router<AppState> {
    let protected = Router::new()
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/.search", post(users::search))
        .route(
            "/Users/{id}",
            get(users::get)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/.search", post(groups::search))
        .route(
            "/Groups/{id}",
            get(groups::get)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/.search", post(discovery::search_all))
        // Read a little past the limit, so an oversize request gets a SCIM 413 saying why.
        .route(
            "/Bulk",
            post(discovery::bulk).layer(DefaultBodyLimit::max(crate::scim::bulk::MAX_PAYLOAD + 64 * 1024)),
        )
        .route("/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        // Set before authentication is layered on, so these wait for a valid token too.
        .fallback(answers::not_found)
        .method_not_allowed_fallback(answers::method_not_allowed)
        .layer(middleware::from_fn_with_state(state, authenticate));
    Router::new().nest("/scim/v2", protected)
}

/// A short description of what a request changed, for the client's request log.
#[derive(Clone)]
pub struct Summary(pub String);

/// Bearer token → ScimClient, then logs the request with its outcome.
async fn authenticate(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let Some(token) = token else {
        return ScimError::unauthorized("a bearer token is required").into_response();
    };
    let client = match clients::authenticate(&svc, &token, Some(from.to_string())).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    req.extensions_mut().insert(client.clone());
    let response = next.run(req).await;
    let error = response.extensions().get::<ScimError>().map(|e| e.detail.clone());
    let summary = response.extensions().get::<Summary>().map(|s| s.0.clone());
    let logged = LoggedRequest {
        at: svc.now(),
        method,
        path,
        status: response.status().as_u16(),
        error,
        summary,
    };
    if let Err(e) = clients::record_request(&svc, client.id, logged).await {
        tracing::warn!(error = %e, "could not write the SCIM request log");
    }
    response
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self.detail, "SCIM request failed");
        }
        let mut body =
            json!({ "schemas": [schema::ERROR], "status": self.status.to_string(), "detail": self.client_detail() });
        if let Some(t) = self.scim_type {
            body.set("scimType", json!(t));
        }
        let mut response = (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], body.to_string()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera-scim\", error=\"invalid_token\""),
            );
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body may be unread: say the connection ends, or the client
            // may send its next request down a connection the server is closing.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// A SCIM resource response with its ETag (from meta.version) and, when created, Location.
pub fn resource(status: StatusCode, doc: Value, summary: Option<String>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Some(v) = doc
        .pointer("/meta/version")
        .and_then(Value::as_str)
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Some(l) = doc
            .pointer("/meta/location")
            .and_then(Value::as_str)
            .and_then(|l| HeaderValue::from_str(l).ok())
    {
        headers.insert(header::LOCATION, l);
    }
    let mut response = (status, headers, doc.to_string()).into_response();
    if let Some(s) = summary {
        response.extensions_mut().insert(Summary(s));
    }
    response
}

pub fn document(doc: Value) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], doc.to_string()).into_response()
}

pub type Client = axum::Extension<ScimClient>;
