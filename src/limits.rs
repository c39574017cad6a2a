//! Rate limits per client address, on top of the per-account lockout: they slow
//! password guessing spread over many accounts from one place.
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

pub struct Limits {
    pub sign_in: AddressLimit,
}

impl Limits {
    pub fn new(sign_in_per_minute: NonZeroU32) -> Self {
        Limits {
            sign_in: AddressLimit::per_minute(sign_in_per_minute),
        }
    }
}

pub struct AddressLimit(DefaultKeyedRateLimiter<IpAddr>);

impl AddressLimit {
    fn per_minute(n: NonZeroU32) -> Self {
        AddressLimit(RateLimiter::keyed(Quota::per_minute(n)))
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
fn budget_key(address: IpAddr) -> IpAddr {
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
}
