//! The sign-in's second-factor steps: a code from the authenticator app or a recovery
//! code, setting up an app where one is required, and the recovery codes page.
use super::{Browser, Pending, Step, go, move_to, proceed, user_at, with_second_factor};
use crate::accounts::devices::DeviceCookie;
use crate::accounts::login::{self, LoginError};
use crate::accounts::users::By;
use crate::accounts::{AccountsError, second_factor};
use crate::audit::Actor;
use crate::model::sign_in::Stage;
use crate::oidc::{OidcError, Provider};

const WRONG_CODE: &str = "That code is not right. Type the code your app shows now: it changes every 30 seconds.";

pub(super) fn locked_here(until: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "Too many wrong tries in this browser: signing in here is paused until {} UTC. \
         Wait until then, or ask your administrator to unlock your account.",
        until.format("%H:%M")
    )
}

/// Step 3 (when the user has one): a code from the authenticator app, or one of the
/// recovery codes. Wrong codes count towards the lockout like wrong passwords.
pub async fn second_factor(
    svc: &Provider,
    p: &mut Pending,
    code: &str,
    recovery: bool,
    device: &DeviceCookie,
    browser: Browser,
) -> Step {
    let ip = browser.origin.ip.clone();
    let user = match user_at(svc, p, Stage::SecondFactor).await {
        Ok(Some(u)) => u,
        Ok(None) => return Step::Go(Stage::Identify, None),
        Err(e) => return e.into(),
    };
    let by = By {
        actor: Actor::user(user.id, &user.username),
        source_ip: ip.clone(),
    };
    let mut remaining = None;
    let method = if recovery { "recovery_code" } else { "totp" };
    let checked = login::check_second_factor(svc, &user, device, method, ip, async || {
        if recovery {
            remaining = second_factor::use_recovery_code(svc, &user, code, &by).await?;
            Ok(remaining.is_some())
        } else {
            second_factor::check_totp(svc, &user, code).await
        }
    })
    .await;
    match checked {
        Ok(()) => {}
        Err(LoginError::Locked(until)) => return Step::Retry(locked_here(until)),
        Err(LoginError::Accounts(e)) => return OidcError::from(e).into(),
        Err(_) if recovery => {
            return Step::Retry("That is not one of your unused recovery codes.".into());
        }
        Err(_) => return Step::Retry(WRONG_CODE.into()),
    }
    if remaining.is_some() {
        // Say how many recovery codes are left before going on.
        return go(svc, p, Stage::RecoveryCodes, user.id, with_second_factor()).await;
    }
    proceed(svc, p, &user, with_second_factor(), None, browser).await
}

/// Setting up an authenticator app during sign-in, when a second factor is required
/// (by policy or by the application) and the user has none: confirmed by a code from it.
pub async fn enrol_totp(svc: &Provider, p: &mut Pending, code: &str, browser: &Browser) -> Step {
    let user = match user_at(svc, p, Stage::EnrolTotp).await {
        Ok(Some(u)) => u,
        Ok(None) => return Step::Go(Stage::Identify, None),
        Err(e) => return e.into(),
    };
    let by = By {
        actor: Actor::user(user.id, &user.username),
        source_ip: browser.origin.ip.clone(),
    };
    match second_factor::confirm_enrolment(svc, &user, p.id, code, &by).await {
        Ok(codes) => match move_to(
            svc,
            p,
            Stage::RecoveryCodes,
            Some(user.id),
            None,
            Some(with_second_factor()),
        )
        .await
        {
            Ok(_) => Step::Codes(codes),
            Err(e) => e.into(),
        },
        Err(AccountsError::WrongCode) => Step::Retry(WRONG_CODE.into()),
        Err(AccountsError::Invalid { message, .. }) => Step::Retry(message),
        Err(e) => OidcError::from(e).into(),
    }
}

/// After the recovery codes were shown (or one was used): on with the sign-in.
pub async fn recovery_codes_seen(svc: &Provider, p: &mut Pending, browser: Browser) -> Step {
    let user = match user_at(svc, p, Stage::RecoveryCodes).await {
        Ok(Some(u)) => u,
        Ok(None) => return Step::Go(Stage::Identify, None),
        Err(e) => return e.into(),
    };
    let amr = p.amr.clone();
    proceed(svc, p, &user, amr, None, browser).await
}
