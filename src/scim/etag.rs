//! Resource versions as weak ETags (RFC 7644 §3.14).

/// Weak ETag of a resource version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The version in an If-Match / If-None-Match header value, if it is one of ours.
pub fn version_of(etag: &str) -> Option<i64> {
    etag.trim().trim_start_matches("W/").trim_matches('"').parse().ok()
}
