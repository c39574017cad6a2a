//! Passkeys (WebAuthn, through webauthn-rs): several per user, each named; used as the
//! second factor after the password, or alone from a discoverable credential, since a
//! passkey verifies its user (PIN or biometrics) itself.
//!
//! Each ceremony's state stays server-side, under the sign-in or session that began
//! it, and answers one response only.
use super::users::By;
use super::{AccountsError, User};
use crate::audit;
use crate::mail::{self, messages};
use crate::model::second_factor::StoredPasskey;
use crate::services::Services;
use crate::store::{self, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// The longest name a passkey may have.
pub const NAME_MAX: usize = 64;
/// The most passkeys one user may have: each is offered at every second-factor prompt.
pub const MOST: usize = 20;

/// The relying party: the issuer's host and origin. None when the issuer's host is an
/// IP address, where browsers offer no passkeys.
pub fn relying_party(issuer: &Url, organisation: &str) -> Option<Arc<Webauthn>> {
    let rp_id = issuer.domain()?;
    let origin = Url::parse(&issuer.origin().ascii_serialization()).ok()?;
    let built = WebauthnBuilder::new(rp_id, &origin).and_then(|b| b.rp_name(organisation).build());
    match built {
        Ok(w) => Some(Arc::new(w)),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off: the issuer is not a valid relying party");
            None
        }
    }
}

/// A ceremony in progress, as kept server-side.
#[derive(Serialize, Deserialize)]
enum Ceremony {
    Register {
        user_id: Uuid,
        state: PasskeyRegistration,
    },
    Authenticate {
        user_id: Uuid,
        state: PasskeyAuthentication,
    },
    Discover {
        state: DiscoverableAuthentication,
    },
}

/// A passkey as the account page lists it.
pub struct Summary {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Kept in a password manager or phone account (synced), not one device.
    pub synced: bool,
}

/// How a passkey sign-in went: the user, and whether the key is synced (RFC 8176 `swk`)
/// or bound to one device (`hwk`).
pub struct Used {
    pub user: User,
    pub synced: bool,
}

fn relying(svc: &Services) -> Result<&Webauthn, AccountsError> {
    svc.passkeys.as_deref().ok_or_else(|| {
        AccountsError::invalid(
            "passkey",
            "passkeys need Tessera to be reached by a host name, not an IP address",
        )
    })
}

/// How long a ceremony's challenge stays good: the time the browser gives the person.
fn challenge_lifetime() -> chrono::Duration {
    chrono::Duration::minutes(5)
}

fn failed(e: impl std::fmt::Display) -> AccountsError {
    AccountsError::SecondFactor(e.to_string())
}

async fn keep(svc: &Services, owner: Uuid, ceremony: &Ceremony) -> Result<(), AccountsError> {
    let state = serde_json::to_string(ceremony).map_err(failed)?;
    let expires = svc.now() + challenge_lifetime();
    store::passkeys::put_challenge(svc.store.conn(), owner, &state, expires).await?;
    Ok(())
}

async fn take(svc: &Services, owner: Uuid) -> Result<Ceremony, AccountsError> {
    let state = store::passkeys::take_challenge(svc.store.conn(), owner, svc.now())
        .await?
        .ok_or_else(refused)?;
    serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(format!("passkey ceremony: {e}")).into())
}

fn refused() -> AccountsError {
    AccountsError::invalid("passkey", "the passkey was not accepted: try again")
}

fn to_passkey(stored: &StoredPasskey) -> Result<Passkey, AccountsError> {
    serde_json::from_str(&stored.credential).map_err(|e| StoreError::Corrupt(format!("passkey: {e}")).into())
}

/// The user's passkeys, oldest first.
pub async fn list(svc: &Services, user_id: Uuid) -> Result<Vec<Summary>, StoreError> {
    Ok(store::passkeys::of_user(svc.store.reader(), user_id)
        .await?
        .into_iter()
        .map(|p| Summary {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            synced: p.backup_eligible,
        })
        .collect())
}

/// Starts adding a passkey, for the session `owner`: the options for the browser's
/// `navigator.credentials.create`, as JSON.
pub async fn begin_registration(svc: &Services, user: &User, owner: Uuid) -> Result<String, AccountsError> {
    let w = relying(svc)?;
    let existing = store::passkeys::of_user(svc.store.reader(), user.id).await?;
    if existing.len() >= MOST {
        return Err(AccountsError::invalid(
            "passkey",
            format!("you have {MOST} passkeys already: remove one you no longer use first"),
        ));
    }
    let exclude = existing
        .iter()
        .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
        .collect::<Vec<_>>();
    let display = user.display_name.as_deref().unwrap_or(&user.username);
    let (mut options, state) = w
        .start_passkey_registration(user.id, &user.username, display, Some(exclude))
        .map_err(failed)?;
    // Discoverable where the authenticator can: that is what lets the person sign in
    // with the passkey alone, without typing a username.
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    keep(
        svc,
        owner,
        &Ceremony::Register {
            user_id: user.id,
            state,
        },
    )
    .await?;
    serde_json::to_string(&options).map_err(failed)
}

