//! The SSO session cookie: a random value whose hash names the server-side session.
//! HttpOnly, SameSite=Lax (the code flow returns by top-level GET), Secure and
//! `__Host-` when the issuer is https; a browser-session cookie, so closing the browser
//! on a shared clinic PC ends the sign-in there too.
use crate::services::Services;
use crate::sessions::{self, Session};
use crate::store::StoreError;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

fn name(secure: bool) -> &'static str {
    if secure {
        "__Host-tessera_session"
    } else {
        "tessera_session"
    }
}

/// The live session this browser's cookie names, if any.
pub async fn current(svc: &Services, jar: &CookieJar) -> Result<Option<Session>, StoreError> {
    match jar.get(name(svc.config.secure_cookies())) {
        Some(cookie) if !cookie.value().is_empty() => {
            sessions::find(svc.store.reader(), cookie.value(), svc.now()).await
        }
        _ => Ok(None),
    }
}

pub fn set(svc: &Services, jar: CookieJar, value: String) -> CookieJar {
    let secure = svc.config.secure_cookies();
    let cookie = Cookie::build((name(secure), value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build();
    jar.add(cookie)
}

pub fn clear(svc: &Services, jar: CookieJar) -> CookieJar {
    let secure = svc.config.secure_cookies();
    jar.remove(Cookie::build((name(secure), "")).path("/").secure(secure).build())
}
