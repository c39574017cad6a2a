//! The inputs the fuzz targets (`fuzz/`) found or were seeded with, replayed through
//! the real HTTP interface: each gets an answer in its protocol's format, never a
//! panic, a dropped connection or a 5xx.
use crate::on_each_backend;
use crate::scim_support::{Scim, nurse};
use crate::support::{Backend, TestServer};
use std::path::PathBuf;

on_each_backend!(fuzz_inputs_get_protocol_errors);

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            (path.display().to_string(), bytes)
        })
        .collect();
    all.sort();
    all
}

async fn fuzz_inputs_get_protocol_errors(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let id = scim.user(nurse("camille", "camille@clinic.example")).await;
    let scim_answer = |name: &str, r: reqwest::Response| {
        let status = r.status().as_u16();
        assert!(status < 500, "{name}: {status}");
        assert_eq!(r.headers()["content-type"], "application/scim+json", "{name}");
    };
    let send = |method: &str, path: String, body: Option<Vec<u8>>| {
        let mut req = s
            .client
            .request(method.parse().expect("method"), s.url(&path))
            .bearer_auth(&scim.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b);
        }
        req.send()
    };
    let mut count = 0;
    for (name, body) in inputs("scim_body") {
        for (method, path) in [
            ("POST", "/scim/v2/Users".to_string()),
            ("PATCH", format!("/scim/v2/Users/{id}")),
        ] {
            let r = send(method, path, Some(body.clone())).await.expect(&name);
            scim_answer(&name, r);
        }
        count += 1;
    }
    for (name, query) in inputs("scim_query") {
        let query = String::from_utf8(query).expect("a query is text");
        scim_answer(
            &name,
            send("GET", format!("/scim/v2/Users?{}", query.trim()), None)
                .await
                .expect(&name),
        );
        count += 1;
    }
    for (name, path) in inputs("scim_path") {
        let path = String::from_utf8(path).expect("a path is text");
        scim_answer(
            &name,
            send("GET", format!("/scim/v2/{}", path.trim()), None)
                .await
                .expect(&name),
        );
        count += 1;
    }
    for (name, query) in inputs("authorize_query") {
        let query = String::from_utf8(query).expect("a query is text");
        let r = s
            .client
            .get(s.url(&format!("/authorize?{}", query.trim())))
            .send()
            .await
            .expect(&name);
        assert!(r.status().as_u16() < 500, "{name}: {}", r.status());
        count += 1;
    }
    assert!(count >= 7, "the kept inputs were found");
    s.stop().await;
}