/// A passkey's name as given: trimmed, at most 64 characters, no control characters;
/// empty gives "Passkey N".
fn name_of(given: &str, count: u64) -> Result<String, AccountsError> {
    let name = given.trim();
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(AccountsError::invalid(
            "name",
            format!("a passkey's name has at most {NAME_MAX} characters"),
        ));
    }
    Ok(if name.is_empty() {
        format!("Passkey {}", count + 1)
    } else {
        name.to_string()
    })
}

/// Finishes adding a passkey with the browser's answer (JSON): stored under `name`,
/// audited, and the user is mailed that a way to sign in was added.
pub async fn finish_registration(
    svc: &Services,
    user: &User,
    owner: Uuid,
    name: &str,
    response: &str,
    by: &By,
) -> Result<String, AccountsError> {
    let w = relying(svc)?;
    let count = store::passkeys::count(svc.store.reader(), user.id).await?;
    let name = name_of(name, count)?;
    let response: RegisterPublicKeyCredential = serde_json::from_str(response).map_err(|_| refused())?;
    let Ceremony::Register { user_id, state } = take(svc, owner).await? else {
        return Err(refused());
    };
    if user_id != user.id {
        return Err(refused());
    }
    let passkey = w.finish_passkey_registration(&response, &state).map_err(|e| {
        tracing::info!(error = %e, "passkey registration refused");
        refused()
    })?;
    let credential = serde_json::to_value(&passkey).map_err(failed)?;
    let synced = credential
        .pointer("/cred/backup_eligible")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let now = svc.now();
    let stored = StoredPasskey {
        id: Uuid::now_v7(),
        user_id: user.id,
        name: name.clone(),
        credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
        credential: credential.to_string(),
        backup_eligible: synced,
        created_at: now,
        last_used_at: None,
    };
    let tx = svc.store.begin().await?;
    match store::passkeys::insert(&tx, &stored).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AccountsError::invalid("passkey", "this passkey is registered already"));
        }
        Err(e) => return Err(e.into()),
    }
    if user.mail_address().is_some() {
        let method = format!("a passkey named \"{name}\"");
        let message = messages::sign_in_method_added(&svc.settings(), user, &method, now)?;
        mail::queue_for_user(&tx, now, "sign_in_method_added", user, message).await?;
    }
    let detail = serde_json::json!({ "passkey": stored.id, "name": name, "synced": synced });
    audit::record(&tx, &by.event("user.passkey_add", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(name)
}

/// Starts using a passkey as the second factor of the sign-in `owner`: the options for
/// `navigator.credentials.get`, as JSON; None when the user has no passkey.
pub async fn begin_second_factor(svc: &Services, user: &User, owner: Uuid) -> Result<Option<String>, AccountsError> {
    let w = relying(svc)?;
    let stored = store::passkeys::of_user(svc.store.reader(), user.id).await?;
    if stored.is_empty() {
        return Ok(None);
    }
    let keys = stored.iter().map(to_passkey).collect::<Result<Vec<_>, _>>()?;
    let (options, state) = w.start_passkey_authentication(&keys).map_err(failed)?;
    keep(
        svc,
        owner,
        &Ceremony::Authenticate {
            user_id: user.id,
            state,
        },
    )
    .await?;
    serde_json::to_string(&options).map_err(failed).map(Some)
}

/// Starts a sign-in with a passkey alone, for the sign-in `owner`: the browser offers
/// the passkeys it holds for this site, so no username is typed.
pub async fn begin_discovery(svc: &Services, owner: Uuid) -> Result<String, AccountsError> {
    let w = relying(svc)?;
    let (mut options, state) = w.start_discoverable_authentication().map_err(failed)?;
    // webauthn-rs asks for the autofill (conditional) form; this is a button's modal one.
    options.mediation = None;
    keep(svc, owner, &Ceremony::Discover { state }).await?;
    serde_json::to_string(&options).map_err(failed)
}

/// Checks the browser's answer (JSON) to the ceremony of `owner`: for a second factor,
/// it must be one of `expected`'s passkeys; alone, whoever's passkey it is. The user
/// must be active. A signature counter that went backwards (a cloned key) is refused
/// and audited.
pub async fn finish_sign_in(
    svc: &Services,
    owner: Uuid,
    expected: Option<&User>,
    response: &str,
    source_ip: Option<String>,
) -> Result<Used, AccountsError> {
    let w = relying(svc)?;
    let response: PublicKeyCredential = serde_json::from_str(response).map_err(|_| refused())?;
    let ceremony = take(svc, owner).await?;
    let credential_id = URL_SAFE_NO_PAD.encode(&response.raw_id);
    let Some(stored) = store::passkeys::find_by_credential(svc.store.conn(), &credential_id).await? else {
        return Err(refused());
    };
    let user = store::users::find_by_id(svc.store.conn(), stored.user_id)
        .await?
        .filter(|u| u.may_hold_tokens(svc.now()))
        .ok_or_else(refused)?;
    let mut passkey = to_passkey(&stored)?;
    let checked = match ceremony {
        Ceremony::Authenticate { user_id, state } if Some(user_id) == expected.map(|u| u.id) => {
            if user_id != stored.user_id {
                return Err(refused());
            }
            w.finish_passkey_authentication(&response, &state)
        }
        Ceremony::Discover { state } if expected.is_none() => {
            // The user handle the authenticator returns must be the key's own user.
            match w.identify_discoverable_authentication(&response) {
                Ok((handle, _)) if handle == stored.user_id => {}
                _ => return Err(refused()),
            }
            w.finish_discoverable_authentication_v2(&response, state, &passkey)
        }
        _ => return Err(refused()),
    };
    let by = By {
        actor: audit::Actor::user(user.id, &user.username),
        source_ip,
    };
    let now = svc.now();
    let result = match checked {
        Ok(r) => r,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return Err(regression(svc, &by, &user, &stored, now).await);
        }
        Err(e) => {
            tracing::info!(error = %e, "passkey sign-in refused");
            return Err(refused());
        }
    };
    // webauthn-rs checks the counter against the one in the ceremony's state, which may
    // be older than the stored one (two sign-ins begun together): check it here too.
    let stored_counter = serde_json::from_str::<serde_json::Value>(&stored.credential)
        .ok()
        .and_then(|v| v.pointer("/cred/counter").and_then(serde_json::Value::as_u64))
        .unwrap_or(0);
    let counter = u64::from(result.counter());
    if (counter > 0 || stored_counter > 0) && counter <= stored_counter {
        return Err(regression(svc, &by, &user, &stored, now).await);
    }
    let changed = passkey.update_credential(&result) == Some(true);
    let credential = if changed {
        Some(serde_json::to_string(&passkey).map_err(failed)?)
    } else {
        None
    };
    // The new counter is written only over the one checked here: of two answers checked
    // at once, one wins and the other is refused, so the counter never goes back.
    let swap = credential.as_deref().map(|new| (stored.credential.as_str(), new));
    if !store::passkeys::used(svc.store.conn(), stored.id, swap, now).await? {
        return Err(refused());
    }
    Ok(Used {
        user,
        synced: result.backup_eligible(),
    })
}

