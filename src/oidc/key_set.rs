//! Token signing keys: created on first start, stored encrypted in the database so all
//! nodes share them, parsed once into memory, published as a JWKS.
use super::OidcError;
use crate::crypto::SecretKey;
use crate::json::JsonFields;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::RS256 => jsonwebtoken::Algorithm::RS256,
            Alg::ES256 => jsonwebtoken::Algorithm::ES256,
            Alg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

enum Private {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private key parsed once, with its key id.
pub struct Signer {
    pub kid: String,
    pub alg: Alg,
    key: Private,
}

impl Signer {
    fn from_pkcs8(kid: String, alg: Alg, der: &[u8]) -> Result<Self, OidcError> {
        let bad = |e: String| OidcError::Internal(format!("signing key {kid}: {e}"));
        let key = match alg {
            Alg::RS256 => Private::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|e| bad(e.to_string()))?),
            Alg::ES256 => Private::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(|e| bad(e.to_string()))?,
            ),
            Alg::EdDSA => Private::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|e| bad(e.to_string()))?),
        };
        Ok(Self { kid, alg, key })
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> Value {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let mut jwk = match &self.key {
            Private::Rsa(k) => {
                let public = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Private::Ec(k) => {
                // Uncompressed point: 0x04 || x || y.
                let point = k.public_key().as_ref();
                let (x, y) = point
                    .get(1..)
                    .unwrap_or_default()
                    .split_at_checked(32)
                    .unwrap_or_default();
                json!({ "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y) })
            }
            Private::Ed(k) => json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(k.public_key().as_ref()) }),
        };
        jwk.set("kid", json!(self.kid));
        jwk.set("alg", json!(self.alg.as_str()));
        jwk.set("use", json!("sig"));
        jwk
    }

    /// A compact JWS of `claims` with this key; `typ` names the token's kind.
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String, OidcError> {
        let header = json!({ "alg": self.alg.as_str(), "kid": self.kid, "typ": typ });
        let header = serde_json::to_vec(&header).map_err(|e| OidcError::Internal(e.to_string()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| OidcError::Internal(e.to_string()))?;
        let mut out = String::with_capacity(header.len() * 4 / 3 + payload.len() * 4 / 3 + 400);
        URL_SAFE_NO_PAD.encode_string(&header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        let failed = |_| OidcError::Internal("signing failed".into());
        let rng = SystemRandom::new();
        let signature = match &self.key {
            Private::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, out.as_bytes(), &mut sig)
                    .map_err(failed)?;
                sig
            }
            Private::Ec(k) => k.sign(&rng, out.as_bytes()).map_err(failed)?.as_ref().to_vec(),
            Private::Ed(k) => k.sign(out.as_bytes()).as_ref().to_vec(),
        };
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut out);
        Ok(out)
    }
}

/// A new key pair as PKCS#8 DER.
pub fn generate(alg: Alg) -> Result<Vec<u8>, OidcError> {
    let failed = |e: String| OidcError::Internal(format!("key generation failed: {e}"));
    let rng = SystemRandom::new();
    Ok(match alg {
        Alg::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| failed(e.to_string()))?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der = pair.as_der().map_err(|e| failed(e.to_string()))?;
            der.as_ref().to_vec()
        }
        Alg::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| failed(e.to_string()))?
            .as_ref()
            .to_vec(),
        Alg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|e| failed(e.to_string()))?
            .as_ref()
            .to_vec(),
    })
}

/// A fresh key id: random, so nodes creating keys at once cannot collide.
pub fn new_kid(alg: Alg) -> String {
    format!(
        "{}-{}",
        alg.as_str().to_lowercase(),
        &crate::crypto::random_token()[..16]
    )
}

fn cipher(secret: &SecretKey) -> Result<LessSafeKey, OidcError> {
    let key = secret.mac("signing-key-encryption", b"");
    let unbound = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| OidcError::Internal("cipher key".into()))?;
    Ok(LessSafeKey::new(unbound))
}

