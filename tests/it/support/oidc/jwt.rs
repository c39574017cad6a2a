//! JWTs: decoding, verifying against /jwks, and what every ID token must say.
use super::{Client, Reply, User, api, issuer};
use crate::support::TestServer;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashSet;

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
