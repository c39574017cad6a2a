//! Rate limits per client address, on top of the per-account lockout: they slow
//! password guessing spread over many accounts from one place.
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
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
        self.0.check_key(&address).is_ok()
    }
}
