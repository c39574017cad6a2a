//! Headers every response carries, whatever produced it: a handler, a layer's
//! error (timeout, body limit) or a caught panic.
use axum::http::header::{REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderMap, HeaderValue};

/// With an https issuer, browsers are told to use https only, for a year, on this
/// host and its subdomains: a sign-in page must never be reached over plain http,
/// where a network attacker could serve their own. No `preload`: that is a
/// commitment for the operator to make, outside Tessera.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Adds what is missing; a response that set one of these itself keeps its own.
pub fn secure(headers: &mut HeaderMap, https: bool) {
    for (name, value) in [
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "no-referrer"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    // Sent only over https by the letter of RFC 6797 §7.2; browsers ignore it over
    // plain http, so sending it whenever the issuer is https is harmless behind a
    // TLS-terminating proxy, which is how an https issuer is served.
    if https {
        headers
            .entry(STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(HSTS));
    }
}
