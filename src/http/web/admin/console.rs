//! The console's own session on top of the browser's sign-in: a cookie naming the
//! session it was opened from and when it was last used, MACed under the server key.
//! Thirty idle minutes end it; so does the sign-in ending (sign-out, disable, sign out
//! everywhere). It holds nothing secret, so every node can check it alone.
use super::super::{csrf, page, session_cookie};
use crate::crypto::constant_time_eq;
use crate::directory::scope::{self, ConsoleAdmin};
use crate::http::{AppState, WebError};
use crate::sessions::Session;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

pub fn idle_limit() -> Duration {
    Duration::minutes(30)
}

fn name(secure: bool) -> &'static str {
    if secure {
        "__Host-tessera_console"
    } else {
        "tessera_console"
    }
}

fn mac(svc: &AppState, session: Uuid, at: i64) -> String {
    URL_SAFE_NO_PAD.encode(svc.secret.mac("console", format!("{session}.{at}").as_bytes()))
}

/// The console cookie for `session`, used at `now`.
pub fn open(svc: &AppState, jar: CookieJar, session: Uuid, now: DateTime<Utc>) -> CookieJar {
    let at = now.timestamp();
    let secure = svc.config.secure_cookies();
    let value = format!("{session}.{at}.{}", mac(svc, session, at));
    let cookie = Cookie::build((name(secure), value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build();
    jar.add(cookie)
}

pub fn close(svc: &AppState, jar: CookieJar) -> CookieJar {
    let secure = svc.config.secure_cookies();
    jar.remove(Cookie::build((name(secure), "")).path("/").secure(secure).build())
}

/// The session the console cookie was opened from, while it has not sat idle too long.
fn opened_from(svc: &AppState, jar: &CookieJar, now: DateTime<Utc>) -> Option<Uuid> {
    let value = jar.get(name(svc.config.secure_cookies()))?.value().to_string();
    let mut parts = value.splitn(3, '.');
    let (session, at, tag) = (parts.next()?, parts.next()?, parts.next()?);
    let (session, at) = (Uuid::parse_str(session).ok()?, at.parse::<i64>().ok()?);
    if !constant_time_eq(mac(svc, session, at).as_bytes(), tag.as_bytes()) {
        return None;
    }
    let used = DateTime::from_timestamp(at, 0)?;
    (now - used <= idle_limit() && used <= now + Duration::minutes(1)).then_some(session)
}

/// A console request from a signed-in admin.
pub struct Console {
    pub admin: ConsoleAdmin,
    pub session: Session,
    /// The cookies to send back: the console cookie renewed, the CSRF cookie.
    pub jar: CookieJar,
    pub csrf: String,
}

impl Console {
    /// The admin's last proof of who they are is older than five minutes: sensitive
    /// actions ask for the password again.
    pub fn needs_step_up(&self, now: DateTime<Utc>) -> bool {
        now - self.session.auth_time > crate::accounts::login::recent_sign_in()
    }

    /// Checks the admin's own password again when its sign-in is not recent (seed 004);
    /// false when it is wrong. Failures count towards lockout like any sign-in.
    pub async fn step_up(&mut self, svc: &AppState, password: &str, from: Option<String>) -> Result<bool, WebError> {
        let (jar, device) = super::super::device_cookie::of(svc, self.jar.clone());
        self.jar = jar;
        let checked =
            crate::accounts::login::reconfirm(svc, &self.admin.user, self.session.auth_time, password, &device, from)
                .await;
        match checked {
            Ok(()) => Ok(true),
            Err(crate::accounts::login::LoginError::Accounts(e)) => Err(e.into()),
            Err(_) => Ok(false),
        }
    }

    /// An answer with the renewed cookies.
    pub fn answer(self, response: impl IntoResponse) -> Response {
        (self.jar, response).into_response()
    }
}

#[derive(Template)]
#[template(path = "admin/not_admin.html")]
struct NotAdminPage<'a> {
    username: &'a str,
}

/// Lets the request in, or answers it: to sign in (again), or that this person is no
/// admin.
pub async fn enter(svc: &AppState, jar: CookieJar) -> Result<Console, Response> {
    let now = svc.now();
    let to_sign_in = || Redirect::to("/admin/sign-in").into_response();
    let session = match session_cookie::current(svc, &jar).await {
        Ok(Some(session)) => session,
        Ok(None) => return Err(to_sign_in()),
        Err(e) => return Err(WebError::from(e).into_response()),
    };
    if opened_from(svc, &jar, now) != Some(session.id) {
        return Err(to_sign_in());
    }
    let user = match crate::accounts::users::find_by_id(svc, session.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(to_sign_in()),
        Err(e) => return Err(WebError::from(e).into_response()),
    };
    let admin = match scope::console_admin(svc, user).await {
        Ok(Some(admin)) => admin,
        Ok(None) => return Err(not_an_admin(svc, jar, session.user_id).await),
        Err(e) => return Err(WebError::from(e).into_response()),
    };
    let jar = open(svc, jar, session.id, now);
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    Ok(Console {
        admin,
        session,
        jar,
        csrf,
    })
}

/// 403, saying who is signed in: the console is for admins only.
pub async fn not_an_admin(svc: &AppState, jar: CookieJar, user_id: Uuid) -> Response {
    let username = match crate::accounts::users::find_by_id(svc, user_id).await {
        Ok(Some(u)) => u.username,
        _ => String::new(),
    };
    let jar = close(svc, jar);
    (jar, page(StatusCode::FORBIDDEN, &NotAdminPage { username: &username })).into_response()
}
