//! How long each authorization request parameter may be. A request that waits for the
//! user is kept for up to 30 minutes, so without bounds one unauthenticated GET could
//! make the server store whatever it carries. OAuth sets no limits; these leave room for
//! every relying party we know of (README, "OpenID Connect", lists them).
use super::authorize::Params;

/// The longest `login_hint`, and the longest identifier typed at the first sign-in step,
/// which takes its place: an email address has at most 254 characters (RFC 5321).
pub const LOGIN_HINT: usize = 256;
/// The longest `scope`, here and at the token endpoint.
pub const SCOPE: usize = 1024;

/// Each stored parameter and its most bytes. `client_id` and `redirect_uri` are not
/// here: they must equal a registered value before anything is kept. `request` and
/// `request_uri` are refused whatever their length.
fn bounded(p: &Params) -> [(&'static str, Option<&str>, usize); 15] {
    [
        ("state", p.state.as_deref(), 2048),
        ("nonce", p.nonce.as_deref(), 512),
        ("scope", p.scope.as_deref(), SCOPE),
        ("claims", p.claims.as_deref(), 4096),
        ("id_token_hint", p.id_token_hint.as_deref(), 8192),
        ("login_hint", p.login_hint.as_deref(), LOGIN_HINT),
        ("acr_values", p.acr_values.as_deref(), 256),
        ("ui_locales", p.ui_locales.as_deref(), 256),
        ("prompt", p.prompt.as_deref(), 64),
        ("max_age", p.max_age.as_deref(), 32),
        ("display", p.display.as_deref(), 32),
        ("response_type", p.response_type.as_deref(), 64),
        ("response_mode", p.response_mode.as_deref(), 64),
        ("code_challenge", p.code_challenge.as_deref(), 128),
        ("code_challenge_method", p.code_challenge_method.as_deref(), 16),
    ]
}

/// The first parameter longer than it may be, and its limit in bytes.
pub fn too_long(p: &Params) -> Option<(&'static str, usize)> {
    bounded(p)
        .into_iter()
        .find(|(_, value, max)| value.is_some_and(|v| v.len() > *max))
        .map(|(name, _, max)| (name, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_parameter_over_its_limit() {
        let mut p = Params {
            state: Some("s".repeat(2048)),
            nonce: Some("n".repeat(512)),
            ..Params::default()
        };
        assert_eq!(too_long(&p), None, "at the limit is fine");
        p.nonce = Some("n".repeat(513));
        assert_eq!(too_long(&p), Some(("nonce", 512)));
        p.state = Some("s".repeat(2049));
        assert_eq!(too_long(&p), Some(("state", 2048)), "the first one is named");
    }
}
