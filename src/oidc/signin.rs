//! Sign-in as a sequence of steps, each a page of its own: identify, password, then
//! forced password change, then consent. The pending request waits server-side; the
//! browser holds only a random handle to it.
use super::authorize::{self, Checked, Params, Refusal};
use super::{OidcError, pending_request_lifetime};
use super::{clients, redirect};
use crate::accounts::devices::DeviceCookie;
use crate::accounts::login::{self, LoginError};
use crate::accounts::{AccountsError, UserState};
use crate::crypto::{random_token, token_hash};
use crate::oidc::Provider;
use crate::sessions::{self, Session};
use crate::store::{self, StoreError};
use uuid::Uuid;

use crate::model::sign_in::PendingSignIn;
pub use crate::model::sign_in::Stage;

/// A sign-in in progress.
pub struct Pending {
    pub id: Uuid,
    pub handle: String,
    pub stage: Stage,
    pub user_id: Option<Uuid>,
    pub request: Checked,
}

impl Pending {
    pub fn identifier(&self) -> &str {
        self.request.params.login_hint.as_deref().unwrap_or("")
    }
}

/// Where a step leads.
pub enum Step {
    /// Show this stage's page, setting a new session cookie when the user has just
    /// signed in.
    Go(Stage, Option<String>),
    /// Show the same page again with a message (wrong password, policy).
    Retry(String),
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
        created_at: now,
        expires_at: now + pending_request_lifetime(),
    };
    store::auth_requests::insert(svc.store.conn(), &stored, token_hash(&handle)).await?;
    Ok(Pending {
        id,
        handle,
        stage,
        user_id,
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
) -> Result<bool, OidcError> {
    let moved = store::auth_requests::advance(svc.store.conn(), p.id, p.stage, to, user, params.as_ref()).await?;
    if moved {
        p.stage = to;
        p.user_id = user;
        if let Some(params) = params {
            p.request.params = params;
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
    match move_to(svc, p, Stage::Password, None, Some(params)).await {
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
    ip: Option<String>,
    old: Option<Session>,
) -> Step {
    let user = match login::check_password(svc, p.identifier(), password_text, device, ip).await {
        Ok(u) => u,
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
    if user.must_change_password {
        return match move_to(svc, p, Stage::ChangePassword, Some(user.id), None).await {
            Ok(_) => Step::Go(Stage::ChangePassword, None),
            Err(e) => e.into(),
        };
    }
    signed_in(svc, p, user.id, old).await
}

/// Step 3 (when required): a new password, twice.
pub async fn change_password(svc: &Provider, p: &mut Pending, new: &str, confirm: &str, old: Option<Session>) -> Step {
    let Some(user_id) = p.user_id.filter(|_| p.stage == Stage::ChangePassword) else {
        return Step::Go(Stage::Identify, None);
    };
    if new != confirm {
        return Step::Retry("The two passwords are not the same.".into());
    }
    let user = match store::users::find_by_id(svc.store.conn(), user_id).await {
        // The forced change must still be owed: a reset, a disable or a lock since the
        // password step ends this sign-in.
        Ok(Some(u)) if u.must_change_password && u.state(svc.now()) == UserState::Active => u,
        Ok(_) => return Step::Go(Stage::Identify, None),
        Err(e) => return e.into(),
    };
    match crate::accounts::users::change_own_password(svc, &user, new).await {
        Ok(()) => {}
        Err(AccountsError::WeakPassword(why)) => return Step::Retry(why),
        Err(e) => return OidcError::from(e).into(),
    }
    // The change ended every session of this user, this browser's too.
    let old = old.filter(|o| o.user_id != user.id);
    signed_in(svc, p, user.id, old).await
}

/// Step 4 (when required): consent.
pub async fn consent(svc: &Provider, p: &mut Pending, allow: bool, session: Option<Session>) -> Step {
    let Some(session) = session.filter(|s| Some(s.user_id) == p.user_id && p.stage == Stage::Consent) else {
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
async fn signed_in(svc: &Provider, p: &mut Pending, user_id: Uuid, old: Option<Session>) -> Step {
    let now = svc.now();
    let result: Result<(Session, String), StoreError> = async {
        let Some(old) = old else {
            // No earlier session on this browser: one insert, no transaction needed.
            return sessions::start(svc.store.conn(), user_id, "pwd", &["pwd"], now).await;
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
            Some(same) => sessions::renew(&tx, &same, "pwd", &["pwd"], now).await?,
            None => sessions::start(&tx, user_id, "pwd", &["pwd"], now).await?,
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
            return match move_to(svc, p, Stage::Consent, Some(user_id), None).await {
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
