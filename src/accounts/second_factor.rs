//! Second factors: an authenticator app (TOTP, RFC 6238, as every app accepts it:
//! SHA-1, 6 digits, 30-second steps, one step either side, each code once) and
//! single-use recovery codes; and the policy saying who must have one.
use super::users::By;
use super::{AccountsError, Role, User};
use crate::audit;
use crate::mail::{self, messages};
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};
use rand::RngCore;
use rand::seq::IndexedRandom;
use totp_rs::{Algorithm, Builder, Totp};
use uuid::Uuid;

/// The label the server's key seals TOTP keys under.
const SEAL: &str = "totp-key";
/// How many recovery codes a set holds.
pub const RECOVERY_CODES: usize = 10;

/// An authenticator app to set up: the key as text and as a QR code (SVG).
pub struct Enrolment {
    /// The key in base32, in groups of four, for typing into an app by hand.
    pub key_text: String,
    pub qr_svg: String,
}

/// Whether this user must sign in with a second factor: everyone when the setting
/// says so, admins (any admin right) unless it is turned off, and members of a group
/// that requires one.
pub async fn required(svc: &Services, user: &User) -> Result<bool, StoreError> {
    if svc.settings().require_2fa {
        return Ok(true);
    }
    let admins = svc.settings().admins_require_2fa;
    if admins && user.role == Role::Admin {
        return Ok(true);
    }
    store::groups::needs_second_factor(svc.store.reader(), user.id, admins).await
}

/// Whether the user has a confirmed authenticator app.
pub async fn has_totp(svc: &Services, user_id: Uuid) -> Result<bool, StoreError> {
    Ok(store::second_factors::find_totp(svc.store.reader(), user_id)
        .await?
        .is_some_and(|k| k.confirmed_at.is_some()))
}

/// The second factors a user has.
#[derive(Debug, Clone, Copy, Default)]
pub struct Factors {
    pub totp: bool,
    pub passkeys: bool,
}

impl Factors {
    pub fn any(&self) -> bool {
        self.totp || self.passkeys
    }
}

/// The second factors, and how many unused recovery codes there are.
pub async fn factors_and_codes(svc: &Services, user_id: Uuid) -> Result<(Factors, u64), StoreError> {
    Ok((factors(svc, user_id).await?, recovery_codes_left(svc, user_id).await?))
}

/// Passkeys count only where they can be used: with a host-name issuer (the relying
/// party they were made for).
pub async fn factors(svc: &Services, user_id: Uuid) -> Result<Factors, StoreError> {
    let passkeys = svc.passkeys.is_some() && store::passkeys::count(svc.store.reader(), user_id).await? > 0;
    Ok(Factors {
        totp: has_totp(svc, user_id).await?,
        passkeys,
    })
}

/// A label without the colon the otpauth format reserves, and without control characters.
fn label(text: &str) -> String {
    text.chars().filter(|c| *c != ':' && !c.is_control()).collect()
}

fn totp(svc: &Services, user: &User, secret: Vec<u8>) -> Result<Totp, AccountsError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(label(&svc.settings().organisation_name)))
        .with_account_name(label(&user.username))
        .build()
        .map_err(|e| AccountsError::SecondFactor(e.to_string()))
}

fn unseal(svc: &Services, user: &User, sealed: &[u8]) -> Result<Vec<u8>, AccountsError> {
    svc.secret
        .open(SEAL, user.id.as_bytes(), sealed)
        .ok_or_else(|| AccountsError::SecondFactor("the stored key cannot be opened with this server's key".into()))
}

/// How long a key being set up waits for its first code.
fn enrolment_lifetime() -> chrono::Duration {
    chrono::Duration::minutes(15)
}

