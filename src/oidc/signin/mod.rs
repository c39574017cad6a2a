//! Sign-in as a sequence of steps, each a page of its own: identify, password, then
//! the second factor (when the user has one), forced password change, setting up a
//! second factor (when one is required and there is none), then consent. The pending
//! request waits server-side, with what the person has proven so far; the browser
//! holds only a random handle to it.
use super::authorize::{self, Checked, Params, Refusal};
use super::{OidcError, pending_request_lifetime};
use super::{clients, redirect};
use crate::accounts::devices::DeviceCookie;
use crate::accounts::login::{self, LoginError};
use crate::accounts::{AccountsError, User, second_factor};
use crate::crypto::{random_token, token_hash};
use crate::oidc::Provider;
use crate::sessions::{self, Origin, Session};
use crate::store::{self, StoreError};
use uuid::Uuid;

use crate::model::sign_in::PendingSignIn;
pub use crate::model::sign_in::Stage;

mod codes;
mod passkey;
pub use codes::{enrol_totp, recovery_codes_seen, second_factor};
pub use passkey::{passkey, passkey_options};

/// A sign-in in progress.
pub struct Pending {
    pub id: Uuid,
    pub handle: String,
    pub stage: Stage,
    pub user_id: Option<Uuid>,
    /// What the person has proven so far (RFC 8176 values).
    pub amr: Vec<String>,
    pub request: Checked,
}

impl Pending {
    pub fn identifier(&self) -> &str {
        self.request.params.login_hint.as_deref().unwrap_or("")
    }
}

/// The browser a step comes from: its Tessera session, if any, and where it is.
pub struct Browser {
    pub session: Option<Session>,
    pub origin: Origin,
}

/// Where a step leads.
pub enum Step {
    /// Show this stage's page, setting a new session cookie when the user has just
    /// signed in.
    Go(Stage, Option<String>),
    /// Show the same page again with a message (wrong password, policy).
    Retry(String),
    /// Show the recovery codes just made, once.
    Codes(Vec<String>),
    /// Done: give the client its answer, and set this session cookie if new.
    Finish {
        location: String,
        new_session: Option<String>,
    },
    Refused(Refusal),
}

impl From<OidcError> for Step {
    fn from(e: OidcError) -> Self {
        Step::Refused(Refusal::Failed(e))
    }
}

impl From<StoreError> for Step {
    fn from(e: StoreError) -> Self {
        Step::Refused(Refusal::Failed(e.into()))
    }
}

/// Keeps the request server-side and gives the sign-in that waits on it.
pub async fn begin(svc: &Provider, req: Checked, stage: Stage, user_id: Option<Uuid>) -> Result<Pending, OidcError> {
    let handle = random_token();
    let now = svc.now();
    let id = Uuid::now_v7();
    let stored = PendingSignIn {
        id,
        client_id: req.client.id.clone(),
        params: req.params.clone(),
        user_id,
        stage,
        amr: Vec::new(),
        created_at: now,
        expires_at: now + pending_request_lifetime(),
    };
    store::auth_requests::insert(svc.store.conn(), &stored, token_hash(&handle)).await?;
    Ok(Pending {
        id,
        handle,
        stage,
        user_id,
        amr: Vec::new(),
        request: req,
    })
}

/// The pending request behind a handle, re-checked (the client may have changed).
pub async fn load(svc: &Provider, handle: &str) -> Result<Option<Pending>, Refusal> {
    let Some(stored) = store::auth_requests::find_live(svc.store.reader(), &token_hash(handle), svc.now()).await?
    else {
        return Ok(None);
    };
    let request = authorize::check(svc, stored.params).await?;
    Ok(Some(Pending {
        id: stored.id,
        handle: handle.to_string(),
        stage: stored.stage,
        user_id: stored.user_id,
        amr: stored.amr,
        request,
    }))
}

/// Moves the sign-in on to `to`, in the store and in `p`. False when another request
/// moved it first (the stored stage was no longer `p`'s).
async fn move_to(
    svc: &Provider,
    p: &mut Pending,
    to: Stage,
    user: Option<Uuid>,
    params: Option<Params>,
    amr: Option<Vec<String>>,
) -> Result<bool, OidcError> {
    let moved = store::auth_requests::advance(
        svc.store.conn(),
        p.id,
        p.stage,
        to,
        user,
        params.as_ref(),
        amr.as_deref(),
    )
    .await?;
    if moved {
        p.stage = to;
        p.user_id = user;
        if let Some(params) = params {
            p.request.params = params;
        }
        if let Some(amr) = amr {
            p.amr = amr;
        }
    }
    Ok(moved)
}

/// Step 1: who. Always goes on to the password step, so nothing tells whether the
/// account exists.
pub async fn identify(svc: &Provider, p: &mut Pending, identifier: &str) -> Step {
    let identifier = identifier.trim();
    if identifier.is_empty() {
        return Step::Retry("Enter your username or email address.".into());
    }
    // It is kept with the request as its login_hint, so it is bounded like one.
    if identifier.len() > super::request_limits::LOGIN_HINT {
        return Step::Retry("That is longer than any username or email address.".into());
    }
    let mut params = p.request.params.clone();
    params.login_hint = Some(identifier.to_string());
    match move_to(svc, p, Stage::Password, None, Some(params), Some(Vec::new())).await {
        Ok(_) => Step::Go(Stage::Password, None),
        Err(e) => e.into(),
    }
}

pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// Step 2: the password.
pub async fn password(
    svc: &Provider,
    p: &mut Pending,
    password_text: &str,
    device: &DeviceCookie,
    browser: Browser,
) -> Step {
    let ip = browser.origin.ip.clone();
    let (user, factors) = match login::check_password_step(svc, p.identifier(), password_text, device, ip).await {
        Ok(found) => found,
        Err(LoginError::InvalidCredentials) => return Step::Retry(WRONG_CREDENTIALS.into()),
        Err(LoginError::Locked(until)) => {
            return Step::Retry(format!(
                "Too many wrong passwords in this browser: signing in here is paused until {} UTC. \
                 Wait until then, choose a new password with \"Forgot your password?\", or ask your \
                 administrator to unlock your account.",
                until.format("%H:%M")
            ));
        }
        Err(LoginError::TemporaryPasswordExpired) => {
            return Step::Retry(
                "This temporary password has expired. Ask your administrator for a new one, or choose \
                 a new password with \"Forgot your password?\"."
                    .into(),
            );
        }
        Err(LoginError::Accounts(e)) => return OidcError::from(e).into(),
    };
    proceed(svc, p, &user, vec![AMR_PASSWORD.into()], Some(factors), browser).await
}

/// RFC 8176 values: a password; a one-time code (authenticator app or recovery code);
/// a passkey bound to one device (hardware key), or synced (software key); more than
/// one factor.
pub const AMR_PASSWORD: &str = "pwd";
pub const AMR_OTP: &str = "otp";
pub const AMR_HARDWARE_KEY: &str = "hwk";
pub const AMR_SOFTWARE_KEY: &str = "swk";
pub const AMR_MFA: &str = "mfa";
/// The `acr` values Tessera issues and accepts in `acr_values`: password only, or a
/// second factor too.
pub const ACR_PASSWORD: &str = "pwd";
pub const ACR_SECOND_FACTOR: &str = "mfa";

/// Whether the application asked for a second factor (`acr_values`).
pub fn asks_second_factor(params: &Params) -> bool {
    params
        .acr_values
        .as_deref()
        .is_some_and(|v| v.split_whitespace().any(|a| a == ACR_SECOND_FACTOR))
}

fn with_second_factor() -> Vec<String> {
    [AMR_PASSWORD, AMR_OTP, AMR_MFA].map(String::from).to_vec()
}

/// After a step that proved something (`amr` so far), the step this user owes next:
/// the second factor they have, a forced password change, setting one up when it is
/// required; else they are signed in.
/// `factors`: when the caller knows already which second factors the user has.
async fn proceed(
    svc: &Provider,
    p: &mut Pending,
    user: &User,
    amr: Vec<String>,
    factors: Option<second_factor::Factors>,
    browser: Browser,
) -> Step {
    let second = amr.iter().any(|a| a == AMR_MFA);
    if !second {
        let factors = match factors {
            Some(known) => Ok(known),
            None => second_factor::factors(svc, user.id).await,
        };
        match factors {
            Ok(f) if f.any() => return go(svc, p, Stage::SecondFactor, user.id, amr).await,
            Ok(_) => {}
            Err(e) => return e.into(),
        }
    }
    if user.must_change_password {
        return go(svc, p, Stage::ChangePassword, user.id, amr).await;
    }
    if !second {
        match second_factor::required(svc, user).await {
            Ok(required) if required || asks_second_factor(&p.request.params) => {
                return go(svc, p, Stage::EnrolTotp, user.id, amr).await;
            }
            Ok(_) => {}
            Err(e) => return e.into(),
        }
    }
    signed_in(svc, p, user.id, amr, browser).await
}

async fn go(svc: &Provider, p: &mut Pending, stage: Stage, user_id: Uuid, amr: Vec<String>) -> Step {
    match move_to(svc, p, stage, Some(user_id), None, Some(amr)).await {
        Ok(_) => Step::Go(stage, None),
        Err(e) => e.into(),
    }
}

/// The user this sign-in is at `stage` for, while still active; else None.
async fn user_at(svc: &Provider, p: &Pending, stage: Stage) -> Result<Option<User>, StoreError> {
    let Some(user_id) = p.user_id.filter(|_| p.stage == stage) else {
        return Ok(None);
    };
    Ok(store::users::find_by_id(svc.store.conn(), user_id)
        .await?
        .filter(|u| u.may_hold_tokens(svc.now())))
}

