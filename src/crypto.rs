//! Random secrets, their stored hashes, and constant-time comparison.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 256 random bits, URL-safe base64: the form of every token Tessera hands out.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a token: its SHA-256. A 256-bit random value needs no salt or stretching.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The server's secret key (32 bytes), from config or the data directory.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Accepts standard or URL-safe base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// HMAC-SHA256 under a purpose label, so one key serves several uses independently.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> Vec<u8> {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts keys of any length")
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    /// Encrypts a secret the server must read back (a TOTP key) under a purpose label,
    /// bound to `context` (the owner's id), so a copied row is useless elsewhere.
    pub fn seal(&self, purpose: &str, context: &[u8], secret: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let cipher = XChaCha20Poly1305::new_from_slice(&self.mac(purpose, b"seal")).ok()?;
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: context,
                },
            )
            .ok()?;
        Some([nonce.as_slice(), &sealed].concat())
    }

    /// The secret `seal` sealed with the same purpose and context; None if it was not.
    pub fn open(&self, purpose: &str, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        if sealed.len() < 24 {
            return None;
        }
        let (nonce, body) = sealed.split_at(24);
        let cipher = XChaCha20Poly1305::new_from_slice(&self.mac(purpose, b"seal")).ok()?;
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn secret_key_round_trips_and_rejects_wrong_length() {
        let key = SecretKey::generate();
        let again = SecretKey::from_base64(&key.to_base64()).expect("round trip");
        assert_eq!(key.mac("x", b"m"), again.mac("x", b"m"));
        assert_ne!(key.mac("x", b"m"), key.mac("y", b"m"));
        assert!(SecretKey::from_base64("c2hvcnQ").is_none());
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_purpose_and_context() {
        let key = SecretKey::generate();
        let sealed = key.seal("totp", b"user-1", b"the secret").expect("seal");
        assert_eq!(
            key.open("totp", b"user-1", &sealed).as_deref(),
            Some(&b"the secret"[..])
        );
        assert_eq!(key.open("totp", b"user-2", &sealed), None, "another user's row");
        assert_eq!(key.open("other", b"user-1", &sealed), None);
        assert_eq!(SecretKey::generate().open("totp", b"user-1", &sealed), None);
        assert_eq!(key.open("totp", b"user-1", &sealed[..10]), None);
        assert_ne!(
            key.seal("totp", b"user-1", b"the secret"),
            Some(sealed),
            "a fresh nonce each time"
        );
    }
}