/// Starts (or shows again) setting up an authenticator app, for one sign-in or session
/// (`context`): the key waits unconfirmed for its first code, shown again only there
/// (a reload keeps the same QR code) and for 15 minutes. Anywhere else a new key
/// replaces it, so a key someone saw earlier can never become the one confirmed.
pub async fn begin_enrolment(svc: &Services, user: &User, context: Uuid) -> Result<Enrolment, AccountsError> {
    let c = svc.store.conn();
    let now = svc.now();
    let secret = match store::second_factors::find_totp(c, user.id).await? {
        Some(k) if k.confirmed_at.is_some() => {
            return Err(AccountsError::invalid(
                "authenticator",
                "an authenticator app is set up already: remove it first",
            ));
        }
        Some(k) if k.bound_to == Some(context) && now - k.created_at < enrolment_lifetime() => {
            unseal(svc, user, &k.sealed)?
        }
        _ => {
            // 160 bits, as RFC 4226 recommends.
            let mut secret = vec![0u8; 20];
            rand::rng().fill_bytes(&mut secret);
            let sealed = svc
                .secret
                .seal(SEAL, user.id.as_bytes(), &secret)
                .ok_or_else(|| AccountsError::SecondFactor("sealing failed".into()))?;
            store::second_factors::put_unconfirmed(c, user.id, sealed, context, now).await?;
            secret
        }
    };
    let totp = totp(svc, user, secret)?;
    let url = totp.to_url().map_err(|e| AccountsError::SecondFactor(e.to_string()))?;
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AccountsError::SecondFactor(e.to_string()))?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: the XML prolog has no place there.
    let qr_svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest).to_string();
    let key = totp.secret().to_base32();
    let key_text = key
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Enrolment { key_text, qr_svg })
}

/// The time step a six-digit code is good for now, if it is.
fn step_of(
    svc: &Services,
    user: &User,
    sealed: &[u8],
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AccountsError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(svc, user, unseal(svc, user, sealed)?)?;
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    Ok(totp.check(&code, seconds).and_then(|step| i64::try_from(step).ok()))
}

