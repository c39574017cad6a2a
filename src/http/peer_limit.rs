//! Connections open at once per client address (`TESSERA_MAX_CONNECTIONS_PER_ADDRESS`),
//! so that one address cannot hold every slot under the global cap while everyone
//! else waits in the backlog. Trusted proxies are exempt: each carries many clients.
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

type Open = Arc<Mutex<HashMap<IpAddr, u32>>>;

pub struct PeerLimit {
    max: u32,
    trusted: Vec<IpNet>,
    open: Open,
}

/// A connection's place under its address's limit, given back when dropped.
pub struct PeerSlot {
    /// None for a trusted proxy, which is not counted.
    key: Option<IpAddr>,
    open: Open,
}

impl PeerLimit {
    pub fn new(max: u32, trusted: Vec<IpNet>) -> Self {
        Self {
            max,
            trusted,
            open: Open::default(),
        }
    }

    /// A place for a connection from `peer`, or None when its address has `max` open.
    pub fn admit(&self, peer: IpAddr) -> Option<PeerSlot> {
        // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
        let peer = peer.to_canonical();
        let key = (!self.trusted.iter().any(|net| net.contains(&peer))).then(|| crate::limits::budget_key(peer));
        if let Some(key) = key {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let count = open.entry(key).or_insert(0);
            if *count >= self.max {
                return None;
            }
            *count += 1;
        }
        Some(PeerSlot {
            key,
            open: self.open.clone(),
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&key) {
            *count = count.saturating_sub(1);
            // Addresses with nothing open are forgotten, so the map stays small.
            if *count == 0 {
                open.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_holds_at_most_max_and_gets_places_back() {
        let limit = PeerLimit::new(2, vec![]);
        let first = limit.admit(ip("192.0.2.1"));
        let second = limit.admit(ip("::ffff:192.0.2.1"));
        assert!(first.is_some() && second.is_some());
        assert!(limit.admit(ip("192.0.2.1")).is_none(), "a third");
        assert!(limit.admit(ip("192.0.2.2")).is_some(), "another address");
        drop(first);
        assert!(limit.admit(ip("192.0.2.1")).is_some(), "a place given back");
    }

    #[test]
    fn an_ipv6_network_shares_one_limit() {
        let limit = PeerLimit::new(1, vec![]);
        let _held = limit.admit(ip("2001:db8:1:2::1"));
        assert!(limit.admit(ip("2001:db8:1:2::2")).is_none(), "the same /64");
        assert!(limit.admit(ip("2001:db8:1:3::1")).is_some(), "another /64");
    }

    #[test]
    fn trusted_proxies_are_not_counted() {
        let limit = PeerLimit::new(1, vec!["10.0.0.0/8".parse().unwrap()]);
        let held: Vec<_> = (0..3).map(|_| limit.admit(ip("10.0.0.5"))).collect();
        assert!(held.iter().all(Option::is_some));
        drop(held);
        assert!(limit.open.lock().unwrap().is_empty());
    }
}
