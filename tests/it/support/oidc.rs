//! OpenID Connect seen from outside, as a relying party and a browser see it: users and
//! clients made with the real CLI, PKCE, a driver that walks the hosted sign-in pages
//! (plain HTML forms, no JavaScript), token-endpoint calls, and JWT checks against /jwks.
use crate::scim_support::Scim;
use crate::support::{Backend, TestServer, json_of, stderr_of};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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

// ---------------------------------------------------------------------------------------
// Users and clients, through the CLI

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password: String,
}

/// An active user "Camille Okafor" with `PASSWORD` and the email `USERNAME@clinic.example`.
pub async fn create_user(s: &TestServer, username: &str) -> User {
    let email = format!("{username}@clinic.example");
    let v = cli_ok(
        s,
        &[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &email,
            "--given-name",
            "Camille",
            "--family-name",
            "Okafor",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    assert_eq!(v["state"], "active", "{v}");
    User {
        id: str_of(&v, "id"),
        username: username.to_string(),
        email,
        password: PASSWORD.to_string(),
    }
}

/// A user with a temporary password (shown once by the CLI), which is its `password` here.
pub async fn create_user_with_temporary_password(s: &TestServer, username: &str) -> User {
    let email = format!("{username}@clinic.example");
    let v = cli_ok(
        s,
        &[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &email,
            "--temporary-password",
        ],
        None,
    )
    .await;
    User {
        id: str_of(&v, "id"),
        username: username.to_string(),
        email,
        password: str_of(&v, "temporary_password"),
    }
}

/// Gives the user a work phone number and address through SCIM, for the phone and address scopes.
pub async fn add_phone_and_address(s: &TestServer, user: &User) {
    let scim = Scim::register(s, "directory", &[]).await;
    let r = scim
        .patch(
            &format!("/Users/{}", user.id),
            json!([
                {"op": "add", "path": "phoneNumbers", "value": [{"value": PHONE, "type": "work", "primary": true}]},
                {"op": "add", "path": "addresses", "value": [{
                    "type": "work",
                    "primary": true,
                    "streetAddress": "12 Infirmary Street",
                    "locality": "Leeds",
                    "postalCode": "LS1 2DS",
                    "country": "GB",
                }]},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    /// None for public clients.
    pub secret: Option<String>,
}

impl Client {
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("a confidential client")
    }
}

/// A web application with `REDIRECT_URI` and `POST_LOGOUT_URI` registered, plus `extra` options
/// (`--pkce-optional`, `--consent`, `--group G`, `--public`, ...).
pub async fn create_client(s: &TestServer, name: &str, extra: &[&str]) -> Client {
    let mut args = vec![
        "--name",
        name,
        "--redirect-uri",
        REDIRECT_URI,
        "--post-logout-uri",
        POST_LOGOUT_URI,
    ];
    args.extend_from_slice(extra);
    create_client_with(s, &args).await
}

/// `tessera client create ARGS`, exactly as given.
pub async fn create_client_with(s: &TestServer, args: &[&str]) -> Client {
    let mut all = vec!["client", "create"];
    all.extend_from_slice(args);
    let v = cli_ok(s, &all, None).await;
    Client {
        id: str_of(&v, "client_id"),
        secret: v["client_secret"].as_str().map(str::to_string),
    }
}

// ---------------------------------------------------------------------------------------
// PKCE and the authorization request

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A random 64-character verifier and its S256 challenge.
    pub fn generate() -> Self {
        let verifier = format!("{}{}", random(), random());
        Self {
            challenge: s256(&verifier),
            verifier,
        }
    }
}

/// BASE64URL(SHA256(verifier)), RFC 7636 §4.2.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The left half of SHA-256, base64url: at_hash for RS256 and ES256 ID tokens.
pub fn half_sha256(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Authorization request parameters, in the order they are sent.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    pub params: Vec<(String, String)>,
}

impl AuthRequest {
    /// response_type=code, client_id, redirect_uri=REDIRECT_URI, scope, and a random state and nonce.
    pub fn new(client: &Client, scope: &str) -> Self {
        Self { params: Vec::new() }
            .set("response_type", "code")
            .set("client_id", &client.id)
            .set("redirect_uri", REDIRECT_URI)
            .set("scope", scope)
            .set("state", &random())
            .set("nonce", &random())
    }

    /// The parameters of an authorization URL built elsewhere (by the openidconnect crate).
    pub fn from_url(url: &str) -> Self {
        let url = url::Url::parse(url).expect("authorization URL");
        Self {
            params: url.query_pairs().into_owned().collect(),
        }
    }

    /// Sets a parameter, replacing one of that name.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some(p) => p.1 = value.to_string(),
            None => self.params.push((name.to_string(), value.to_string())),
        }
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.params.retain(|(k, _)| k != name);
        self
    }

    pub fn with_pkce(self, pkce: &Pkce) -> Self {
        self.set("code_challenge", &pkce.challenge)
            .set("code_challenge_method", "S256")
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish()
    }

    pub fn url(&self, s: &TestServer) -> String {
        format!("{}/authorize?{}", s.base, self.query())
    }
}

/// An unsigned request object (`alg: none`), as the certification suite sends.
pub fn unsigned_jwt(payload: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

/// One response, not followed: status, Location resolved against the request, its query.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub location: Option<String>,
    pub query: HashMap<String, String>,
    pub body: String,
}

impl Answer {
    pub async fn of(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| res.url().join(l).expect("Location is a URL"));
        let query = location
            .as_ref()
            .map(|l| l.query_pairs().into_owned().collect())
            .unwrap_or_default();
        let body = res.text().await.expect("body");
        Self {
            status,
            headers,
            location: location.map(|l| l.to_string()),
            query,
            body,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// Asserts a 303 to the client's redirect_uri and returns its query parameter `name`.
    pub fn redirected_with(&self, name: &str) -> &str {
        assert_eq!(self.status, 303, "{self:?}");
        let location = self.location.as_deref().unwrap_or("");
        assert!(location.starts_with(&format!("{REDIRECT_URI}?")), "{location}");
        self.param(name).unwrap_or_else(|| panic!("no {name} in {location}"))
    }
}

/// GET /authorize with these parameters in this browser; nothing is followed.
pub async fn authorize(s: &TestServer, http: &reqwest::Client, req: &AuthRequest) -> Answer {
    Answer::of(http.get(req.url(s)).send().await.expect("authorize")).await
}

// ---------------------------------------------------------------------------------------
// The sign-in driver

/// What the user types at each step.
#[derive(Clone, Debug)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// Typed twice at the change-password step; without it the driver stops there.
    pub new_password: Option<&'a str>,
    /// `allow` or `deny` at the consent step.
    pub consent: &'a str,
}

impl<'a> Credentials<'a> {
    pub fn new(username: &'a str, password: &'a str) -> Self {
        Self {
            username,
            password,
            new_password: None,
            consent: "allow",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Page {
    /// An address that shows this page again: a sign-in step's own page with its handle,
    /// else where it was fetched (a step's page may come as the answer to the step before).
    pub url: String,
    /// Which page: the sign-in step its form posts to, else the path it was fetched from.
    pub path: String,
    pub status: u16,
    pub html: String,
    /// The Content-Security-Policy it came with.
    pub csp: String,
}

/// How a sign-in went.
#[derive(Debug, Default)]
pub struct Flow {
    /// The redirect that left the issuer (to the client's redirect_uri), if it came to that.
    pub location: Option<String>,
    /// Its query: code, state, iss, or error, error_description, state.
    pub query: HashMap<String, String>,
    /// Every page the server showed, in order (a page answering a post is included).
    pub pages: Vec<Page>,
    /// Every Set-Cookie header on the way.
    pub set_cookies: Vec<String>,
    /// The status of the last response.
    pub status: u16,
}

impl Flow {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }

    /// The authorization code; panics with what happened instead.
    pub fn code(&self) -> String {
        match self.query.get("code") {
            Some(c) => c.clone(),
            None => panic!(
                "no code: location {:?}, pages {:?}, last page:\n{}",
                self.location,
                self.paths(),
                self.pages.last().map(|p| p.html.as_str()).unwrap_or("")
            ),
        }
    }

    pub fn paths(&self) -> Vec<&str> {
        self.pages.iter().map(|p| p.path.as_str()).collect()
    }

    pub fn saw(&self, path: &str) -> bool {
        self.pages.iter().any(|p| p.path == path)
    }

    pub fn page(&self, path: &str) -> &Page {
        self.pages
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("no {path} page among {:?}", self.paths()))
    }

    pub fn last_page(&self) -> &Page {
        self.pages.last().expect("a page was shown")
    }

    /// The last Set-Cookie header for the session cookie.
    pub fn session_cookie(&self) -> Option<&str> {
        self.set_cookies
            .iter()
            .rev()
            .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
            .map(String::as_str)
    }
}

/// The value of a `Set-Cookie: name=value; ...` header.
pub fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or("");
    pair.split_once('=').map(|(_, v)| v.trim()).unwrap_or("")
}

/// Starts at GET /authorize and signs in with `username` and `password`, consenting if asked.
pub async fn sign_in(
    s: &TestServer,
    http: &reqwest::Client,
    req: &AuthRequest,
    username: &str,
    password: &str,
) -> Flow {
    drive(s, http, req, &Credentials::new(username, password)).await
}

/// Starts at GET /authorize and answers each step from `answers`.
pub async fn drive(s: &TestServer, http: &reqwest::Client, req: &AuthRequest, answers: &Credentials<'_>) -> Flow {
    walk(s, http, http.get(req.url(s)), answers).await
}

/// Starts with the authorization request as a form POST.
pub async fn drive_post(s: &TestServer, http: &reqwest::Client, req: &AuthRequest, answers: &Credentials<'_>) -> Flow {
    walk(s, http, http.post(s.url("/authorize")).form(&req.params), answers).await
}

/// Goes on from a sign-in page seen earlier (GETs it again for a fresh form).
pub async fn resume(s: &TestServer, http: &reqwest::Client, page_url: &str, answers: &Credentials<'_>) -> Flow {
    walk(s, http, http.get(page_url), answers).await
}

/// Follows redirects within the issuer, answers each sign-in step it knows, and stops at a
/// redirect leaving the issuer, a page it cannot or should not answer (an error page, a step
/// shown again after being answered), or a step it has no answer for.
async fn walk(
    s: &TestServer,
    http: &reqwest::Client,
    first: reqwest::RequestBuilder,
    answers: &Credentials<'_>,
) -> Flow {
    let issuer = url::Url::parse(&s.base).expect("issuer URL");
    let mut flow = Flow::default();
    let mut answered: Vec<String> = Vec::new();
    let mut res = first.send().await.expect("authorization request");
    for _ in 0..25 {
        let url = res.url().clone();
        flow.status = res.status().as_u16();
        flow.set_cookies.extend(
            res.headers()
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_string),
        );
        if res.status().is_redirection() {
            let location = res
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{url} answered {} without a Location", flow.status))
                .to_string();
            let next = url
                .join(&location)
                .unwrap_or_else(|e| panic!("bad Location {location}: {e}"));
            if next.origin() != issuer.origin() {
                flow.query = next.query_pairs().into_owned().collect();
                flow.location = Some(next.to_string());
                return flow;
            }
            res = http.get(next).send().await.expect("follow a redirect");
            continue;
        }
        let csp = res
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let html = res.text().await.expect("page");
        let step = form_action(&html)
            .filter(|a| a.starts_with("/signin/"))
            .map(|a| issuer.join(&a).expect("form action"));
        let path = step.as_ref().unwrap_or(&url).path().to_string();
        let page_url = match (&step, sign_in_handle(&html)) {
            (Some(step), Some(r)) => {
                let mut again = step.clone();
                again.query_pairs_mut().append_pair("r", &r);
                again.to_string()
            }
            _ => url.to_string(),
        };
        flow.pages.push(Page {
            url: page_url,
            path: path.clone(),
            status: flow.status,
            html: html.clone(),
            csp,
        });
        if flow.status != 200 || answered.contains(&path) {
            return flow;
        }
        let Some(fields) = step_fields(&path, answers) else {
            return flow;
        };
        let mut form = hidden_inputs(&html);
        for name in ["csrf", "r"] {
            assert!(
                form.iter().any(|(k, _)| k == name),
                "no hidden {name} input on {path}:\n{html}"
            );
        }
        form.extend(fields);
        let target = match form_action(&html) {
            Some(action) => url.join(&action).expect("form action"),
            None => url.clone(),
        };
        answered.push(path);
        res = http.post(target).form(&form).send().await.expect("post a sign-in step");
    }
    panic!("sign-in did not finish: pages {:?}", flow.paths());
}