/// Confirms the app being set up with a code from it: the second factor is on, a new
/// set of recovery codes is made (returned, to show once) and the user is mailed.
pub async fn confirm_enrolment(
    svc: &Services,
    user: &User,
    context: Uuid,
    code: &str,
    by: &By,
) -> Result<Vec<String>, AccountsError> {
    let now = svc.now();
    let key = store::second_factors::find_totp(svc.store.conn(), user.id)
        .await?
        .filter(|k| k.confirmed_at.is_none() && k.bound_to == Some(context))
        .filter(|k| now - k.created_at < enrolment_lifetime())
        .ok_or_else(|| AccountsError::invalid("authenticator", "start setting up the app again"))?;
    let Some(step) = step_of(svc, user, &key.sealed, code, now)? else {
        return Err(AccountsError::WrongCode);
    };
    let tx = svc.store.begin().await?;
    if !store::second_factors::confirm_totp(&tx, user.id, step, now).await? {
        return Err(AccountsError::invalid(
            "authenticator",
            "start setting up the app again",
        ));
    }
    let codes = new_recovery_codes(&tx, svc, user.id, now).await?;
    if user.mail_address().is_some() {
        let message = messages::sign_in_method_added(&svc.settings(), user, "an authenticator app", now)?;
        mail::queue_for_user(&tx, now, "sign_in_method_added", user, message).await?;
    }
    audit::record(&tx, &by.event("user.totp_enrol", user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(codes)
}

/// Whether `code` is the user's current authenticator code, used up if so: the same
/// code (its time step, or an earlier one) is never accepted again.
pub async fn check_totp(svc: &Services, user: &User, code: &str) -> Result<bool, AccountsError> {
    let now = svc.now();
    let c = svc.store.conn();
    let Some(key) = store::second_factors::find_totp(c, user.id)
        .await?
        .filter(|k| k.confirmed_at.is_some())
    else {
        return Ok(false);
    };
    let Some(step) = step_of(svc, user, &key.sealed, code, now)? else {
        return Ok(false);
    };
    Ok(store::second_factors::take_step(c, user.id, step).await?)
}

/// Removes the authenticator app and the recovery codes (the user's own choice); the
/// user is mailed.
pub async fn remove(svc: &Services, user: &User, by: &By) -> Result<bool, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let removed = store::second_factors::delete_totp(&tx, user.id).await?;
    store::second_factors::delete_recovery_codes(&tx, user.id).await?;
    // A sign-in in progress that got past the old app must not finish on its strength.
    store::auth_requests::delete_for_user(&tx, user.id, None).await?;
    if removed && user.mail_address().is_some() {
        let message = messages::sign_in_method_removed(&svc.settings(), user, "the authenticator app", now)?;
        mail::queue_for_user(&tx, now, "sign_in_method_removed", user, message).await?;
    }
    audit::record(&tx, &by.event("user.totp_remove", user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(removed)
}

/// What an administrator's second-factor reset removed.
pub struct Reset {
    pub authenticator: bool,
    pub passkeys: u64,
}

/// An administrator's "reset 2FA": the authenticator app, the recovery codes and every
/// passkey go; the user sets up a new one at the next sign-in where one is required.
pub async fn reset(svc: &Services, user: &User, by: &By) -> Result<Reset, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let authenticator = store::second_factors::delete_totp(&tx, user.id).await?;
    store::second_factors::delete_recovery_codes(&tx, user.id).await?;
    let passkeys = store::passkeys::remove_all(&tx, user.id).await?;
    store::auth_requests::delete_for_user(&tx, user.id, None).await?;
    let detail = serde_json::json!({ "authenticator": authenticator, "passkeys": passkeys });
    audit::record(
        &tx,
        &by.event("user.second_factor_reset", user).with_detail(detail),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Reset {
        authenticator,
        passkeys,
    })
}

/// 12 characters from an alphabet without look-alikes (~59 bits), as xxxx-xxxx-xxxx.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let chars: Vec<u8> = (0..12).filter_map(|_| ALPHABET.choose(&mut rng).copied()).collect();
    chars
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as stored: keyed with the server's secret, so a copy of the database alone
/// does not let anyone try codes offline. Case, spaces and dashes do not matter.
fn recovery_hash(svc: &Services, user_id: Uuid, code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    svc.secret.mac(
        "recovery-code",
        [user_id.as_bytes().as_slice(), normal.as_bytes()].concat().as_slice(),
    )
}

async fn new_recovery_codes(
    c: &impl store::Conn,
    svc: &Services,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes = codes.iter().map(|code| recovery_hash(svc, user_id, code)).collect();
    store::second_factors::replace_recovery_codes(c, user_id, hashes, now).await?;
    Ok(codes)
}

/// A new set of recovery codes (the old ones stop working), to show once.
pub async fn regenerate_recovery_codes(svc: &Services, user: &User, by: &By) -> Result<Vec<String>, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let codes = new_recovery_codes(&tx, svc, user.id, now).await?;
    audit::record(&tx, &by.event("user.recovery_codes_regenerate", user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(codes)
}

/// Uses one of the user's recovery codes; how many remain after it, or None when it is
/// not one of them. Audited.
pub async fn use_recovery_code(svc: &Services, user: &User, code: &str, by: &By) -> Result<Option<u64>, AccountsError> {
    let now = svc.now();
    let hash = recovery_hash(svc, user.id, code);
    let tx = svc.store.begin().await?;
    if !store::second_factors::use_recovery_code(&tx, user.id, &hash, now).await? {
        return Ok(None);
    }
    let remaining = store::second_factors::unused_recovery_codes(&tx, user.id).await?;
    let detail = serde_json::json!({ "remaining": remaining });
    audit::record(&tx, &by.event("user.recovery_code_use", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(remaining))
}

/// How many unused recovery codes the user has.
pub async fn recovery_codes_left(svc: &Services, user_id: Uuid) -> Result<u64, StoreError> {
    store::second_factors::unused_recovery_codes(svc.store.reader(), user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_grouped_and_unambiguous() {
        let code = recovery_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert!(!code.contains(['0', 'o', '1', 'l', 'i']));
        assert_ne!(recovery_code(), recovery_code());
    }

    #[test]
    fn labels_lose_the_reserved_colon() {
        assert_eq!(label("Clinic: North"), "Clinic North");
    }
}
