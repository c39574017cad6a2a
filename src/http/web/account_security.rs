//! The account page's security forms: change the password (the current one first),
//! set up or remove the authenticator app, make new recovery codes. Each asks for the
//! password again unless the person signed in within the last five minutes.
use super::signin::{EnrolTotpPage, RecoveryCodesPage};
use super::{CsrfForm, capitalise, checked_form, csrf, device_cookie, page, session_cookie};
use crate::accounts::login::{self, LoginError};
use crate::accounts::users::{self, By};
use crate::accounts::{AccountsError, User, second_factor};
use crate::audit::Actor;
use crate::http::{AppState, BrowserOrigin, ClientAddress, WebError, too_many};
use crate::sessions::{self, Session};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct SecurityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub(super) current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(default)]
    code: String,
    /// A passkey's name, its id (rename, remove), and the browser's answer (JSON).
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) passkey: String,
    #[serde(default)]
    pub(super) credential: String,
}

impl CsrfForm for SecurityForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "account/message.html")]
struct MessagePage<'a> {
    heading: &'a str,
    message: &'a str,
}

/// Back to the account page with one of its fixed notices.
pub(super) fn back(notice: &str) -> Response {
    Redirect::to(&format!("/account?done={notice}")).into_response()
}

/// A refusal shown on a page of its own, with the way back.
pub(super) fn refused(status: StatusCode, message: &str) -> Response {
    page(
        status,
        &MessagePage {
            heading: "That did not work",
            message,
        },
    )
}

fn wrong_password(e: LoginError) -> Response {
    match e {
        LoginError::Locked(until) => refused(
            StatusCode::FORBIDDEN,
            &format!(
                "Too many wrong passwords in this browser: this is paused until {} UTC.",
                until.format("%H:%M")
            ),
        ),
        LoginError::Accounts(e) => WebError::from(e).into_response(),
        _ => refused(
            StatusCode::FORBIDDEN,
            "That is not your current password. Go back and type it again.",
        ),
    }
}

