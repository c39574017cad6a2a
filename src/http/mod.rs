//! The only module that knows axum: router, layers, extractors, errors → responses.
mod answers;
mod client_address;
mod connection;
mod edge;
mod error;
mod headers;
mod health;
mod oidc;
mod peer_limit;
mod request_id;
mod scim;
mod serve;
mod web;

pub use client_address::{BrowserOrigin, ClientAddress};
pub use error::{WebError, too_many};
/// The SCIM path rewrite, for the fuzz target `scim_path`.
#[doc(hidden)]
pub use scim::paths::canonical as canonical_scim_path;
pub use serve::serve;

use axum::Router;
use axum::http::Request;
use axum::response::Response;
use axum::routing::get;
use tower::ServiceBuilder;
use tower::util::{MapRequestLayer, MapResponseLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub type AppState = crate::oidc::Provider;

/// Forms and JSON bodies Tessera accepts are small; refuse big ones before reading them.
const BODY_LIMIT: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    let https = state.config.secure_cookies();
    // Panics are caught outside all of this and the path rewrite, in edge.rs.
    let layers = ServiceBuilder::new()
        .layer(MapRequestLayer::new(request_id::drop_unsafe))
        .layer(SetRequestIdLayer::new(request_id::HEADER, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings can carry one-time tokens.
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id::HEADER))
        // Above the timeout, so its 408 gets them too.
        .layer(MapResponseLayer::new(move |mut response: Response| {
            headers::secure(response.headers_mut(), https);
            response
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.config.request_timeout,
            answers::time_limit,
        ));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(web::routes())
        .merge(oidc::routes())
        .merge(scim::routes(state.clone()))
        // The router's own answers, in the format of the interface the path names
        // (SCIM's routes have theirs already, behind its authentication).
        .fallback(answers::not_found)
        .method_not_allowed_fallback(answers::method_not_allowed)
        // Checked when a handler reads the body, so each face answers in its own format.
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(layers)
        .with_state(state)
}
