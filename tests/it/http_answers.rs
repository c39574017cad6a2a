//! The answers the router and its layers make rather than a handler (issue 17): no such
//! path (404), method not allowed (405), request timeout (408) and body too large (413),
//! through real HTTP, each in the format of the interface its path names: SCIM error
//! JSON under /scim/v2, OAuth error JSON at /token, /revoke, /introspect and /userinfo,
//! a readable page elsewhere; with the headers every answer carries.
use crate::on_each_backend;
use crate::scim_support::Scim;
use crate::support::{Backend, TestServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

on_each_backend!(
    unknown_paths_are_answered_in_each_format,
    wrong_methods_are_answered_in_each_format,
    oversize_bodies_are_answered_in_each_format,
    slow_requests_time_out_in_each_format,
);

const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const HSTS: &str = "max-age=31536000; includeSubDomains";
/// Past the 256 KiB limit of every endpoint but /Bulk.
const OVERSIZE: usize = 300 * 1024;

/// The issuer is https, so every answer must carry HSTS as well.
async fn start(backend: Backend, request_timeout: Duration) -> TestServer {
    TestServer::start_with(backend, |c| {
        c.issuer = url::Url::parse("https://idp.clinic.example").expect("url");
        c.request_timeout = request_timeout;
    })
    .await
}

struct Got {
    what: String,
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Got {
    async fn of(what: String, res: reqwest::Response) -> Got {
        Got {
            what,
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().expect("ascii header"))
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", self.what, self.body))
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    /// RFC 7644 §3.12.
    Scim,
    /// RFC 6749 §5.2, with this `error` code.
    OAuth(&'static str),
    /// The error page.
    Page,
}

/// The status, the face's content type and body shape, and the common headers.
fn check(got: &Got, status: u16, format: Format) {
    let what = &got.what;
    assert_eq!(got.status, status, "{what}: {}", got.body);
    assert_eq!(got.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(got.header("x-frame-options"), "DENY", "{what}");
    assert_eq!(got.header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(got.header("strict-transport-security"), HSTS, "{what}");
    assert!(!got.header("x-request-id").is_empty(), "{what}: a request id");
    match format {
        Format::Scim => {
            assert_eq!(got.header("content-type"), "application/scim+json", "{what}");
            let doc = got.json();
            assert_eq!(doc["schemas"], serde_json::json!([SCIM_ERROR]), "{what}");
            assert_eq!(doc["status"], status.to_string(), "{what}: status is a string");
            assert!(doc["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {doc}");
        }
        Format::OAuth(code) => {
            assert!(
                got.header("content-type").starts_with("application/json"),
                "{what}: {}",
                got.header("content-type")
            );
            let doc = got.json();
            assert_eq!(doc["error"], code, "{what}: {doc}");
            assert!(
                doc["error_description"].as_str().is_some_and(|d| !d.is_empty()),
                "{what}: {doc}"
            );
            assert_eq!(got.header("cache-control"), "no-store", "{what}");
        }
        Format::Page => {
            assert!(
                got.header("content-type").starts_with("text/html"),
                "{what}: {}",
                got.header("content-type")
            );
            assert!(got.body.starts_with("<!doctype html>"), "{what}: {}", got.body);
            assert!(got.body.contains("<h1>"), "{what}: {}", got.body);
            assert!(
                got.header("content-security-policy").contains("default-src 'none'"),
                "{what}"
            );
            assert_eq!(got.header("cache-control"), "no-store", "{what}");
        }
    }
}

async fn send(s: &TestServer, method: &str, path: &str, token: Option<&str>, body: Option<String>) -> Got {
    let mut req = s.client.request(method.parse().expect("method"), s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        let kind = if path.starts_with("/scim/") {
            "application/scim+json"
        } else {
            "application/x-www-form-urlencoded"
        };
        req = req.header("content-type", kind).body(b);
    }
    let res = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    Got::of(format!("{method} {path}"), res).await
}

async fn unknown_paths_are_answered_in_each_format(backend: Backend) {
    let s = start(backend, Duration::from_secs(30)).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    for path in ["/scim/v2/Nope", "/scim/v2/users/abc/extra", "/SCIM/V2/Nope"] {
        check(&send(&s, "GET", path, Some(&scim.token), None).await, 404, Format::Scim);
    }
    // Without a token SCIM says so first, as before.
    check(&send(&s, "GET", "/scim/v2/Nope", None, None).await, 401, Format::Scim);
    // Every path OAuth clients call is a route; a path next to one is a page's.
    for path in ["/no/such/page", "/token/extra", "/userinfo/", "/scim/v2x", "/scim"] {
        let got = send(&s, "GET", path, None, None).await;
        check(&got, 404, Format::Page);
        assert!(got.body.contains("Page not found"), "{path}");
    }
    s.stop().await;
}

async fn wrong_methods_are_answered_in_each_format(backend: Backend) {
    let s = start(backend, Duration::from_secs(30)).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let allowed = |got: &Got, methods: &[&str]| {
        let allow = got.header("allow").to_string();
        for m in methods {
            assert!(
                allow.split(',').any(|a| a.trim() == *m),
                "{}: Allow {allow:?} lacks {m}",
                got.what
            );
        }
    };
    for (method, path, allow) in [
        ("DELETE", "/scim/v2/Users", &["GET", "POST"][..]),
        ("DELETE", "/scim/v2/users", &["GET", "POST"]),
        ("POST", "/scim/v2/Groups/abc", &["GET", "PUT", "PATCH", "DELETE"]),
        ("PUT", "/scim/v2/ServiceProviderConfig", &["GET"]),
        ("GET", "/scim/v2/Bulk", &["POST"]),
    ] {
        let got = send(&s, method, path, Some(&scim.token), None).await;
        check(&got, 405, Format::Scim);
        allowed(&got, allow);
    }
    // Without a token SCIM says so first, as before: no route is told to a stranger.
    check(
        &send(&s, "DELETE", "/scim/v2/Users", None, None).await,
        401,
        Format::Scim,
    );

    for (method, path, allow) in [
        ("GET", "/token", &["POST"][..]),
        ("GET", "/revoke", &["POST"]),
        ("GET", "/introspect", &["POST"]),
        ("PUT", "/userinfo", &["GET", "POST"]),
        ("DELETE", "/token", &["POST"]),
    ] {
        let got = send(&s, method, path, None, None).await;
        check(&got, 405, Format::OAuth("invalid_request"));
        allowed(&got, allow);
        assert!(got.headers.get("www-authenticate").is_none(), "{}", got.what);
    }

    for (method, path, allow) in [
        ("DELETE", "/setup", &["GET", "POST"][..]),
        ("PUT", "/healthz", &["GET"]),
        ("POST", "/jwks", &["GET"]),
        ("POST", "/.well-known/openid-configuration", &["GET"]),
        ("DELETE", "/authorize", &["GET", "POST"]),
        ("PATCH", "/end_session", &["GET", "POST"]),
        ("PUT", "/signin/password", &["GET", "POST"]),
    ] {
        let got = send(&s, method, path, None, None).await;
        check(&got, 405, Format::Page);
        allowed(&got, allow);
    }
    s.stop().await;
}

/// A form (or JSON, under SCIM) past the body limit.
fn oversize(path: &str) -> String {
    if path.starts_with("/scim/") {
        format!(r#"{{"userName": "{}"}}"#, "z".repeat(OVERSIZE))
    } else {
        format!("token={}", "z".repeat(OVERSIZE))
    }
}

async fn oversize_bodies_are_answered_in_each_format(backend: Backend) {
    let s = start(backend, Duration::from_secs(30)).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let cases = [
        ("POST", "/scim/v2/Users", Format::Scim),
        ("POST", "/scim/v2/Groups", Format::Scim),
        ("PUT", "/scim/v2/Users/abc", Format::Scim),
        ("POST", "/token", Format::OAuth("invalid_request")),
        ("POST", "/revoke", Format::OAuth("invalid_request")),
        ("POST", "/introspect", Format::OAuth("invalid_request")),
        ("POST", "/userinfo", Format::OAuth("invalid_request")),
        ("POST", "/setup", Format::Page),
        ("POST", "/signin/identify", Format::Page),
        ("POST", "/signin/password", Format::Page),
        ("POST", "/authorize", Format::Page),
        ("POST", "/end_session", Format::Page),
    ];
    for (method, path, format) in cases {
        let token = matches!(format, Format::Scim).then_some(scim.token.as_str());
        let got = send(&s, method, path, token, Some(oversize(path))).await;
        check(&got, 413, format);
        // Most of the body was never read: the connection must not be used again.
        assert_eq!(got.header("connection"), "close", "{}", got.what);
    }
    s.stop().await;
}

/// The answer to `head` sent alone on a raw connection, whose body never follows.
async fn stalled(s: &TestServer, head: String) -> Got {
    let what = head.lines().next().unwrap_or_default().to_string();
    let mut tcp = TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .expect("connect");
    tcp.write_all(head.as_bytes()).await.expect("send");
    let mut got = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
            if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..at]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().expect("length"));
                if got.len() >= at + 4 + length {
                    break;
                }
            }
        }
    };
    timeout(Duration::from_secs(15), read)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer"));
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{what}: {text}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{what}: {head}"));
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("header line");
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).expect("name"),
            HeaderValue::from_str(value.trim()).expect("value"),
        );
    }
    Got {
        what,
        status,
        headers,
        body: body.to_string(),
    }
}

async fn slow_requests_time_out_in_each_format(backend: Backend) {
    let s = start(backend, Duration::from_secs(1)).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let head = |path: &str, extra: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: tessera.test\r\n{extra}Content-Length: 100\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
    };
    let bearer = format!("Authorization: Bearer {}\r\n", scim.token);
    let cases = [
        (head("/scim/v2/Users", &bearer), Format::Scim),
        (head("/scim/v2/Groups/.search", &bearer), Format::Scim),
        (head("/token", ""), Format::OAuth("temporarily_unavailable")),
        (head("/revoke", ""), Format::OAuth("temporarily_unavailable")),
        (head("/introspect", ""), Format::OAuth("temporarily_unavailable")),
        (head("/userinfo", ""), Format::OAuth("temporarily_unavailable")),
        (head("/setup", ""), Format::Page),
        (head("/signin/identify", ""), Format::Page),
        (head("/authorize", ""), Format::Page),
    ];
    // Side by side: each waits out the timeout.
    let answers = futures::future::join_all(cases.iter().map(|(h, _)| stalled(&s, h.clone()))).await;
    for (got, (_, format)) in answers.iter().zip(cases) {
        check(got, 408, format);
    }
    s.stop().await;
}
