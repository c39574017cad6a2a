//! The address a request came from, for rate limits and audit events: the TCP peer,
//! or, when the peer is a trusted reverse proxy (`TESSERA_TRUSTED_PROXIES`), the
//! nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Entries
//! further left were written by the client and could be anything.
use super::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, svc: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(Self(resolve(peer, &parts.headers, &svc.config.trusted_proxies)))
    }
}

fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers count as one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        // Some proxies append the port ("192.0.2.1:5123", "[2001:db8::1]:443").
        let Some(ip) = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        else {
            // Garbage a trusted proxy passed on: the last proxy is as far as we can see.
            return nearest;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = forwarded(&["198.51.100.9"]);
        assert_eq!(resolve(ip("203.0.113.5"), &h, &proxies()), ip("203.0.113.5"));
        assert_eq!(resolve(ip("10.0.0.2"), &h, &[]), ip("10.0.0.2"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        // The client sent a forged first entry; the proxies appended what they saw.
        let h = forwarded(&["192.0.2.66, 203.0.113.5", "10.1.1.1"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies()), ip("203.0.113.5"));
        let h = forwarded(&["[2001:db8::7]:443"]);
        assert_eq!(resolve(ip("::1"), &h, &proxies()), ip("2001:db8::7"));
        let h = forwarded(&["203.0.113.5:5123"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies()), ip("203.0.113.5"));
    }

    #[test]
    fn without_a_usable_header_the_proxy_is_all_there_is() {
        assert_eq!(resolve(ip("10.0.0.2"), &HeaderMap::new(), &proxies()), ip("10.0.0.2"));
        let h = forwarded(&["203.0.113.5, not-an-address, 10.1.1.1"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies()), ip("10.1.1.1"));
        let h = forwarded(&["10.3.3.3, 10.1.1.1"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies()), ip("10.3.3.3"));
    }
}
