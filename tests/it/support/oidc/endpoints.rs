//! Token endpoint, introspection, revocation, userinfo.
use super::{AuthRequest, Client, Pkce, REDIRECT_URI, User, api, authorize, sign_in};
use crate::support::TestServer;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use serde_json::Value;

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

/// Nothing the user held still works, and the browser's session is gone.
pub async fn assert_access_ended(s: &TestServer, client: &Client, tokens: &Tokens) {
    assert!(
        !is_active(s, client, tokens.access()).await,
        "the access token is inactive"
    );
    assert_userinfo_refuses(s, tokens.access()).await;
    refresh(s, client, tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    let req = AuthRequest::new(client, "openid")
        .with_pkce(&Pkce::generate())
        .set("prompt", "none");
    let answer = authorize(s, &s.client, &req).await;
    assert_eq!(answer.redirected_with("error"), "login_required");
    assert_eq!(answer.param("code"), None);
}
