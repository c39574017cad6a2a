//! What every request passes first: the SCIM path rewrite, then the router.
use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use std::future::Future;
use tower::{ServiceBuilder, ServiceExt};

#[derive(Clone)]
pub struct Edge {
    router: Router,
}

impl Edge {
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    pub fn handle(&self, req: Request) -> impl Future<Output = Response> + Send + 'static {
        let app = ServiceBuilder::new()
            .map_request(canonical_scim_path)
            .service(self.router.clone());
        async move {
            match app.oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    }
}

fn canonical_scim_path(mut req: Request) -> Request {
    if let Some(path) = super::scim::paths::canonical(req.uri().path()) {
        let with_query = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(uri) = with_query.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
