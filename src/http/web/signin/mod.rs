//! The hosted sign-in pages: one per step (identify, password, second factor,
//! change-password, authenticator set-up, recovery codes, consent), plain forms
//! without JavaScript. The browser holds only `r`, a random
//! handle to the pending authorization request kept server-side.
use super::{csrf, device_cookie, page_leading_to, session_cookie};

mod codes;
mod passkey;
use crate::accounts::password::MAX_LENGTH;
use crate::accounts::second_factor;
use crate::http::answers::{self, Unserved, past_body_limit};
use crate::http::oidc::{redirect, refusal_response, signin_page};
use crate::http::{AppState, BrowserOrigin, WebError, too_many};
use crate::oidc::Provider;
use crate::oidc::signin::{self, Browser, Pending, Stage, Step};
use crate::sessions::Origin;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin/identify", get(identify_page).post(identify))
        .route("/signin/password", get(password_page).post(password))
        .route(
            "/signin/change-password",
            get(change_password_page).post(change_password),
        )
        .route("/signin/consent", get(consent_page).post(consent))
        .route(
            "/signin/second-factor",
            get(codes::second_factor_page).post(codes::second_factor),
        )
        .route(
            "/signin/enrol-totp",
            get(codes::enrol_totp_page).post(codes::enrol_totp),
        )
        .route(
            "/signin/recovery-codes",
            get(codes::recovery_codes_page).post(codes::recovery_codes),
        )
        .route("/signin/passkey/options", post(passkey::options))
        .route("/signin/passkey", post(passkey::sign_in))
        .route("/signin/second-factor/passkey", post(passkey::second_factor))
}

#[derive(Template)]
#[template(path = "signin/second_factor.html")]
struct SecondFactorPage<'a> {
    csrf: &'a str,
    r: &'a str,
    organisation: &'a str,
    username: &'a str,
    recovery: bool,
    /// Which second factors the user has, and whether recovery codes are left.
    totp: bool,
    passkey: bool,
    recovery_left: bool,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signin/enrol_totp.html")]
pub(crate) struct EnrolTotpPage<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub r: &'a str,
    /// The account page asks for the password again when the sign-in is not recent.
    pub confirm_password: bool,
    pub organisation: &'a str,
    pub qr_svg: &'a str,
    pub key_text: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signin/recovery_codes.html")]
pub(crate) struct RecoveryCodesPage<'a> {
    pub csrf: &'a str,
    pub r: &'a str,
    pub codes: Option<&'a [String]>,
    pub remaining: u64,
}

/// What some steps' pages show beyond the common fields.
#[derive(Default)]
pub(crate) struct Extra<'a> {
    /// The second-factor page asks for a recovery code instead of an app's code.
    pub recovery: bool,
    /// Recovery codes just made, shown once.
    pub codes: Option<&'a [String]>,
}

#[derive(Template)]
#[template(path = "signin/identify.html")]
struct IdentifyPage<'a> {
    csrf: &'a str,
    r: &'a str,
    client_name: &'a str,
    username: &'a str,
    /// Passkeys work here (the issuer has a host name).
    passkeys: bool,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signin/password.html")]
struct PasswordPage<'a> {
    csrf: &'a str,
    r: &'a str,
    client_name: &'a str,
    username: &'a str,
    max_length: usize,
    lockout_threshold: u32,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signin/change_password.html")]
struct ChangePasswordPage<'a> {
    csrf: &'a str,
    r: &'a str,
    client_name: &'a str,
    min_length: usize,
    max_length: usize,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signin/consent.html")]
struct ConsentPage<'a> {
    csrf: &'a str,
    r: &'a str,
    client_name: &'a str,
    asks: Vec<&'static str>,
}

#[derive(Deserialize)]
pub struct Handle {
    #[serde(default)]
    r: String,
    #[serde(default)]
    recovery: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    r: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    method: String,
    /// The browser's answer to a passkey prompt (JSON).
    #[serde(default)]
    credential: String,
}

fn expired() -> Response {
    WebError::BadRequest(
        "This sign-in has expired or was already finished. Go back to the application and sign in again.".into(),
    )
    .into_response()
}

/// The pending request behind `r`, when it is at one of `stages`; otherwise the
/// response that puts the browser where it belongs.
async fn pending_at(svc: &Provider, handle: &str, stages: &[Stage]) -> Result<Pending, Response> {
    if handle.is_empty() {
        return Err(expired());
    }
    match signin::load(svc, handle).await {
        Ok(Some(p)) if stages.contains(&p.stage) => Ok(p),
        Ok(Some(p)) => Err(redirect(&signin_page(p.stage, handle))),
        Ok(None) => Err(expired()),
        Err(refusal) => Err(refusal_response(svc, refusal)),
    }
}