/// AES-256-GCM under a key derived from the server secret; the key id is bound as AAD.
pub fn seal(secret: &SecretKey, kid: &str, der: &[u8]) -> Result<Vec<u8>, OidcError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| OidcError::Internal("random".into()))?;
    let mut data = der.to_vec();
    cipher(secret)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kid.as_bytes()),
            &mut data,
        )
        .map_err(|_| OidcError::Internal("encrypting a signing key failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend(data);
    Ok(out)
}

pub fn open(secret: &SecretKey, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, OidcError> {
    if sealed.len() < NONCE_LEN {
        return Err(OidcError::Internal(format!("signing key {kid} is truncated")));
    }
    let (nonce, data) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OidcError::Internal("nonce".into()))?;
    let mut data = data.to_vec();
    let plain = cipher(secret)?
        .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
        .map_err(|_| {
            OidcError::Internal(format!(
                "signing key {kid} cannot be decrypted: TESSERA_SECRET_KEY differs from the one it was stored with"
            ))
        })?;
    Ok(plain.to_vec())
}

/// A stored key, decrypted.
pub struct StoredKey {
    pub kid: String,
    pub alg: Alg,
    pub der: Vec<u8>,
    /// This key signs new tokens for its algorithm (one per algorithm).
    pub signs: bool,
}

/// The keys in use, as every request sees them.
pub struct KeySet {
    current: HashMap<Alg, Arc<Signer>>,
    verifiers: HashMap<String, (Alg, jsonwebtoken::DecodingKey)>,
    jwks: Value,
}

impl KeySet {
    pub fn build(stored: Vec<StoredKey>) -> Result<Self, OidcError> {
        let mut current = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut public = Vec::new();
        for key in stored {
            let signer = Signer::from_pkcs8(key.kid.clone(), key.alg, &key.der)?;
            let jwk = signer.public_jwk();
            let parsed: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(jwk.clone()).map_err(|e| OidcError::Internal(e.to_string()))?;
            let decoding =
                jsonwebtoken::DecodingKey::from_jwk(&parsed).map_err(|e| OidcError::Internal(e.to_string()))?;
            verifiers.insert(key.kid.clone(), (key.alg, decoding));
            public.push(jwk);
            if key.signs {
                current.entry(key.alg).or_insert_with(|| Arc::new(signer));
            }
        }
        Ok(Self {
            current,
            verifiers,
            jwks: json!({ "keys": public }),
        })
    }

    pub fn signer(&self, alg: Alg) -> Result<Arc<Signer>, OidcError> {
        self.current
            .get(&alg)
            .cloned()
            .ok_or_else(|| OidcError::Internal(format!("no {} signing key", alg.as_str())))
    }

    pub fn has_all(&self) -> bool {
        Alg::ALL.iter().all(|a| self.current.contains_key(a))
    }

    pub fn knows(&self, kid: &str) -> bool {
        self.verifiers.contains_key(kid)
    }

    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Checks a JWT's signature against our keys and returns its claims; the caller
    /// checks expiry, issuer and audience against its own clock and rules.
    pub fn verify(&self, token: &str) -> Option<(jsonwebtoken::Header, Value)> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (alg, key) = self.verifiers.get(header.kid.as_deref()?)?;
        if header.alg != alg.jwt() {
            return None;
        }
        let mut validation = jsonwebtoken::Validation::new(alg.jwt());
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(token, key, &validation).ok()?;
        Some((data.header, data.claims))
    }
}

/// Base64url of the left half of SHA-256 of a token: `at_hash` for RS256, ES256 and EdDSA.
pub fn half_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies_through_its_jwk() {
        let secret = SecretKey::generate();
        let mut stored = Vec::new();
        for alg in Alg::ALL {
            let der = generate(alg).expect("generate");
            let kid = new_kid(alg);
            let sealed = seal(&secret, &kid, &der).expect("seal");
            assert_ne!(sealed, der);
            let opened = open(&secret, &kid, &sealed).expect("open");
            assert!(open(&SecretKey::generate(), &kid, &sealed).is_err());
            assert!(open(&secret, "other-kid", &sealed).is_err());
            stored.push(StoredKey {
                kid,
                alg,
                der: opened,
                signs: true,
            });
        }
        let set = KeySet::build(stored).expect("key set");
        assert!(set.has_all());
        assert_eq!(set.jwks()["keys"].as_array().map(Vec::len), Some(3));
        for alg in Alg::ALL {
            let signer = set.signer(alg).expect("signer");
            let token = signer.sign("JWT", &json!({"sub": "x"})).expect("sign");
            let (header, claims) = set.verify(&token).expect("verifies");
            assert_eq!(header.kid.as_deref(), Some(signer.kid.as_str()));
            assert_eq!(claims["sub"], "x");
            let mut tampered = token.clone();
            tampered.insert(token.find('.').expect("dot") + 2, 'A');
            assert!(set.verify(&tampered).is_none());
        }
    }
}