fn step_fields(path: &str, a: &Credentials<'_>) -> Option<Vec<(String, String)>> {
    let field = |k: &str, v: &str| (k.to_string(), v.to_string());
    match path {
        "/signin/identify" => Some(vec![field("username", a.username)]),
        "/signin/password" => Some(vec![field("password", a.password)]),
        "/signin/change-password" => a
            .new_password
            .map(|p| vec![field("new_password", p), field("new_password_confirm", p)]),
        "/signin/consent" => Some(vec![field("decision", a.consent)]),
        _ => None,
    }
}

fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<input type="hidden" name="..." value="...">` of a page, in order.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    const OPEN: &str = r#"<input type="hidden" name=""#;
    let mut out = Vec::new();
    for (at, _) in html.match_indices(OPEN) {
        let rest = &html[at + OPEN.len()..];
        let Some((name, rest)) = rest.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(r#" value=""#) else {
            continue;
        };
        let Some((value, _)) = rest.split_once('"') else {
            continue;
        };
        out.push((name.to_string(), unescape_html(value)));
    }
    out
}

/// The handle (`r`) to its pending sign-in that a sign-in page's form carries.
pub fn sign_in_handle(html: &str) -> Option<String> {
    hidden_inputs(html).into_iter().find(|(k, _)| k == "r").map(|(_, r)| r)
}

/// The `name`/`value` pairs of named buttons (a form posts the one pressed).
pub fn named_buttons(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let key = format!(r#" {name}=""#);
        tag.find(&key)
            .and_then(|at| tag[at + key.len()..].split('"').next().map(unescape_html))
    };
    html.match_indices("<button")
        .filter_map(|(at, _)| html[at..].split('>').next())
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
        .collect()
}

/// The `action` of the page's form, if it names one.
pub fn form_action(html: &str) -> Option<String> {
    let at = html.find("<form")?;
    let tag = html[at..].split('>').next()?;
    let key = r#" action=""#;
    let start = tag.find(key)? + key.len();
    tag[start..].split('"').next().map(unescape_html)
}

// ---------------------------------------------------------------------------------------
// Token endpoint, introspection, revocation, userinfo

/// How a client authenticates at /token, /revoke and /introspect.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// client_secret_basic.
    Basic(&'a Client),
    /// client_secret_post.
    Body(&'a Client),
    /// A public client: client_id in the body only.
    Public(&'a Client),
    Nothing,
}

impl<'a> Auth<'a> {
    /// Basic for confidential clients, client_id only for public ones.
    pub fn of(client: &'a Client) -> Self {
        if client.secret.is_some() {
            Auth::Basic(client)
        } else {
            Auth::Public(client)
        }
    }
}

/// `Authorization: Basic` with each part form-urlencoded first (RFC 6749 §2.3.1).
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(id), enc(secret))))
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn of(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self { status, headers, body }
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts an OAuth error response (RFC 6749 §5.2): this status and code, JSON, not cached.
    pub fn assert_oauth_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(self.error(), error, "{:?}", self.body);
        assert!(self.header("content-type").starts_with("application/json"), "{self:?}");
        assert_eq!(self.header("cache-control"), "no-store", "{self:?}");
    }
}

/// POSTs a form to `path` with the client authentication given.
pub async fn post_form(s: &TestServer, path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
    let mut fields: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut req = api().post(s.url(path));
    match auth {
        Auth::Basic(c) => req = req.header("authorization", basic(&c.id, c.secret())),
        Auth::Body(c) => {
            fields.push(("client_id".into(), c.id.clone()));
            fields.push(("client_secret".into(), c.secret().to_string()));
        }
        Auth::Public(c) => fields.push(("client_id".into(), c.id.clone())),
        Auth::Nothing => {}
    }
    Reply::of(req.form(&fields).send().await.expect(path)).await
}

pub async fn token(s: &TestServer, auth: Auth<'_>, form: &[(&str, &str)]) -> Reply {
    post_form(s, "/token", auth, form).await
}

/// The authorization_code grant for a code issued to `REDIRECT_URI`.
pub async fn exchange_with(s: &TestServer, auth: Auth<'_>, code: &str, verifier: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(s, auth, &form).await
}

pub async fn exchange(s: &TestServer, client: &Client, code: &str, verifier: Option<&str>) -> Reply {
    exchange_with(s, Auth::of(client), code, verifier).await
}

pub async fn refresh(s: &TestServer, client: &Client, refresh_token: &str) -> Reply {
    token(
        s,
        Auth::of(client),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
    )
    .await
}

/// RFC 7662 introspection by `client`; asserts 200 and returns the JSON.
pub async fn introspect(s: &TestServer, client: &Client, token: &str) -> Value {
    let r = post_form(s, "/introspect", Auth::Basic(client), &[("token", token)]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

pub async fn is_active(s: &TestServer, client: &Client, token: &str) -> bool {
    let v = introspect(s, client, token).await;
    match v["active"].as_bool() {
        Some(active) => active,
        None => panic!("introspection without a boolean active: {v}"),
    }
}

/// RFC 7009 revocation by `client`, with a token_type_hint if given.
pub async fn revoke(s: &TestServer, client: &Client, token: &str, hint: Option<&str>) -> Reply {
    let mut form = vec![("token", token)];
    if let Some(h) = hint {
        form.push(("token_type_hint", h));
    }
    post_form(s, "/revoke", Auth::Basic(client), &form).await
}

/// GET /userinfo with the bearer token in the Authorization header.
pub async fn userinfo(s: &TestServer, access_token: &str) -> Reply {
    Reply::of(
        api()
            .get(s.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo"),
    )
    .await
}

/// Asserts userinfo refuses the token: 401 with a Bearer invalid_token challenge.
pub async fn assert_userinfo_refuses(s: &TestServer, access_token: &str) {
    let r = userinfo(s, access_token).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    let challenge = r.header("www-authenticate");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

/// A successful token response.
#[derive(Clone, Debug)]
pub struct Tokens(pub Value);

impl Tokens {
    /// Asserts a 200 token response (not cached, Bearer) and keeps its body.
    pub fn of(r: &Reply) -> Self {
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.header("cache-control"), "no-store", "{r:?}");
        assert!(
            r.body["token_type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
            "{:?}",
            r.body
        );
        Self(r.body.clone())
    }

    fn field(&self, name: &str) -> &str {
        self.0[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.0))
    }

    pub fn access(&self) -> &str {
        self.field("access_token")
    }

    pub fn id(&self) -> &str {
        self.field("id_token")
    }

    pub fn refresh(&self) -> &str {
        self.field("refresh_token")
    }
}

/// Signs `user` in to `client` in the browser `http` with PKCE, exchanges the code, and
/// returns the tokens.
pub async fn login(s: &TestServer, http: &reqwest::Client, client: &Client, user: &User, scope: &str) -> Tokens {
    let pkce = Pkce::generate();
    let req = AuthRequest::new(client, scope).with_pkce(&pkce);
    let flow = sign_in(s, http, &req, &user.username, &user.password).await;
    assert_eq!(flow.param("state"), req.get("state"));
    Tokens::of(&exchange(s, client, &flow.code(), Some(&pkce.verifier)).await)
}

// ---------------------------------------------------------------------------------------
// JWTs

/// Header and payload of a compact JWS, without checking anything.
pub fn decode_jwt(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {jwt}");
    let part = |p: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .unwrap_or_else(|e| panic!("not base64url ({e}): {p}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {p}"))
    };
    (part(parts[0]), part(parts[1]))
}

/// GET /jwks.
pub async fn jwks(s: &TestServer) -> Value {
    let r = Reply::of(api().get(s.url("/jwks")).send().await.expect("jwks")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// Checks a JWT's signature with the key its `kid` names in /jwks, its issuer, and its expiry;
/// returns the claims.
pub async fn try_verify_jwt(s: &TestServer, jwt: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| format!("header: {e}"))?;
    let kid = header.kid.clone().ok_or("the header names no kid")?;
    let set = jwks(s).await;
    let key = set["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| format!("no key {kid} in the JWKS {set}"))?;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).map_err(|e| format!("JWK: {e}"))?;
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| format!("JWK: {e}"))?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[issuer(s)]);
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::from(["iss".to_string()]);
    jsonwebtoken::decode::<Value>(jwt, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| format!("verification: {e}"))
}

pub async fn verify_jwt(s: &TestServer, jwt: &str) -> Value {
    try_verify_jwt(s, jwt).await.unwrap_or_else(|e| panic!("{e}\n{jwt}"))
}

/// Whether `aud` (a string or an array) names `client_id`.
pub fn audience_has(claims: &Value, client_id: &str) -> bool {
    match &claims["aud"] {
        Value::String(a) => a == client_id,
        Value::Array(all) => all.iter().any(|a| a == client_id),
        _ => false,
    }
}

/// What every ID token of `user` for `client` must say (OIDC Core §2).
pub fn check_id_token(s: &TestServer, claims: &Value, client: &Client, user: &User) {
    assert_eq!(claims["iss"], issuer(s).as_str(), "{claims}");
    assert_eq!(claims["sub"], user.id.as_str(), "{claims}");
    assert!(audience_has(claims, &client.id), "{claims}");
    assert_eq!(claims["azp"], client.id.as_str(), "{claims}");
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!(exp > iat, "{claims}");
    assert!(claims["auth_time"].as_i64().is_some_and(|t| t <= iat), "{claims}");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()), "{claims}");
    assert_eq!(claims["acr"], "pwd", "{claims}");
    assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
}