/// The user a step's page is about, when the sign-in knows them.
async fn user_of(svc: &Provider, p: &Pending) -> Result<Option<crate::accounts::User>, Response> {
    let Some(id) = p.user_id else {
        return Ok(None);
    };
    crate::accounts::users::find_by_id(svc, id)
        .await
        .map_err(|e| WebError::from(e).into_response())
}

/// Renders a stage's page, with a CSRF field and an optional message.
pub(crate) async fn render(
    svc: &Provider,
    jar: CookieJar,
    p: &Pending,
    stage: Stage,
    error: Option<&str>,
    extra: &Extra<'_>,
) -> Response {
    let (jar, csrf) = csrf::issue(jar, &svc.secret, svc.config.secure_cookies());
    let settings = svc.settings();
    let organisation = settings.organisation_name.as_str();
    let client_name = p.request.client.name.as_str();
    let r = p.handle.as_str();
    // Any step's answer may be the redirect back to the client, with a code or an error.
    let target = Some(p.request.redirect_uri.as_str());
    let body = match stage {
        Stage::Identify => page_leading_to(
            StatusCode::OK,
            &IdentifyPage {
                csrf: &csrf,
                r,
                client_name,
                username: p.identifier(),
                passkeys: svc.passkeys.is_some(),
                error,
            },
            target,
        ),
        Stage::Password => page_leading_to(
            StatusCode::OK,
            &PasswordPage {
                csrf: &csrf,
                r,
                client_name,
                username: p.identifier(),
                max_length: MAX_LENGTH,
                lockout_threshold: svc.settings().lockout_threshold,
                error,
            },
            target,
        ),
        Stage::ChangePassword => page_leading_to(
            StatusCode::OK,
            &ChangePasswordPage {
                csrf: &csrf,
                r,
                client_name,
                min_length: svc.settings().password_min_length,
                max_length: MAX_LENGTH,
                error,
            },
            target,
        ),
        Stage::SecondFactor => {
            let username = match user_of(svc, p).await {
                Ok(Some(u)) => u.username,
                Ok(None) => return expired(),
                Err(r) => return r,
            };
            let (factors, left) = match second_factor::factors_and_codes(svc, p.user_id.unwrap_or_default()).await {
                Ok(found) => found,
                Err(e) => return WebError::from(e).into_response(),
            };
            let passkey = factors.passkeys && svc.passkeys.is_some();
            let body = SecondFactorPage {
                csrf: &csrf,
                r,
                organisation,
                username: &username,
                // With neither an app nor a usable passkey, a recovery code is all there is.
                recovery: extra.recovery || (!factors.totp && !passkey),
                totp: factors.totp,
                passkey,
                recovery_left: left > 0,
                error,
            };
            page_leading_to(StatusCode::OK, &body, target)
        }
        Stage::EnrolTotp => {
            let user = match user_of(svc, p).await {
                Ok(Some(u)) => u,
                Ok(None) => return expired(),
                Err(r) => return r,
            };
            let enrolment = match second_factor::begin_enrolment(svc, &user, p.id).await {
                Ok(e) => e,
                Err(e) => return WebError::from(e).into_response(),
            };
            let body = EnrolTotpPage {
                action: "/signin/enrol-totp",
                csrf: &csrf,
                r,
                confirm_password: false,
                organisation,
                qr_svg: &enrolment.qr_svg,
                key_text: &enrolment.key_text,
                error,
            };
            page_leading_to(StatusCode::OK, &body, target)
        }
        Stage::RecoveryCodes => {
            let remaining = match p.user_id {
                Some(id) => second_factor::recovery_codes_left(svc, id).await.unwrap_or(0),
                None => 0,
            };
            let body = RecoveryCodesPage {
                csrf: &csrf,
                r,
                codes: extra.codes,
                remaining,
            };
            page_leading_to(StatusCode::OK, &body, target)
        }
        Stage::Consent => page_leading_to(
            StatusCode::OK,
            &ConsentPage {
                csrf: &csrf,
                r,
                client_name,
                asks: p.request.scopes.iter().filter_map(|s| describe_scope(s)).collect(),
            },
            target,
        ),
    };
    (jar, body).into_response()
}

fn describe_scope(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are",
        "profile" => "See your name, username and language",
        "email" => "See your email address",
        "phone" => "See your phone number",
        "address" => "See your postal address",
        "groups" => "See which groups you belong to",
        "offline_access" => "Keep access while you are away",
        _ => return None,
    })
}