/// A signature counter that did not move forward: the key may have been copied. The
/// answer is refused, and the event audited for the administrator.
async fn regression(svc: &Services, by: &By, user: &User, stored: &StoredPasskey, now: DateTime<Utc>) -> AccountsError {
    let detail = serde_json::json!({ "passkey": stored.id, "name": stored.name });
    let event = by
        .event("user.passkey_counter_regression", user)
        .with_detail(detail)
        .failed();
    tracing::warn!(passkey = %stored.id, "passkey refused: its signature counter went backwards");
    match audit::record(svc.store.conn(), &event, now).await {
        Ok(()) => refused(),
        Err(e) => e.into(),
    }
}

/// Renames one of the user's passkeys; audited.
pub async fn rename(svc: &Services, user: &User, id: Uuid, name: &str, by: &By) -> Result<(), AccountsError> {
    let name = name_of(name, 0)?;
    let now = svc.now();
    let tx = svc.store.begin().await?;
    if !store::passkeys::rename(&tx, user.id, id, &name).await? {
        return Err(AccountsError::invalid("passkey", "no such passkey"));
    }
    let detail = serde_json::json!({ "passkey": id, "name": name });
    audit::record(&tx, &by.event("user.passkey_rename", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Removes one of the user's passkeys; audited, and the user is mailed.
pub async fn remove(svc: &Services, user: &User, id: Uuid, by: &By) -> Result<(), AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let Some(name) = store::passkeys::remove(&tx, user.id, id).await? else {
        return Err(AccountsError::invalid("passkey", "no such passkey"));
    };
    // A sign-in in progress that got past the passkey must not finish on its strength.
    store::auth_requests::delete_for_user(&tx, user.id, None).await?;
    if user.mail_address().is_some() {
        let method = format!("the passkey named \"{name}\"");
        let message = messages::sign_in_method_removed(&svc.settings(), user, &method, now)?;
        mail::queue_for_user(&tx, now, "sign_in_method_removed", user, message).await?;
    }
    let detail = serde_json::json!({ "passkey": id, "name": name });
    audit::record(&tx, &by.event("user.passkey_remove", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_default() {
        assert_eq!(name_of("  Work phone ", 0).ok().as_deref(), Some("Work phone"));
        assert_eq!(name_of("", 2).ok().as_deref(), Some("Passkey 3"));
        assert!(name_of(&"x".repeat(NAME_MAX + 1), 0).is_err());
        assert!(name_of("a\nb", 0).is_err());
    }

    #[test]
    fn no_relying_party_on_an_ip_address() {
        let ip = Url::parse("http://127.0.0.1:8080").ok();
        assert!(ip.is_some_and(|u| relying_party(&u, "Clinic").is_none()));
        let host = Url::parse("https://id.clinic.example").ok();
        assert!(host.is_some_and(|u| relying_party(&u, "Clinic").is_some()));
    }
}
