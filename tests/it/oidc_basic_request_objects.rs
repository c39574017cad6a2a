//! The Basic OP plan's request object modules: `request_uri` and unsigned `request`
//! objects are refused as unsupported, to the registered redirect_uri only.
//!
//! What the plan's tests share (the server, the suite's client without PKCE, a user, the
//! code flow) is in `support::oidc::basic_plan`.
use crate::on_each_backend;
use crate::support::oidc::basic_plan::{discovery, setup};
use crate::support::oidc::{self, AuthRequest, Client, REDIRECT_URI};
use crate::support::{Backend, TestServer};
use serde_json::json;

on_each_backend!(
    oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported,
    oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported,
    oidcc_ensure_request_object_with_redirect_uri,
);

async fn oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let discovery = discovery(&s).await;
    assert_eq!(discovery["request_uri_parameter_supported"], false);
    let req = AuthRequest::new(&client, "openid").set("request_uri", "https://rp.clinic.example/request.jwt");
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert_eq!(answer.redirected_with("error"), "request_uri_not_supported");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

fn request_object(client: &Client, s: &TestServer, req: &AuthRequest, redirect_uri: &str) -> String {
    oidc::unsigned_jwt(&json!({
        "iss": client.id,
        "aud": oidc::issuer(s),
        "response_type": "code",
        "client_id": client.id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": req.get("state"),
        "nonce": req.get("nonce"),
    }))
}

async fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let discovery = discovery(&s).await;
    assert_eq!(discovery["request_parameter_supported"], false);
    let req = AuthRequest::new(&client, "openid");
    let object = request_object(&client, &s, &req, REDIRECT_URI);
    let req = req.set("request", &object);
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert_eq!(answer.redirected_with("error"), "request_not_supported");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

async fn oidcc_ensure_request_object_with_redirect_uri(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let elsewhere = "https://rp.clinic.example/elsewhere";
    let object = request_object(&client, &s, &req, elsewhere);
    let req = req.set("request", &object);
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    // Refused properly: to the registered redirect_uri, never to the one inside the object.
    assert_eq!(answer.redirected_with("error"), "request_not_supported");
    assert!(!answer.location.as_deref().unwrap_or("").starts_with(elsewhere));
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}
