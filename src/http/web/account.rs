//! `/account`: the signed-in person's own page: who they are, their second factor and
//! password (forms in `account_security`), and signing out here or everywhere.
use super::{CsrfForm, checked_form, csrf, page, session_cookie};
use crate::accounts::login;
use crate::accounts::password::MAX_LENGTH;
use crate::accounts::users::{self, By};
use crate::accounts::{passkeys, second_factor};
use crate::audit::Actor;
use crate::directory;
use crate::http::{AppState, ClientAddress, WebError};
use crate::sessions;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

impl CsrfForm for SignOutForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage<'a> {
    name: &'a str,
    username: &'a str,
    email: &'a str,
    groups: Vec<String>,
    csrf: &'a str,
    notice: Option<&'a str>,
    has_totp: bool,
    recovery_left: u64,
    /// A second factor is required of this user.
    required: bool,
    /// The sign-in is older than five minutes: security forms ask for the password.
    confirm_password: bool,
    min_length: usize,
    max_length: usize,
    sessions: Vec<SessionRow>,
    passkeys: Vec<PasskeyRow>,
    /// Passkeys work here (the issuer has a host name).
    passkeys_available: bool,
    name_max: usize,
}

/// A passkey as the account page lists it.
struct PasskeyRow {
    id: String,
    name: String,
    synced: bool,
    added: String,
    last_used: Option<String>,
}

fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

/// A live session as the account page lists it.
struct SessionRow {
    id: String,
    browser: String,
    address: String,
    started: String,
    this_browser: bool,
}

/// "Firefox on Windows", from a User-Agent: enough for a person to tell their devices
/// apart. Order matters: Edge and Chrome say "Safari", Chrome on iOS says "CriOS".
pub(in crate::http::web) fn describe_browser(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown browser".into();
    };
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
        "Edge"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let system = if has("iPhone") {
        "iPhone"
    } else if has("iPad") {
        "iPad"
    } else if has("Android") {
        "Android"
    } else if has("Windows") {
        "Windows"
    } else if has("Mac OS X") || has("Macintosh") {
        "Mac"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        return browser.to_string();
    };
    format!("{browser} on {system}")
}

#[derive(Template)]
#[template(path = "account/signed_out.html")]
struct SignedOutPage<'a> {
    heading: &'a str,
    message: &'a str,
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    welcome: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// What the page says after one of its forms did its work (fixed texts: nothing from
/// the query is echoed).
fn done_notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "password" => "Your password is changed. You were signed out everywhere else.",
        "totp-removed" => "The authenticator app is removed, and its recovery codes no longer work.",
        "totp-on" => "An authenticator app is set up already.",
        "no-totp" => "Recovery codes come with an authenticator app: set one up first.",
        "sessions-ended" => "Signed out there. The apps used in that browser were told too.",
        "no-session" => "That sign-in had ended already.",
        "passkey-added" => "The passkey is added. Next time, choose \"Sign in with a passkey\".",
        "passkey-renamed" => "The passkey is renamed.",
        "passkey-removed" => "The passkey is removed: it no longer signs you in.",
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

fn not_signed_in() -> Response {
    page(
        StatusCode::UNAUTHORIZED,
        &SignedOutPage {
            heading: "You are not signed in",
            message: "Open one of your organisation's apps and sign in there; then come back to this page.",
        },
    )
}

