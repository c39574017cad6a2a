//! PKCE and the authorization request.
use super::{Client, REDIRECT_URI, random};
use crate::support::TestServer;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

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
