//! `X-Request-Id`: a caller's id (a proxy's, a SCIM client's) is kept when it is one
//! short token of safe characters, so a request can be followed across hops. Anything
//! else (spaces, `k=v`, kilobytes) would be copied into our responses and log lines,
//! so it is dropped and a new UUID made in its place.
use axum::extract::Request;
use axum::http::HeaderName;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

const MAX_LEN: usize = 64;

fn is_safe(value: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Removes the request's id unless it is exactly one safe token, so that the
/// request-id layer after this one makes a new one.
pub fn drop_unsafe(mut req: Request) -> Request {
    let keep = {
        let mut values = req.headers().get_all(&HEADER).iter();
        matches!((values.next(), values.next()), (Some(v), None) if is_safe(v.as_bytes()))
    };
    if !keep {
        req.headers_mut().remove(&HEADER);
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(values: &[&[u8]]) -> Option<String> {
        let mut req = Request::new(axum::body::Body::empty());
        for v in values {
            req.headers_mut()
                .append(HEADER, axum::http::HeaderValue::from_bytes(v).expect("header value"));
        }
        let req = drop_unsafe(req);
        req.headers()
            .get(HEADER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    #[test]
    fn short_safe_tokens_are_kept() {
        assert_eq!(kept(&[b"trace-me-123"]).as_deref(), Some("trace-me-123"));
        assert_eq!(kept(&[b"a.B_9-z"]).as_deref(), Some("a.B_9-z"));
        let longest = "x".repeat(MAX_LEN);
        assert_eq!(kept(&[longest.as_bytes()]), Some(longest));
    }

    #[test]
    fn anything_else_is_dropped() {
        let too_long = "x".repeat(MAX_LEN + 1);
        for bad in [
            &b""[..],
            b"has space",
            b"user=admin",
            b"a,b",
            b"\"quoted\"",
            b"caf\xc3\xa9",
            too_long.as_bytes(),
        ] {
            assert_eq!(kept(&[bad]), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(kept(&[b"one", b"two"]), None, "two ids are not one");
        assert_eq!(kept(&[]), None);
    }
}
