//! Budgets per client address (per node). On top of the per-account lockout, the
//! sign-in budget slows password guessing spread over many accounts from one place;
//! the pending sign-ins budget bounds how much one place can make the server store
//! without signing in.
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

pub struct Limits {
    pub sign_in: AddressLimit,
    /// Sign-ins started (authorization requests kept while the user signs in), `n` per
    /// window: so one address keeps at most about 2n waiting at a time when the window is
    /// how long each is kept.
    pub pending_sign_ins: AddressLimit,
    /// "Forgot your password?" requests: each may send a mail, so few, though a clinic
    /// behind one address may have several forgetful mornings at once.
    pub forgot_password: AddressLimit,
    /// Passwords chosen through a link (setup, invite, reset): each costs a hash.
    pub link_forms: AddressLimit,
    /// Second-factor codes tried at sign-in and set-up (on top of the per-account
    /// lockout): as many as password attempts, since each follows one.
    pub second_factor: AddressLimit,
}

impl Limits {
    pub fn new(sign_in_per_minute: NonZeroU32, pending_sign_ins: NonZeroU32, pending_window: Duration) -> Self {
        Limits {
            sign_in: AddressLimit::per_minute(sign_in_per_minute),
            pending_sign_ins: AddressLimit::per_window(pending_sign_ins, pending_window),
            forgot_password: AddressLimit::per_window(nonzero(20), Duration::from_secs(3600)),
            link_forms: AddressLimit::per_minute(nonzero(30)),
            second_factor: AddressLimit::per_minute(sign_in_per_minute),
        }
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

pub struct AddressLimit(DefaultKeyedRateLimiter<IpAddr>);

impl AddressLimit {
    fn per_minute(n: NonZeroU32) -> Self {
        AddressLimit(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// `n` at once, refilled evenly over `window`.
    fn per_window(n: NonZeroU32, window: Duration) -> Self {
        let quota = Quota::with_period(window / n.get()).map_or_else(|| Quota::per_second(n), |q| q.allow_burst(n));
        AddressLimit(RateLimiter::keyed(quota))
    }

    /// Takes one attempt from this address's budget; false when it is spent.
    pub fn check(&self, address: IpAddr) -> bool {
        // Forget addresses whose budget has refilled, so the map stays small.
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&budget_key(address)).is_ok()
    }
}

/// Whose budget an address spends: an IPv4 address its own, an IPv6 address its /64's
/// (one network's hosts hold a whole /64 and could otherwise take a new address per try).
/// One client's key: an IPv4 address alone, an IPv6 address with its /64 (one
/// network's hosts hold a whole /64). Shared by every per-address limit.
pub fn budget_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_shares_one_budget() {
        let limit = AddressLimit::per_minute(NonZeroU32::new(2).unwrap());
        let host = |h: &str| format!("2001:db8:1:2::{h}").parse::<IpAddr>().unwrap();
        assert!(limit.check(host("1")));
        assert!(limit.check(host("2")));
        assert!(!limit.check(host("3")), "the third try from the same /64");
        assert!(limit.check("2001:db8:1:3::1".parse().unwrap()), "another /64");
        assert!(limit.check("192.0.2.1".parse().unwrap()));
        assert!(limit.check("192.0.2.2".parse().unwrap()));
        assert!(limit.check("::ffff:192.0.2.1".parse().unwrap()), "the same IPv4 client");
        assert!(!limit.check("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn a_window_budget_is_spent_at_once_then_refills_slowly() {
        let limit = AddressLimit::per_window(NonZeroU32::new(3).unwrap(), Duration::from_secs(1800));
        let from: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..3).all(|_| limit.check(from)), "the whole budget at once");
        assert!(!limit.check(from), "then one per 10 minutes");
        assert!(limit.check("192.0.2.2".parse().unwrap()), "another address has its own");
    }
}
