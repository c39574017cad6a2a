//! The account page's passkeys: add one (the browser makes it; its answer comes back
//! in the form), rename or remove one. Adding one always asks for the current password
//! first (a new way in must not come from whoever finds a signed-in screen), before the
//! browser makes the key; removing asks for it again unless the person signed in within
//! the last five minutes.
use super::account_security::{SecurityForm, back, by, reconfirmed, refused, signed_in};
use super::passkey_options::{json_error, options_answer};
use super::{capitalise, device_cookie};
use crate::accounts::login::{self, LoginError};
use crate::accounts::{AccountsError, passkeys};
use crate::http::{AppState, ClientAddress, WebError, too_many};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

fn answer(done: &str, result: Result<(), AccountsError>) -> Response {
    match result {
        Ok(()) => back(done),
        Err(AccountsError::Invalid { message, .. }) => refused(
            StatusCode::BAD_REQUEST,
            &format!("{}. Go back and try again.", capitalise(&message)),
        ),
        Err(e) => WebError::from(e).into_response(),
    }
}

pub async fn options(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(from) {
        return too_many("Too many attempts from this network. Wait a minute and try again.");
    }
    let (form, session, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    // The password first, counted like any sign-in attempt: only then is there a
    // ceremony to finish, so finishing it needs no second check.
    let (jar, device) = device_cookie::of(&svc, jar);
    let checked = login::check_password(
        &svc,
        &user.username,
        &form.current_password,
        &device,
        Some(from.to_string()),
    )
    .await;
    let answer = match checked {
        Ok(_) => options_answer(passkeys::begin_registration(&svc, &user, session.id).await.map(Some)),
        Err(LoginError::Locked(until)) => json_error(&format!(
            "Too many wrong passwords in this browser: this is paused until {} UTC.",
            until.format("%H:%M")
        )),
        Err(LoginError::Accounts(e)) => WebError::from(e).into_response(),
        Err(_) => json_error("That is not your current password. Type it again."),
    };
    (jar, answer).into_response()
}

pub async fn add(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(from) {
        return too_many("Too many attempts from this network. Wait a minute and try again.");
    }
    let (form, session, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    // The ceremony exists only after the password was checked for this session.
    let added =
        passkeys::finish_registration(&svc, &user, session.id, &form.name, &form.credential, &by(&user, from)).await;
    answer("passkey-added", added.map(|_| ()))
}

fn passkey_id(form: &SecurityForm) -> Result<uuid::Uuid, AccountsError> {
    form.passkey
        .parse()
        .map_err(|_| AccountsError::invalid("passkey", "no such passkey"))
}

pub async fn rename(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<SecurityForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(from) {
        return too_many("Too many attempts from this network. Wait a minute and try again.");
    }
    let (form, _, user) = match signed_in(&svc, &jar, form).await {
        Ok(found) => found,
        Err(answer) => return *answer,
    };
    let renamed = match passkey_id(&form) {
        Ok(id) => passkeys::rename(&svc, &user, id, &form.name, &by(&user, from)).await,
        Err(e) => Err(e),
    };
    answer("passkey-renamed", renamed)
}

pub async fn remove(
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
    let removed = match passkey_id(&form) {
        Ok(id) => passkeys::remove(&svc, &user, id, &by(&user, from)).await,
        Err(e) => Err(e),
    };
    (jar, answer("passkey-removed", removed)).into_response()
}
