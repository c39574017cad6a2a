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
    // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers count as one list, in order (RFC 9110 §5.3). Split as bytes: an
    // entry the client forged with non-ASCII bytes must not hide the entries its
    // proxies appended after it on the same line.
    let hops: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
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

/// An address, with or without a port ("192.0.2.1:5123", "[2001:db8::1]:443", as some
/// proxies write it).
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(hop).ok()?.trim();
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

/// A browser's request as a session records it: its client address (as above) and
/// its own User-Agent description.
pub struct BrowserOrigin {
    pub address: IpAddr,
    pub origin: crate::sessions::Origin,
}

impl FromRequestParts<AppState> for BrowserOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, svc: &AppState) -> Result<Self, Self::Rejection> {
        let Ok(ClientAddress(address)) = ClientAddress::from_request_parts(parts, svc).await;
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Ok(Self {
            address,
            origin: crate::sessions::Origin::new(Some(address.to_string()), user_agent),
        })
    }
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
    fn a_forged_non_ascii_entry_does_not_hide_the_proxies_entries() {
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.5").unwrap(),
        );
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies()), ip("203.0.113.5"));
    }

    #[test]
    fn ipv4_mapped_peers_and_hops_match_ipv4_networks() {
        let h = forwarded(&["::ffff:203.0.113.5"]);
        assert_eq!(resolve(ip("::ffff:10.0.0.2"), &h, &proxies()), ip("203.0.113.5"));
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
