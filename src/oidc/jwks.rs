//! The public keys an admin registers for a private_key_jwt client.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use serde_json::Value;

/// Checks a JWK Set an admin registers: public RSA, P-256 or Ed25519 keys only.
pub fn check(jwks: &Value) -> Result<(), String> {
    let keys = jwks["keys"]
        .as_array()
        .ok_or("a JWK Set is a JSON object with a \"keys\" array")?;
    if keys.is_empty() {
        return Err("the JWK Set has no keys".into());
    }
    for raw in keys {
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|p| raw.get(p).is_some())
        {
            return Err("the JWK Set holds private or symmetric key material: register public keys only".into());
        }
        let jwk: Jwk = serde_json::from_value(raw.clone()).map_err(|e| format!("a key is not a valid JWK: {e}"))?;
        match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                // aws-lc verifies RSA signatures from 2048 bits up: a smaller key could
                // register but never work.
                let n = URL_SAFE_NO_PAD
                    .decode(&rsa.n)
                    .map_err(|_| "an RSA key's n is not base64url")?;
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err("RSA keys must have at least 2048 bits".into());
                }
            }
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {}
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {}
            _ => return Err("keys must be RSA, EC P-256 or Ed25519".into()),
        }
        DecodingKey::from_jwk(&jwk).map_err(|e| format!("a key cannot be used: {e}"))?;
    }
    Ok(())
}
