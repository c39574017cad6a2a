//! CSRF protection for forms: a random cookie (HttpOnly, SameSite=Strict) and a
//! form field holding the HMAC of that cookie under the server key ("signed
//! double submit"), so a cookie planted by a sibling subdomain is not enough.
use crate::crypto::{SecretKey, constant_time_eq, random_token};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn cookie_name(secure: bool) -> &'static str {
    // The __Host- prefix pins the cookie to this host, path /, Secure.
    if secure { "__Host-tessera_csrf" } else { "tessera_csrf" }
}

fn field_for(key: &SecretKey, cookie_value: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.mac("csrf", cookie_value.as_bytes()))
}

/// The value to put in the form's `csrf` field, setting the cookie if there is none.
pub fn issue(jar: CookieJar, key: &SecretKey, secure: bool) -> (CookieJar, String) {
    let name = cookie_name(secure);
    if let Some(existing) = jar.get(name) {
        let field = field_for(key, existing.value());
        return (jar, field);
    }
    let value = random_token();
    let field = field_for(key, &value);
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build();
    (jar.add(cookie), field)
}

pub fn verify(jar: &CookieJar, key: &SecretKey, secure: bool, field: &str) -> bool {
    match jar.get(cookie_name(secure)) {
        Some(cookie) => constant_time_eq(field_for(key, cookie.value()).as_bytes(), field.as_bytes()),
        None => false,
    }
}