pub async fn show(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(q): Query<AccountQuery>,
) -> Result<Response, WebError> {
    let Some(session) = session_cookie::current(&svc, &jar).await? else {
        return Ok(not_signed_in());
    };
    let Some(user) = users::find_by_id(&svc, session.user_id).await? else {
        return Ok(not_signed_in());
    };
    let groups = directory::groups_of(&svc, user.id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let name = [user.given_name.as_deref(), user.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    let notice = match (&q.welcome, q.done.as_deref().and_then(done_notice)) {
        (_, Some(done)) => Some(done),
        (Some(_), None) => {
            Some("Your password is set and you are signed in. You can now use your organisation's apps.")
        }
        (None, None) => None,
    };
    let has_totp = second_factor::has_totp(&svc, user.id).await?;
    let recovery_left = second_factor::recovery_codes_left(&svc, user.id).await?;
    let required = second_factor::required(&svc, &user).await?;
    let sessions = sessions::of_user(svc.store.reader(), user.id, svc.now())
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            browser: describe_browser(s.origin.user_agent.as_deref()),
            address: s.origin.ip.unwrap_or_else(|| "unknown address".into()),
            started: s.started_at.format("%-d %b %Y, %H:%M UTC").to_string(),
            this_browser: s.id == session.id,
        })
        .collect();
    let passkeys = passkeys::list(&svc, user.id)
        .await?
        .into_iter()
        .map(|k| PasskeyRow {
            id: k.id.to_string(),
            name: k.name,
            synced: k.synced,
            added: day(k.created_at),
            last_used: k.last_used_at.map(day),
        })
        .collect();
    let body = page(
        StatusCode::OK,
        &AccountPage {
            name: if name.is_empty() { &user.username } else { &name },
            username: &user.username,
            email: user.email.as_deref().unwrap_or("none"),
            groups,
            csrf: &csrf,
            notice,
            has_totp,
            recovery_left,
            required,
            confirm_password: svc.now() - session.auth_time > login::recent_sign_in(),
            min_length: svc.settings().password_min_length,
            max_length: MAX_LENGTH,
            sessions,
            passkeys,
            passkeys_available: svc.passkeys.is_some(),
            name_max: passkeys::NAME_MAX,
        },
    );
    Ok((jar, body).into_response())
}

/// Checks the form's CSRF token; the session it acts on comes from the cookie only.
async fn signed_in_form(
    svc: &AppState,
    jar: &CookieJar,
    form: Result<Form<SignOutForm>, FormRejection>,
) -> Result<Option<sessions::Session>, Box<Response>> {
    checked_form(svc, jar, form, "Open your account page again.")?;
    session_cookie::current(svc, jar)
        .await
        .map_err(|e| Box::new(WebError::from(e).into_response()))
}

pub async fn sign_out(
    State(svc): State<AppState>,
    jar: CookieJar,
    form: Result<Form<SignOutForm>, FormRejection>,
) -> Result<Response, WebError> {
    let session = match signed_in_form(&svc, &jar, form).await {
        Ok(session) => session,
        Err(answer) => return Ok(*answer),
    };
    if let Some(session) = session {
        // One transaction, audited, the apps told: as an RP-initiated logout.
        crate::oidc::logout::end(&svc, &session)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    let jar = session_cookie::clear(&svc, jar);
    let body = page(
        StatusCode::OK,
        &SignedOutPage {
            heading: "You are signed out",
            message: "You are signed out of this browser. You can close this window.",
        },
    );
    Ok((jar, body).into_response())
}

pub async fn sign_out_everywhere(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SignOutForm>, FormRejection>,
) -> Result<Response, WebError> {
    let session = match signed_in_form(&svc, &jar, form).await {
        Ok(session) => session,
        Err(answer) => return Ok(*answer),
    };
    let Some(session) = session else {
        return Ok(not_signed_in());
    };
    if let Some(user) = users::find_by_id(&svc, session.user_id).await? {
        let by = By {
            actor: Actor::user(user.id, &user.username),
            source_ip: Some(from.to_string()),
        };
        users::sign_out_everywhere(&svc, &user, &by).await?;
    }
    let jar = session_cookie::clear(&svc, jar);
    let body = page(
        StatusCode::OK,
        &SignedOutPage {
            heading: "You are signed out everywhere",
            message: "Every sign-in of yours has ended, on every device, and your apps were told to sign you out. \
                      Sign in again where you need to.",
        },
    );
    Ok((jar, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::describe_browser;

    #[test]
    fn browsers_are_named_as_people_know_them() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Mac",
            ),
            ("curl/8.5.0", "A browser"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe_browser(Some(ua)), expected, "{ua}");
        }
        assert_eq!(describe_browser(None), "Unknown browser");
    }
}