/// Step 3 (when required): a new password, twice.
pub async fn change_password(svc: &Provider, p: &mut Pending, new: &str, confirm: &str, browser: Browser) -> Step {
    let Some(user_id) = p.user_id.filter(|_| p.stage == Stage::ChangePassword) else {
        return Step::Go(Stage::Identify, None);
    };
    if new != confirm {
        return Step::Retry("The two passwords are not the same.".into());
    }
    let user = match store::users::find_by_id(svc.store.conn(), user_id).await {
        // The forced change must still be owed: a reset, a disable or a lock since the
        // password step ends this sign-in.
        Ok(Some(u)) if u.must_change_password && u.active => u,
        Ok(_) => return Step::Go(Stage::Identify, None),
        Err(e) => return e.into(),
    };
    match crate::accounts::users::change_own_password(svc, &user, new, Some(p.id)).await {
        Ok(()) => {}
        Err(AccountsError::WeakPassword(why)) => return Step::Retry(why),
        Err(e) => return OidcError::from(e).into(),
    }
    // The change ended every session of this user, this browser's too.
    let browser = Browser {
        session: browser.session.filter(|o| o.user_id != user.id),
        ..browser
    };
    let user = User {
        must_change_password: false,
        ..user
    };
    let amr = p.amr.clone();
    proceed(svc, p, &user, amr, None, browser).await
}

/// Step 4 (when required): consent.
pub async fn consent(svc: &Provider, p: &mut Pending, allow: bool, browser: Browser) -> Step {
    let Some(session) = browser
        .session
        .filter(|s| Some(s.user_id) == p.user_id && p.stage == Stage::Consent)
    else {
        return Step::Go(Stage::Identify, None);
    };
    if !allow {
        let _ = store::auth_requests::delete(svc.store.conn(), p.id).await;
        return Step::Refused(p.request.refuse("access_denied", "the user did not consent"));
    }
    let now = svc.now();
    if let Err(e) = store::grants::save_consent(
        svc.store.conn(),
        session.user_id,
        &p.request.client.id,
        &p.request.scope(),
        now,
    )
    .await
    {
        return e.into();
    }
    finish(svc, p, &session, None).await
}

/// The user proved who they are: start (or re-key) the browser's session, then go on
/// to consent or straight back to the client.
async fn signed_in(svc: &Provider, p: &mut Pending, user_id: Uuid, amr: Vec<String>, browser: Browser) -> Step {
    let (old, origin) = (browser.session, browser.origin);
    let now = svc.now();
    let acr = if amr.iter().any(|a| a == AMR_MFA) {
        ACR_SECOND_FACTOR
    } else {
        ACR_PASSWORD
    };
    let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
    let amr = amr.as_slice();
    let result: Result<(Session, String), StoreError> = async {
        let Some(old) = old else {
            // No earlier session on this browser: one insert, no transaction needed.
            return sessions::start(svc.store.conn(), user_id, acr, amr, &origin, now).await;
        };
        let old = Some(old);
        let tx = svc.store.begin().await?;
        if let Some(old) = &old {
            // A different user on this browser: the old sign-in ends for good.
            if old.user_id != user_id {
                sessions::end(&tx, old, now).await?;
            }
        }
        let started = match old.filter(|o| o.user_id == user_id) {
            Some(same) => sessions::renew(&tx, &same, acr, amr, &origin, now).await?,
            None => sessions::start(&tx, user_id, acr, amr, &origin, now).await?,
        };
        tx.commit().await?;
        Ok(started)
    }
    .await;
    let (session, cookie) = match result {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    if !p.request.allows_user(user_id) {
        let why = "the application asked for another user to sign in";
        return denied_after_sign_in(svc, p, why, cookie).await;
    }
    if !matches!(clients::admits(svc, &p.request.client, user_id).await, Ok(true)) {
        let why = "this user may not use this application";
        return denied_after_sign_in(svc, p, why, cookie).await;
    }
    match authorize::needs_consent(svc, &p.request, &session).await {
        Ok(true) => {
            return match move_to(svc, p, Stage::Consent, Some(user_id), None, None).await {
                Ok(_) => Step::Go(Stage::Consent, Some(cookie)),
                Err(e) => e.into(),
            };
        }
        Ok(false) => {}
        Err(r) => return Step::Refused(r),
    }
    finish(svc, p, &session, Some(cookie)).await
}

/// The user signed in, but may not have what the request asks: the client hears
/// access_denied, and the browser keeps its new session.
async fn denied_after_sign_in(svc: &Provider, p: &Pending, description: &str, cookie: String) -> Step {
    let _ = store::auth_requests::delete(svc.store.conn(), p.id).await;
    match p.request.refuse("access_denied", description) {
        Refusal::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => Step::Finish {
            location: redirect::error_location(
                svc.config.issuer_id(),
                &redirect_uri,
                error,
                &description,
                state.as_deref(),
            ),
            new_session: Some(cookie),
        },
        other => Step::Refused(other),
    }
}

async fn finish(svc: &Provider, p: &Pending, session: &Session, new_session: Option<String>) -> Step {
    let _ = store::auth_requests::delete(svc.store.conn(), p.id).await;
    match super::grants::authorization_code::issue_code(svc, &p.request, session).await {
        Ok(location) => Step::Finish { location, new_session },
        Err(e) => e.into(),
    }
}
