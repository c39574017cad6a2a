//! Argon2id hashing (OWASP parameters) on one dedicated thread per core, and the
//! password policy.
use super::AccountsError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::LazyLock;
use tokio::sync::OnceCell;

/// The default shortest password; the settings may ask for more (or as few as 8).
pub const MIN_LENGTH: usize = crate::config::DEFAULT_PASSWORD_MIN_LENGTH;
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

/// Each hash holds 19 MiB and a core for ~15 ms: never more at once than cores.
static CORES: LazyLock<usize> = LazyLock::new(|| std::thread::available_parallelism().map_or(2, |n| n.get()));

type Job = Box<dyn FnOnce() + Send>;

/// One hashing thread per core, fed from one queue. A thread that finishes a hash takes the
/// next queued one at once; handing a slot back through the executor instead left a core
/// idle between hashes under sign-in load. None when no thread could be started.
static HASHERS: LazyLock<Option<flume::Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = flume::unbounded::<Job>();
    let started = (0..*CORES)
        .filter(|i| {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        // A panic drops the job's reply, which its caller sees as an error.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .is_ok()
        })
        .count();
    (started > 0).then_some(jobs)
});

async fn off_executor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AccountsError> {
    let Some(jobs) = HASHERS.as_ref() else {
        return Err(AccountsError::Hashing("no hashing thread could be started".into()));
    };
    let (reply, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The request that queued this hash is gone (client hung up): skip the work.
        if !reply.is_closed() {
            let _ = reply.send(work());
        }
    });
    jobs.send(job).map_err(|e| AccountsError::Hashing(e.to_string()))?;
    result.await.map_err(|e| AccountsError::Hashing(e.to_string()))
}

thread_local! {
    /// Working memory kept between hashes on each hashing thread: a fresh 19 MiB buffer costs
    /// ~4,800 page faults (several ms) per hash, and freed buffers bloat every malloc arena.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn hash_into(argon2: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), AccountsError> {
    let blocks = argon2.params().block_count();
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() != blocks {
            *memory = vec![Block::default(); blocks];
        }
        argon2
            .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
            .map_err(|e| AccountsError::Hashing(e.to_string()))
    })
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
pub fn check_policy(
    min_length: usize,
    password: &str,
    username: &str,
    email: Option<&str>,
) -> Result<(), AccountsError> {
    let weak = |m: &str| Err(AccountsError::WeakPassword(m.to_string()));
    let chars = password.chars().count();
    if chars < min_length {
        return weak(&format!("must be at least {min_length} characters"));
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
        assert!(check_policy(MIN_LENGTH, "correct horse battery", "nurse", Some("n@clinic.org")).is_ok());
        for bad in [
            "short",
            "qwertyuiop123",
            "Summer2024!!!",
            "aaaaaaaaaaaaaaa",
            &"x".repeat(129),
        ] {
            assert!(check_policy(MIN_LENGTH, bad, "nurse", None).is_err(), "{bad}");
        }
        assert!(check_policy(MIN_LENGTH, "camille.nurse.2026", "camille.nurse", None).is_err());
        assert!(check_policy(MIN_LENGTH, "cnurse@email.xyz", "camille", Some("cnurse@email.xyz")).is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_queued_beyond_the_hashing_threads_all_finish() {
        let queued: Vec<_> = (0..3 * *CORES)
            .map(|i| tokio::spawn(hash(format!("correct horse battery {i}"))))
            .collect();
        for (i, h) in queued.into_iter().enumerate() {
            let h = h.await.expect("join").expect("hash");
            let verified = verify(format!("correct horse battery {i}"), h).await.expect("verify");
            assert_eq!(verified, Verified::Yes { rehash: None });
        }
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
