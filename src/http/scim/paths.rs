//! Provisioning clients are loose about SCIM paths (`/scim/v2/users`, `/Users/`,
//! the draft name `/serviceConfiguration`): map them to the canonical routes
//! before routing.
const ENDPOINTS: &[&str] = &[
    "Users",
    "Groups",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
    "Bulk",
    ".search",
];

pub fn canonical(path: &str) -> Option<String> {
    let prefix = "/scim/v2";
    if path.len() < prefix.len() || !path[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = path[prefix.len()..].trim_end_matches('/');
    let mut segments: Vec<String> = rest.split('/').skip(1).map(str::to_string).collect();
    if let Some(first) = segments.first_mut() {
        if first.eq_ignore_ascii_case("serviceConfiguration") {
            *first = "ServiceProviderConfig".into();
        } else if let Some(known) = ENDPOINTS.iter().find(|e| e.eq_ignore_ascii_case(first)) {
            *first = (*known).to_string();
        }
    }
    if let Some(second) = segments.get_mut(1)
        && second.eq_ignore_ascii_case(".search")
    {
        *second = ".search".into();
    }
    let canonical = std::iter::once(prefix.to_string())
        .chain(segments)
        .collect::<Vec<_>>()
        .join("/");
    (canonical != path).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn loose_paths_become_canonical() {
        assert_eq!(canonical("/scim/v2/users").as_deref(), Some("/scim/v2/Users"));
        assert_eq!(canonical("/scim/v2/Users/").as_deref(), Some("/scim/v2/Users"));
        assert_eq!(canonical("/SCIM/V2/groups/abc").as_deref(), Some("/scim/v2/Groups/abc"));
        assert_eq!(
            canonical("/scim/v2/serviceConfiguration").as_deref(),
            Some("/scim/v2/ServiceProviderConfig")
        );
        assert_eq!(
            canonical("/scim/v2/users/.SEARCH").as_deref(),
            Some("/scim/v2/Users/.search")
        );
        assert_eq!(canonical("/scim/v2/Users/AbC"), None, "ids keep their case");
        assert_eq!(canonical("/setup"), None);
    }
}
