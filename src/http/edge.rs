//! What every request passes first. The panic-catching layer is outermost, around
//! the SCIM path rewrite as well as the router, so no input can panic the
//! connection's task (which would drop the connection without an answer); a caught
//! panic answers in the format of the interface the path names.
use super::answers::{self, Face};
use super::headers;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use std::any::Any;
use std::future::Future;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::catch_panic::{CatchPanicLayer, ResponseForPanic};

#[derive(Clone)]
pub struct Edge {
    router: Router,
    https: bool,
}

impl Edge {
    /// `https`: the issuer is https, so responses carry HSTS (see `headers`).
    pub fn new(router: Router, https: bool) -> Self {
        Self { router, https }
    }

    pub fn handle(&self, req: Request) -> impl Future<Output = Response> + Send + 'static {
        // The face is chosen before anything can panic; the panic's answer is made
        // outside the router's layers, so it gets the common headers here.
        let face = Face::of(req.uri().path());
        let on_panic = PanicAnswer {
            face,
            https: self.https,
        };
        let app = ServiceBuilder::new()
            .layer(CatchPanicLayer::custom(on_panic))
            .map_request(canonical_scim_path)
            .service(self.router.clone());
        async move {
            match app.oneshot(req).await {
                Ok(response) => response.map(Body::new),
                Err(never) => match never {},
            }
        }
    }
}

/// A named type rather than a closure: a closure here makes the request future fail
/// the compiler's `Send` check (its argument's lifetime is inferred too narrowly).
#[derive(Clone, Copy)]
struct PanicAnswer {
    face: Face,
    https: bool,
}

impl ResponseForPanic for PanicAnswer {
    type ResponseBody = Body;

    fn response_for_panic(&mut self, panic: Box<dyn Any + Send + 'static>) -> Response {
        let mut response = answers::panic_response(self.face, panic);
        headers::secure(response.headers_mut(), self.https);
        response
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
