//! OpenID Connect seen from outside, as a relying party and a browser see it: users and
//! clients made with the real CLI, PKCE, a driver that walks the hosted sign-in pages
//! (plain HTML forms, no JavaScript), token-endpoint calls, and JWT checks against /jwks.
//!
//! The pieces: `users` (users and clients through the CLI), `authorize` (PKCE and the
//! authorization request), `signin` (the sign-in driver), `endpoints` (token,
//! introspection, revocation, userinfo) and `jwt` (decoding and verifying against /jwks),
//! all re-exported here, so tests name them `oidc::...`; and `basic_plan`, what the
//! `oidc_basic_*` tests of the certification plan share.
use crate::support::{Backend, TestServer, json_of, stderr_of};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::sync::Arc;

mod authorize;
pub mod basic_plan;
mod endpoints;
mod jwt;
mod signin;
mod users;

pub use authorize::*;
pub use endpoints::*;
pub use jwt::*;
pub use signin::*;
pub use users::*;

/// A password the policy accepts: long and not common.
pub const PASSWORD: &str = "lantern harbour quietly sings";
/// Where the test relying party takes its answers; the driver stops there, nothing fetches it.
pub const REDIRECT_URI: &str = "https://rp.clinic.example/callback";
/// Registered for every client made by `create_client`.
pub const POST_LOGOUT_URI: &str = "https://rp.clinic.example/signed-out";
/// The SSO session cookie while the issuer is http.
pub const SESSION_COOKIE: &str = "tessera_session";
/// The generic sign-in failure message.
pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";
/// Given to users by `add_phone_and_address`.
pub const PHONE: &str = "+44 113 496 0000";

/// Starts the server with its issuer at the address it listens on (`http://127.0.0.1:PORT`),
/// so the endpoints discovery names are the ones the tests reach. A free port is found first.
pub async fn start(backend: Backend) -> TestServer {
    start_with(backend, |_| {}).await
}

/// `start`, with other settings changed first.
pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut tessera::config::Config) + Send) -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let s = TestServer::start_with(backend, move |c| {
        c.listen = format!("127.0.0.1:{port}").parse().expect("address");
        c.issuer = format!("http://127.0.0.1:{port}").parse().expect("issuer");
        adjust(c);
    })
    .await;
    assert_eq!(s.base, format!("http://127.0.0.1:{port}"));
    s
}

/// The issuer the tests expect in discovery and in every token.
pub fn issuer(s: &TestServer) -> String {
    s.base.clone()
}

pub fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A browser of its own: keeps cookies, follows no redirects (the driver follows them).
pub fn browser() -> reqwest::Client {
    browser_with(Arc::new(reqwest::cookie::Jar::default()))
}

/// A browser whose cookie jar the test can read and plant cookies in.
pub fn browser_with(jar: Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

/// A browser behind a reverse proxy at 127.0.0.1 (which the server must trust), which
/// reports it as `address` in X-Forwarded-For.
pub fn browser_from(address: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        reqwest::header::HeaderValue::from_str(address).expect("header"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

/// How many sign-ins are waiting server-side, and the bytes of their stored requests,
/// read from the database itself.
pub async fn pending_sign_ins(s: &TestServer) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(s.db.url.as_str())
        .await
        .expect("connect to the test database");
    let sql = "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(CAST(params AS TEXT))), 0) AS bytes \
               FROM authorization_requests";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count pending sign-ins")
        .expect("one row");
    let counted = (
        row.try_get::<i64>("", "n").expect("n"),
        row.try_get::<i64>("", "bytes").expect("bytes"),
    );
    db.close().await.ok();
    counted
}

/// A relying party's back end: no cookies, no redirects.
pub fn api() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn str_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_string()
}

/// Runs `tessera ARGS`, asserts it succeeded, and returns its JSON.
pub async fn cli_ok(s: &TestServer, args: &[&str], stdin: Option<&str>) -> Value {
    let out = s.cli(args, stdin).await;
    assert!(out.status.success(), "tessera {}: {}", args.join(" "), stderr_of(&out));
    json_of(&out)
}