/// The signed-in user and session behind a checked form, or the answer to give.
pub(super) async fn signed_in(
    svc: &AppState,
    jar: &CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Result<(SecurityForm, Session, User), Box<Response>> {
    let form = checked_form(svc, jar, form, "Open your account page again.")?;
    let boxed = |e: WebError| Box::new(e.into_response());
    let session = session_cookie::current(svc, jar)
        .await
        .map_err(|e| boxed(e.into()))?
        .ok_or_else(|| Box::new(refused(StatusCode::UNAUTHORIZED, "You are not signed in any more.")))?;
    let user = users::find_by_id(svc, session.user_id)
        .await
        .map_err(|e| boxed(e.into()))?
        .filter(|u| u.active)
        .ok_or_else(|| Box::new(refused(StatusCode::UNAUTHORIZED, "You are not signed in any more.")))?;
    Ok((form, session, user))
}

pub(super) fn by(user: &User, from: std::net::IpAddr) -> By {
    By {
        actor: Actor::user(user.id, &user.username),
        source_ip: Some(from.to_string()),
    }
}

pub async fn change_password(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    let from = seen.address;
    if !svc.limits.sign_in.check(from) {
        return too_many("Too many attempts from this network. Wait a minute and try again.");
    }
    let (form, session, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    if form.password != form.password_confirm {
        return refused(
            StatusCode::BAD_REQUEST,
            "The two new passwords are not the same. Go back and type them again.",
        );
    }
    let (jar, device) = device_cookie::of(&svc, jar);
    // The current password, always: whoever finds a signed-in screen must not lock the
    // owner out by choosing another.
    if let Err(e) = login::check_password(
        &svc,
        &user.username,
        &form.current_password,
        &device,
        Some(from.to_string()),
    )
    .await
    {
        return wrong_password(e);
    }
    match users::change_own_password(&svc, &user, &form.password, None).await {
        Ok(()) => {}
        Err(AccountsError::WeakPassword(why)) => {
            return refused(
                StatusCode::BAD_REQUEST,
                &format!(
                    "The new password {}. Go back and choose another.",
                    why.trim_end_matches('.')
                ),
            );
        }
        Err(e) => return WebError::from(e).into_response(),
    }
    // Every session ended with the old password; this browser gets a new one.
    let amr: Vec<&str> = session.amr.iter().map(String::as_str).collect();
    match sessions::start(svc.store.conn(), user.id, &session.acr, &amr, &seen.origin, svc.now()).await {
        Ok((_, cookie)) => (session_cookie::set(&svc, jar, cookie), back("password")).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Checks that the person is the user (recent sign-in, or the password again).
pub(super) async fn reconfirmed(
    svc: &AppState,
    jar: CookieJar,
    session: &Session,
    user: &User,
    form: &SecurityForm,
    from: std::net::IpAddr,
) -> Result<CookieJar, Response> {
    let (jar, device) = device_cookie::of(svc, jar);
    login::reconfirm(
        svc,
        user,
        session.auth_time,
        &form.current_password,
        &device,
        Some(from.to_string()),
    )
    .await
    .map_err(wrong_password)?;
    Ok(jar)
}

fn stale(svc: &AppState, session: &Session) -> bool {
    svc.now() - session.auth_time > login::recent_sign_in()
}

async fn enrolment_page(
    svc: &AppState,
    jar: CookieJar,
    session: &Session,
    user: &User,
    error: Option<&str>,
) -> Response {
    let enrolment = match second_factor::begin_enrolment(svc, user, session.id).await {
        Ok(e) => e,
        Err(AccountsError::Invalid { .. }) => return back("totp-on"),
        Err(e) => return WebError::from(e).into_response(),
    };
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = EnrolTotpPage {
        action: "/account/totp",
        csrf: &csrf,
        r: "",
        confirm_password: stale(svc, session),
        organisation: &svc.settings().organisation_name,
        qr_svg: &enrolment.qr_svg,
        key_text: &enrolment.key_text,
        error,
    };
    (jar, page(status, &body)).into_response()
}

pub async fn totp_page(State(svc): State<AppState>, jar: CookieJar) -> Response {
    let session = match session_cookie::current(&svc, &jar).await {
        Ok(Some(s)) => s,
        Ok(None) => return Redirect::to("/account").into_response(),
        Err(e) => return WebError::from(e).into_response(),
    };
    match users::find_by_id(&svc, session.user_id).await {
        Ok(Some(user)) => enrolment_page(&svc, jar, &session, &user, None).await,
        Ok(None) => Redirect::to("/account").into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

fn codes_page(svc: &AppState, jar: CookieJar, codes: &[String]) -> Response {
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    let body = RecoveryCodesPage {
        csrf: &csrf,
        r: "",
        codes: Some(codes),
        remaining: 0,
    };
    (jar, page(StatusCode::OK, &body)).into_response()
}

pub async fn enrol_totp(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(from) {
        return too_many("Too many codes were tried from this network. Wait a minute and try again.");
    }
    let (form, session, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    let jar = match reconfirmed(&svc, jar, &session, &user, &form, from).await {
        Ok(jar) => jar,
        Err(answer) => return answer,
    };
    match second_factor::confirm_enrolment(&svc, &user, session.id, &form.code, &by(&user, from)).await {
        Ok(codes) => codes_page(&svc, jar, &codes),
        Err(AccountsError::WrongCode) => {
            let message = "That code is not right. Type the code the app shows now: it changes every 30 seconds.";
            enrolment_page(&svc, jar, &session, &user, Some(message)).await
        }
        Err(AccountsError::Invalid { message, .. }) => refused(StatusCode::BAD_REQUEST, &capitalise(&message)),
        Err(e) => WebError::from(e).into_response(),
    }
}

pub async fn remove_totp(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    let (form, session, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    let jar = match reconfirmed(&svc, jar, &session, &user, &form, from).await {
        Ok(jar) => jar,
        Err(answer) => return answer,
    };
    match second_factor::remove(&svc, &user, &by(&user, from)).await {
        Ok(_) => (jar, back("totp-removed")).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

pub async fn regenerate_codes(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    let (form, session, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    match second_factor::has_totp(&svc, user.id).await {
        Ok(true) => {}
        Ok(false) => return back("no-totp"),
        Err(e) => return WebError::from(e).into_response(),
    }
    let jar = match reconfirmed(&svc, jar, &session, &user, &form, from).await {
        Ok(jar) => jar,
        Err(answer) => return answer,
    };
    match second_factor::regenerate_recovery_codes(&svc, &user, &by(&user, from)).await {
        Ok(codes) => codes_page(&svc, jar, &codes),
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
pub struct EndSessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
}

impl CsrfForm for EndSessionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Ends one of the person's other sessions (a phone left signed in), or with
/// `session=others` every one but this browser's; its grants are revoked and its apps
/// told, as at any sign-out.
pub async fn end_session(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<EndSessionForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&svc, &jar, form, "Open your account page again.") {
        Ok(form) => form,
        Err(answer) => return *answer,
    };
    let current = match session_cookie::current(&svc, &jar).await {
        Ok(Some(s)) => s,
        Ok(None) => return refused(StatusCode::UNAUTHORIZED, "You are not signed in any more."),
        Err(e) => return WebError::from(e).into_response(),
    };
    let user = match users::find_by_id(&svc, current.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return refused(StatusCode::UNAUTHORIZED, "You are not signed in any more."),
        Err(e) => return WebError::from(e).into_response(),
    };
    let targets: Vec<uuid::Uuid> = if form.session == "others" {
        match sessions::of_user(svc.store.reader(), user.id, svc.now()).await {
            Ok(all) => all.into_iter().map(|s| s.id).filter(|id| *id != current.id).collect(),
            Err(e) => return WebError::from(e).into_response(),
        }
    } else {
        match form.session.parse::<uuid::Uuid>() {
            // This browser's own session ends through "Sign out of this browser".
            Ok(id) if id != current.id => vec![id],
            _ => return back("no-session"),
        }
    };
    match users::end_sessions(&svc, &user, &targets, &by(&user, from)).await {
        Ok(0) => back("no-session"),
        Ok(_) => back("sessions-ended"),
        Err(e) => WebError::from(e).into_response(),
    }
}
