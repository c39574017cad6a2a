use crate::on_each_backend;
use crate::support::{Backend, TestServer};

on_each_backend!(
    health_and_readiness_answer_with_a_request_id,
    unknown_paths_get_a_readable_404
);

async fn health_and_readiness_answer_with_a_request_id(backend: Backend) {
    let s = TestServer::start(backend).await;
    let health = s.client.get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    let id = health.headers()["x-request-id"].to_str().expect("ascii").to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "request id {id}");

    let ready = s
        .client
        .get(s.url("/readyz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.headers()["x-request-id"], "trace-me-123");
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    s.stop().await;
}

async fn unknown_paths_get_a_readable_404(backend: Backend) {
    let s = TestServer::start(backend).await;
    let res = s.client.get(s.url("/no/such/page")).send().await.expect("get");
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.text().await.expect("body").contains("Page not found"));
    s.stop().await;
}
