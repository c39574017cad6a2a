//! Answers sent to a client's redirect URI: the query it carries back.

/// `redirect_uri?error=...&error_description=...&state=...&iss=...` (RFC 9207 adds iss).
pub fn error_location(issuer: &str, redirect_uri: &str, error: &str, description: &str, state: Option<&str>) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", issuer));
    with_query(redirect_uri, &pairs)
}

pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        Err(_) => uri.to_string(),
    }
}
