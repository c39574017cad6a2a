//! Passkeys in the sign-in: alone from the identify step (a discoverable credential
//! names its user), or as the second factor after the password.
use super::codes::locked_here;
use super::{AMR_HARDWARE_KEY, AMR_MFA, AMR_PASSWORD, AMR_SOFTWARE_KEY, Browser, Pending, Step, proceed, user_at};
use crate::accounts::devices::DeviceCookie;
use crate::accounts::login::{self, LoginError};
use crate::accounts::{AccountsError, passkeys};
use crate::model::sign_in::Stage;
use crate::oidc::{OidcError, Provider};

const NOT_ACCEPTED: &str = "The passkey was not accepted. Try again, or sign in another way.";

fn key_amr(synced: bool) -> String {
    if synced { AMR_SOFTWARE_KEY } else { AMR_HARDWARE_KEY }.to_string()
}

/// The options for the browser's passkey prompt at this sign-in's step, as JSON: any
/// passkey for this site at the identify step, the user's own at the second factor.
/// None where the step takes no passkey (or the user has none).
pub async fn passkey_options(svc: &Provider, p: &Pending) -> Result<Option<String>, AccountsError> {
    match p.stage {
        Stage::Identify | Stage::Password => passkeys::begin_discovery(svc, p.id).await.map(Some),
        Stage::SecondFactor => match user_at(svc, p, Stage::SecondFactor).await? {
            Some(user) => passkeys::begin_second_factor(svc, &user, p.id).await,
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The browser's answer to the passkey prompt (JSON).
pub async fn passkey(svc: &Provider, p: &mut Pending, response: &str, device: &DeviceCookie, browser: Browser) -> Step {
    let ip = browser.origin.ip.clone();
    match p.stage {
        Stage::Identify | Stage::Password => {
            let used = match passkeys::finish_sign_in(svc, p.id, None, response, ip.clone()).await {
                Ok(used) => used,
                Err(AccountsError::Invalid { .. }) => return Step::Retry(NOT_ACCEPTED.into()),
                Err(e) => return OidcError::from(e).into(),
            };
            let user = match login::passkey_signed_in(svc, used.user, device, ip).await {
                Ok(user) => user,
                Err(LoginError::Accounts(e)) => return OidcError::from(e).into(),
                Err(_) => return Step::Retry(NOT_ACCEPTED.into()),
            };
            let amr = vec![key_amr(used.synced), AMR_MFA.into()];
            proceed(svc, p, &user, amr, None, browser).await
        }
        Stage::SecondFactor => {
            let user = match user_at(svc, p, Stage::SecondFactor).await {
                Ok(Some(u)) => u,
                Ok(None) => return Step::Go(Stage::Identify, None),
                Err(e) => return e.into(),
            };
            let mut synced = false;
            let owner = p.id;
            // Counted like a code: the browser's bucket must be unlocked, and a refused
            // answer counts towards the lockout.
            let checked = login::check_second_factor(svc, &user, device, "passkey", ip.clone(), async || {
                match passkeys::finish_sign_in(svc, owner, Some(&user), response, ip).await {
                    Ok(used) => {
                        synced = used.synced;
                        Ok(true)
                    }
                    Err(AccountsError::Invalid { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            })
            .await;
            match checked {
                Ok(()) => {}
                Err(LoginError::Locked(until)) => return Step::Retry(locked_here(until)),
                Err(LoginError::Accounts(e)) => return OidcError::from(e).into(),
                Err(_) => return Step::Retry(NOT_ACCEPTED.into()),
            }
            let amr = vec![AMR_PASSWORD.into(), key_amr(synced), AMR_MFA.into()];
            proceed(svc, p, &user, amr, None, browser).await
        }
        _ => Step::Go(Stage::Identify, None),
    }
}
