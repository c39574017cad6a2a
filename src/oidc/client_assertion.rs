//! private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): the client proves itself
//! with a short-lived JWT signed by its own private key, checked against the public
//! keys an admin registered for it. Nothing secret is stored on our side.
use super::OidcError;
use super::clients::Client;
use crate::json::JsonFields;
use crate::oidc::Provider;
use crate::store;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Asymmetric only: an HMAC assertion would need a shared secret.
pub const ALGORITHMS: [Algorithm; 4] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];
/// An assertion may be valid this long at most: its `jti` is remembered as long (plus
/// the leeway).
const MAX_LIFETIME_SECONDS: i64 = 600;
const MAX_JTI_LENGTH: usize = 128;
/// Clock skew allowed between the client and us.
const LEEWAY_SECONDS: i64 = 30;

/// The client the assertion says it comes from (`sub`, RFC 7523 §3), read before the
/// signature is checked: only to find the keys to check it with.
pub fn claimed_client(assertion: &str) -> Option<String> {
    let data = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion).ok()?;
    data.claims.field("sub").as_str().map(str::to_string)
}

/// Verifies the assertion for `client` and spends its `jti`. `audiences` are the values
/// `aud` may name.
pub async fn verify(svc: &Provider, client: &Client, assertion: &str, audiences: &[String]) -> Result<(), OidcError> {
    let fail = |why: &str| OidcError::invalid_client(format!("client authentication failed: {why}"));
    let jwks: JwkSet = client
        .jwks
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| fail("this client does not use private_key_jwt"))?;
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| fail("the assertion is not a JWT"))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(fail("the assertion's algorithm is not accepted"));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_audience(audiences);
    validation.set_issuer(&[&client.id]);
    validation.sub = Some(client.id.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    // Expiry is checked below against Tessera's clock, like every other expiry.
    validation.validate_exp = false;
    // A kid picks its key; keys registered without one are tried for any assertion.
    let candidates = jwks
        .keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id.is_none() || k.common.key_id == header.kid);
    let claims = candidates
        .filter_map(|k| DecodingKey::from_jwk(k).ok())
        .find_map(|key| jsonwebtoken::decode::<Value>(assertion, &key, &validation).ok())
        .ok_or_else(|| fail("the assertion is not signed by a registered key, or is expired or not for us"))?
        .claims;

    let now = svc.now();
    let exp = claims
        .field("exp")
        .as_i64()
        .ok_or_else(|| fail("exp must be a number"))?;
    // Accepted until then; its jti is remembered as long.
    let last_accepted = exp.saturating_add(LEEWAY_SECONDS);
    if last_accepted < now.timestamp() {
        return Err(fail("the assertion has expired"));
    }
    if exp.saturating_sub(now.timestamp()) > MAX_LIFETIME_SECONDS {
        return Err(fail("the assertion is valid for too long (at most 10 minutes)"));
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_i64().ok_or_else(|| fail("nbf must be a number"))?;
        if nbf.saturating_sub(LEEWAY_SECONDS) > now.timestamp() {
            return Err(fail("the assertion is not valid yet"));
        }
    }
    let jti = claims
        .field("jti")
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LENGTH)
        .ok_or_else(|| fail("jti is required (at most 128 characters)"))?;
    let expires = DateTime::<Utc>::from_timestamp(last_accepted, 0).unwrap_or(now);
    // Namespaced: access-token ids never contain ':', so a client cannot pick a jti
    // that revokes someone's token.
    let key = format!("assertion:{}:{jti}", client.id);
    if !store::grants::spend_jti(svc.store.conn(), &key, expires).await? {
        return Err(fail("this assertion was used before"));
    }
    Ok(())
}
