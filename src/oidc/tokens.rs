//! Minting tokens: RFC 9068 access tokens (ES256), ID tokens (the client's algorithm),
//! refresh tokens (opaque, stored hashed), and what one token response holds.
use super::key_set::{Alg, KeySet, half_hash};
use super::{OidcError, access_token_lifetime, id_token_lifetime};
use crate::crypto::random_token;
use crate::json::JsonFields;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The token endpoint's successful answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// Who and what an access token is for.
pub struct AccessGrant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The user, or the client itself for client_credentials.
    pub subject: String,
    pub scope: &'a str,
    pub grant_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub auth_time: Option<DateTime<Utc>>,
}

/// Returns the token and its `jti`.
pub fn access_token(keys: &KeySet, g: &AccessGrant, now: DateTime<Utc>) -> Result<(String, String), OidcError> {
    let jti = random_token()[..22].to_string();
    let mut claims = json!({
        "iss": g.issuer,
        "sub": g.subject,
        "aud": g.client_id,
        "client_id": g.client_id,
        "iat": now.timestamp(),
        "exp": (now + access_token_lifetime()).timestamp(),
        "jti": jti,
        "scope": g.scope,
    });
    if let Some(t) = g.auth_time {
        claims.set("auth_time", json!(t.timestamp()));
    }
    if let Some(sid) = g.session_id {
        claims.set("sid", json!(sid.to_string()));
    }
    // Lets introspection and userinfo see at once when the grant was revoked.
    if let Some(gid) = g.grant_id {
        claims.set("gid", json!(gid.to_string()));
    }
    let token = keys.signer(Alg::ES256)?.sign("at+jwt", &claims)?;
    Ok((token, jti))
}

pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub alg: Alg,
    pub subject: Uuid,
    pub auth_time: DateTime<Utc>,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
    pub session_id: Option<Uuid>,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub claims: Map<String, Value>,
}

pub fn id_token(keys: &KeySet, i: IdTokenInput, now: DateTime<Utc>) -> Result<String, OidcError> {
    let mut claims = i.claims;
    let mut set = |k: &str, v: Value| {
        claims.insert(k.to_string(), v);
    };
    set("iss", json!(i.issuer));
    set("sub", json!(i.subject.to_string()));
    set("aud", json!(i.client_id));
    set("azp", json!(i.client_id));
    set("iat", json!(now.timestamp()));
    set("exp", json!((now + id_token_lifetime()).timestamp()));
    set("auth_time", json!(i.auth_time.timestamp()));
    set("at_hash", json!(half_hash(i.access_token)));
    if let Some(n) = i.nonce {
        set("nonce", json!(n));
    }
    if let Some(sid) = i.session_id {
        set("sid", json!(sid.to_string()));
    }
    if let Some(acr) = i.acr {
        set("acr", json!(acr));
    }
    if !i.amr.is_empty() {
        set("amr", json!(i.amr));
    }
    keys.signer(i.alg)?.sign("JWT", &Value::Object(claims))
}
