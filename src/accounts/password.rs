//! Argon2id hashing (OWASP parameters) off the async executor, bounded to the
//! number of cores, and the password policy.
use super::AccountsError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use tokio::sync::{OnceCell, Semaphore};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// OWASP: m=19 MiB, t=2, p=1. A stored hash with other parameters is rehashed at sign-in.
fn params() -> Params {
    match Params::new(19_456, 2, 1, None) {
        Ok(p) => p,
        Err(_) => unreachable!("constant argon2 parameters are valid"),
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Each hash holds 19 MiB and a core for ~17 ms: never more at once than cores.
static CORES: LazyLock<usize> = LazyLock::new(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
static HASH_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(*CORES));

async fn off_executor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AccountsError> {
    let _slot = HASH_SLOTS
        .acquire()
        .await
        .map_err(|e| AccountsError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AccountsError::Hashing(e.to_string()))
}

/// Working memory kept between hashes, at most one per slot: a fresh 19 MiB buffer costs
/// ~4,800 page faults (several ms) per hash, and freed buffers bloat every malloc arena.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

fn hash_into(argon2: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), AccountsError> {
    let blocks = argon2.params().block_count();
    let reused = MEMORY.lock().ok().and_then(|mut pool| pool.pop());
    let mut memory = reused
        .filter(|m| m.len() == blocks)
        .unwrap_or_else(|| vec![Block::default(); blocks]);
    let result = argon2
        .hash_password_into_with_memory(password, salt, out, &mut memory)
        .map_err(|e| AccountsError::Hashing(e.to_string()));
    if let Ok(mut pool) = MEMORY.lock()
        && pool.len() < *CORES
    {
        pool.push(memory);
    }
    result
}

fn hashing_error(e: impl std::fmt::Display) -> AccountsError {
    AccountsError::Hashing(e.to_string())
}

pub fn hash_blocking(password: &str) -> Result<String, AccountsError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(hashing_error)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    hash_into(&argon2(), password.as_bytes(), salt_bytes, &mut out)?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(hashing_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hashing_error)?),
    };
    Ok(phc.to_string())
}

pub async fn hash(password: String) -> Result<String, AccountsError> {
    off_executor(move || hash_blocking(&password)).await?
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    /// Correct; carries a new hash when the stored one used other parameters.
    Yes {
        rehash: Option<String>,
    },
}

/// Whether `password` gives the stored PHC hash; None when the stored text is no argon2 hash.
fn matches(password: &str, stored: &PasswordHash) -> Option<bool> {
    let expected = stored.hash?;
    let algorithm = Algorithm::try_from(stored.algorithm).ok()?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let params = Params::try_from(stored).ok()?;
    let mut salt = [0u8; Salt::MAX_LENGTH];
    let salt = stored.salt?.decode_b64(&mut salt).ok()?;
    let mut out = vec![0u8; expected.len()];
    hash_into(
        &Argon2::new(algorithm, version, params),
        password.as_bytes(),
        salt,
        &mut out,
    )
    .ok()?;
    // Output's equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
}

pub async fn verify(password: String, stored: String) -> Result<Verified, AccountsError> {
    off_executor(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return Ok(Verified::No);
        };
        if matches(&password, &parsed) != Some(true) {
            return Ok(Verified::No);
        }
        let current = Params::try_from(&parsed).ok();
        let outdated = parsed.algorithm != argon2::ARGON2ID_IDENT
            || current.is_none_or(|p| {
                let want = params();
                (p.m_cost(), p.t_cost(), p.p_cost()) != (want.m_cost(), want.t_cost(), want.p_cost())
            });
        let rehash = if outdated {
            Some(hash_blocking(&password)?)
        } else {
            None
        };
        Ok(Verified::Yes { rehash })
    })
    .await?
}

/// Spends the same time as a real check, so an unknown username takes as long as a wrong password.
pub async fn verify_dummy(password: String) -> Result<(), AccountsError> {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    let stored = DUMMY
        .get_or_try_init(|| hash("tessera-dummy-password-for-timing".to_string()))
        .await?
        .clone();
    verify(password, stored).await.map(|_| ())
}

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// Why a password is refused, in words for the person choosing it.
pub fn check_policy(password: &str, username: &str, email: Option<&str>) -> Result<(), AccountsError> {
    let weak = |m: &str| Err(AccountsError::WeakPassword(m.to_string()));
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return weak("must be at least 12 characters");
    }
    if chars > MAX_LENGTH {
        return weak("must be at most 128 characters");
    }
    let lower = password.to_lowercase();
    // "Password2024!" is as guessable as "password": drop digits and symbols at the end too.
    let stem = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    if COMMON.contains(lower.as_str()) || (stem.chars().count() >= 4 && COMMON.contains(stem)) {
        return weak("is too common; choose a longer phrase of unrelated words");
    }
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return weak("repeats too few characters");
    }
    let local_part = email.and_then(|e| e.split('@').next()).map(str::to_lowercase);
    if lower == username.to_lowercase()
        || email.is_some_and(|e| lower == e.to_lowercase())
        || local_part.is_some_and(|l| l.len() >= 4 && lower.contains(&l))
        || (username.len() >= 4 && lower.contains(&username.to_lowercase()))
    {
        return weak("must not contain your username or email");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    #[test]
    fn ships_a_large_common_list() {
        assert!(COMMON.len() >= 10_000);
        assert!(COMMON.contains("password"));
    }

    #[test]
    fn policy_accepts_a_passphrase_and_refuses_weak_ones() {
        assert!(check_policy("correct horse battery", "nurse", Some("n@clinic.org")).is_ok());
        for bad in [
            "short",
            "qwertyuiop123",
            "Summer2024!!!",
            "aaaaaaaaaaaaaaa",
            &"x".repeat(129),
        ] {
            assert!(check_policy(bad, "nurse", None).is_err(), "{bad}");
        }
        assert!(check_policy("camille.nurse.2026", "camille.nurse", None).is_err());
        assert!(check_policy("cnurse@email.xyz", "camille", Some("cnurse@email.xyz")).is_err());
    }

    #[tokio::test]
    async fn hashes_verify_and_outdated_parameters_are_rehashed() {
        let h = hash("correct horse battery".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            verify("correct horse battery".into(), h.clone()).await.expect("verify"),
            Verified::Yes { rehash: None }
        );
        assert_eq!(verify("wrong".into(), h).await.expect("verify"), Verified::No);

        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).expect("p"),
        )
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
        match verify("correct horse battery".into(), weak).await.expect("verify") {
            Verified::Yes { rehash: Some(new) } => assert!(new.contains("m=19456,t=2,p=1")),
            other => panic!("expected a rehash, got {other:?}"),
        }
        assert_eq!(
            verify("x".into(), "not a hash".into()).await.expect("verify"),
            Verified::No
        );
    }
}
