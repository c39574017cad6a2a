//! Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a
//! browser in which a user has signed in is known for that user, keeps its own count
//! of that user's failures, and is not locked by failures from anywhere else. So a
//! stranger who guesses at a nurse's username locks only unknown browsers, never the
//! clinic PC she signs in from every morning.
use crate::crypto::{random_token, token_hash};
use chrono::Duration;

/// A browser's device cookie value (random, the same for every user signing in on it).
#[derive(Debug, Clone)]
pub struct DeviceCookie {
    pub value: String,
    /// Made for this request: the browser has yet to be given it.
    pub new: bool,
}

impl DeviceCookie {
    /// The browser's cookie when it sent a plausible one, else a fresh one.
    pub fn from_browser(sent: Option<&str>) -> Self {
        match sent.filter(|v| (20..=100).contains(&v.len())) {
            Some(v) => DeviceCookie {
                value: v.to_string(),
                new: false,
            },
            None => DeviceCookie {
                value: random_token(),
                new: true,
            },
        }
    }

    pub(crate) fn hash(&self) -> Vec<u8> {
        token_hash(&self.value)
    }
}

/// How long a browser stays known without a sign-in: the most browsers keep a cookie.
pub fn cookie_lifetime() -> Duration {
    Duration::days(400)
}

/// How long the `lockouts`-th lockout in a row lasts (from 0): the first lasts `first`,
/// each one after twice as long as the one before, a day at most.
pub fn lockout_length(first: Duration, lockouts: i32) -> Duration {
    let doublings = lockouts.clamp(0, 16) as u32;
    let length = first * 2_i32.pow(doublings);
    length.min(Duration::days(1)).max(first.min(Duration::days(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_grow_to_a_day() {
        let first = Duration::minutes(15);
        let lengths: Vec<i64> = (0..9).map(|n| lockout_length(first, n).num_minutes()).collect();
        assert_eq!(lengths, [15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
        assert_eq!(lockout_length(first, i32::MAX), Duration::days(1));
        assert_eq!(lockout_length(first, -3), first);
    }

    #[test]
    fn odd_cookies_are_replaced() {
        assert!(DeviceCookie::from_browser(None).new);
        assert!(DeviceCookie::from_browser(Some("short")).new);
        assert!(DeviceCookie::from_browser(Some(&"x".repeat(101))).new);
        let kept = DeviceCookie::from_browser(Some("0123456789abcdefghijKLMNOP"));
        assert!(!kept.new);
        assert_eq!(kept.value, "0123456789abcdefghijKLMNOP");
    }
}
