//! One rule for usernames wherever one is stored, compared or typed (RFC 8265).
//! The stored form follows the UsernameCasePreserved profile and the key that
//! identifies a user follows UsernameCaseMapped, so NFC and NFD, fullwidth and
//! plain letters, the Kelvin sign and `K` name one account, and characters no
//! person types (controls, zero-width and bidi marks, soft hyphens) are refused.
//! Space-separated userparts are allowed (RFC 8265 §3.2), as HR systems send them.
use precis_profiles::precis_core::profile::PrecisFastInvocation;
use precis_profiles::precis_core::{CodepointInfo, Error};
use precis_profiles::{UsernameCaseMapped, UsernameCasePreserved};

pub const MAX_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("is required")]
    Empty,
    #[error("is longer than 256 characters")]
    TooLong,
    #[error("must not begin or end with a space, or hold two in a row")]
    Spacing,
    #[error("contains a character that cannot be used in a username (U+{0:04X})")]
    Character(u32),
    #[error("mixes right-to-left and left-to-right text in a way that cannot be read unambiguously")]
    Direction,
}

fn map_error(e: Error) -> UsernameError {
    match e {
        Error::Invalid => UsernameError::Empty,
        Error::BadCodepoint(CodepointInfo { cp, .. }) => UsernameError::Character(cp),
        _ => UsernameError::Direction,
    }
}

fn each_part(input: &str, profile: impl Fn(&str) -> Result<String, Error>) -> Result<String, UsernameError> {
    if input.is_empty() {
        return Err(UsernameError::Empty);
    }
    if input.chars().count() > MAX_CHARS {
        return Err(UsernameError::TooLong);
    }
    let mut parts = Vec::new();
    for part in input.split(' ') {
        if part.is_empty() {
            return Err(UsernameError::Spacing);
        }
        parts.push(profile(part).map_err(map_error)?);
    }
    Ok(parts.join(" "))
}

/// The form to store and show: width-mapped and NFC, case as given.
pub fn enforce(input: &str) -> Result<String, UsernameError> {
    each_part(input, |p| UsernameCasePreserved::enforce(p).map(|s| s.into_owned()))
}

/// The key that identifies: equal keys are the same username.
pub fn key(input: &str) -> Result<String, UsernameError> {
    each_part(input, |p| UsernameCaseMapped::enforce(p).map(|s| s.into_owned()))
}

/// The key of something typed or searched for, which may be no valid username (an
/// email at the sign-in page, a filter fragment): never fails, and a string that is
/// no valid username gets a key no stored username has (keys never begin with a
/// space; a NUL would be refused by PostgreSQL).
pub fn lookup_key(input: &str) -> String {
    key(input).unwrap_or_else(|_| format!(" {}", input.to_lowercase()))
}

/// A fragment of a username (a filter's `co`, `sw`, `ew` text), folded the same way
/// where it can be, else lowercased.
pub fn fragment_key(input: &str) -> String {
    key(input).unwrap_or_else(|_| input.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_share_one_key() {
        let same = |a: &str, b: &str| assert_eq!(key(a).ok(), key(b).ok(), "{a:?} vs {b:?}");
        same("Jos\u{e9}", "Jose\u{301}");
        same("\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}", "alice");
        same("ALICE", "alice");
        same("Nurse Camille", "nurse camille");
        assert_eq!(enforce("Jose\u{301}").as_deref(), Ok("Jos\u{e9}"));
        assert_eq!(enforce("Alice").as_deref(), Ok("Alice"));
    }

    #[test]
    fn characters_no_person_types_are_refused() {
        for bad in [
            "ali\u{200b}ce",
            "ali\u{200d}ce",
            "ali\u{ad}ce",
            "\u{202e}ecila",
            "ali\u{0}ce",
            "ali\tce",
            "alice\u{feff}",
            "",
            " alice",
            "alice ",
            "a  b",
        ] {
            assert!(key(bad).is_err(), "{bad:?}");
            assert!(enforce(bad).is_err(), "{bad:?}");
        }
        assert_eq!(key(&"a".repeat(257)), Err(UsernameError::TooLong));
    }

    #[test]
    fn the_kelvin_sign_cannot_pose_as_k() {
        // Refused or mapped to plain k: either way no second account.
        match key("\u{212a}ate") {
            Ok(k) => assert_eq!(k, "kate"),
            Err(e) => assert!(matches!(e, UsernameError::Character(0x212a)), "{e:?}"),
        }
    }

    #[test]
    fn emails_and_plain_names_pass_unchanged() {
        assert_eq!(
            key("Nurse.Camille@Clinic.example").as_deref(),
            Ok("nurse.camille@clinic.example")
        );
        assert_eq!(enforce("emp3").as_deref(), Ok("emp3"));
        assert!(lookup_key("a\u{200b}b").starts_with(' '));
    }
}
