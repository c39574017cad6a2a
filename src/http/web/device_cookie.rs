//! The device cookie (OWASP): a random value naming this browser, long-lived, so a
//! user's failures and lockouts in it are its own. HttpOnly, SameSite=Lax, Secure and
//! `__Host-` when the issuer is https.
use crate::accounts::devices::{DeviceCookie, cookie_lifetime};
use crate::services::Services;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

fn name(secure: bool) -> &'static str {
    if secure {
        "__Host-tessera_device"
    } else {
        "tessera_device"
    }
}

/// This browser's device cookie, or a new one with the jar that gives it to the browser.
pub fn of(svc: &Services, jar: CookieJar) -> (CookieJar, DeviceCookie) {
    let secure = svc.config.secure_cookies();
    let device = DeviceCookie::from_browser(jar.get(name(secure)).map(|c| c.value()));
    if !device.new {
        return (jar, device);
    }
    let max_age = time::Duration::seconds(cookie_lifetime().num_seconds());
    let cookie = Cookie::build((name(secure), device.value.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    (jar.add(cookie), device)
}