async fn show(svc: &Provider, jar: CookieJar, handle: &str, stage: Stage, also: &[Stage], recovery: bool) -> Response {
    let mut stages = vec![stage];
    stages.extend_from_slice(also);
    let extra = Extra {
        recovery,
        ..Extra::default()
    };
    match pending_at(svc, handle, &stages).await {
        Ok(p) => render(svc, jar, &p, stage, None, &extra).await,
        Err(r) => r,
    }
}

/// Answers a step's form: checks CSRF and the stage, runs the step, follows its result.
async fn answer(
    svc: &Provider,
    jar: CookieJar,
    origin: Origin,
    form: Result<Form<StepForm>, FormRejection>,
    stage: Stage,
    also: &[Stage],
    run: impl AsyncFnOnce(&Provider, &mut Pending, &StepForm, Browser) -> Step,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) if past_body_limit(&e) => return answers::page(Unserved::TooLarge).into_response(),
        Err(_) => {
            return WebError::BadRequest("This form could not be read. Go back and try again.".into()).into_response();
        }
    };
    if !csrf::verify(&jar, &svc.secret, svc.config.secure_cookies(), &form.csrf) {
        return WebError::Forbidden(
            "This form has expired or was not sent from Tessera's own page. Go back to the application and sign in again."
                .into(),
        )
        .into_response();
    }
    let mut stages = vec![stage];
    stages.extend_from_slice(also);
    let mut p = match pending_at(svc, &form.r, &stages).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let session = match session_cookie::current(svc, &jar).await {
        Ok(s) => s,
        Err(e) => return WebError::from(e).into_response(),
    };
    match run(svc, &mut p, &form, Browser { session, origin }).await {
        Step::Go(next, cookie) => {
            let jar = match cookie {
                Some(value) => session_cookie::set(svc, jar, value),
                None => jar,
            };
            // The next step's page comes in this answer: a redirect to it would cost the
            // browser one more round trip per step. When the stored sign-in is not at
            // that step (another tab moved it), its own page sorts that out.
            if p.stage == next {
                render(svc, jar, &p, next, None, &Extra::default()).await
            } else {
                (jar, redirect(&signin_page(next, &p.handle))).into_response()
            }
        }
        Step::Retry(message) => {
            let extra = Extra {
                recovery: form.method == "recovery",
                ..Extra::default()
            };
            render(svc, jar, &p, stage, Some(&message), &extra).await
        }
        Step::Codes(codes) => {
            let extra = Extra {
                codes: Some(&codes),
                ..Extra::default()
            };
            render(svc, jar, &p, Stage::RecoveryCodes, None, &extra).await
        }
        Step::Finish { location, new_session } => {
            let jar = match new_session {
                Some(value) => session_cookie::set(svc, jar, value),
                None => jar,
            };
            (jar, redirect(&location)).into_response()
        }
        Step::Refused(refusal) => refusal_response(svc, refusal),
    }
}

async fn identify_page(State(svc): State<AppState>, jar: CookieJar, Query(h): Query<Handle>) -> Response {
    // Reachable from the password page too ("Not you?").
    show(&svc, jar, &h.r, Stage::Identify, &[Stage::Password], false).await
}

async fn identify(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::Identify,
        &[Stage::Password],
        async |svc, p, f, _| signin::identify(svc, p, &f.username).await,
    )
    .await
}

async fn password_page(State(svc): State<AppState>, jar: CookieJar, Query(h): Query<Handle>) -> Response {
    show(&svc, jar, &h.r, Stage::Password, &[], false).await
}

async fn password(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    if !svc.limits.sign_in.check(seen.address) {
        return too_many("Too many sign-in attempts from this network. Wait a minute and try again.");
    }
    // Given before the outcome is known: it names this browser, which is trusted for a
    // user only once that user has signed in with it.
    let (jar, device) = device_cookie::of(&svc, jar);
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::Password,
        &[],
        async |svc, p, f, browser| signin::password(svc, p, &f.password, &device, browser).await,
    )
    .await
}

async fn change_password_page(State(svc): State<AppState>, jar: CookieJar, Query(h): Query<Handle>) -> Response {
    show(&svc, jar, &h.r, Stage::ChangePassword, &[], false).await
}

async fn change_password(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::ChangePassword,
        &[],
        async |svc, p, f, browser| signin::change_password(svc, p, &f.password, &f.password_confirm, browser).await,
    )
    .await
}

async fn consent_page(State(svc): State<AppState>, jar: CookieJar, Query(h): Query<Handle>) -> Response {
    show(&svc, jar, &h.r, Stage::Consent, &[], false).await
}

async fn consent(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::Consent,
        &[],
        async |svc, p, f, browser| signin::consent(svc, p, f.decision == "allow", browser).await,
    )
    .await
}
