//! Provisioning clients are loose about SCIM paths (`/scim/v2/users`, `/Users/`,
//! the draft name `/serviceConfiguration`): map them to the canonical routes
//! before routing. The path is the client's: any UTF-8 may be in it, so it is
//! never sliced at a byte offset.
const PREFIX: &str = "/scim/v2";

const ENDPOINTS: &[&str] = &[
    "Users",
    "Groups",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
    "Bulk",
    ".search",
];

/// The rest of a path under `/scim/v2` (any case), or None for other paths,
/// `/scim/v2x` among them.
pub fn under_prefix(path: &str) -> Option<&str> {
    let head = path.get(..PREFIX.len())?;
    let rest = path.get(PREFIX.len()..)?;
    (head.eq_ignore_ascii_case(PREFIX) && (rest.is_empty() || rest.starts_with('/'))).then_some(rest)
}

pub fn canonical(path: &str) -> Option<String> {
    let rest = under_prefix(path)?.trim_end_matches('/');
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
    let canonical = std::iter::once(PREFIX.to_string())
        .chain(segments)
        .collect::<Vec<_>>()
        .join("/");
    (canonical != path).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::{canonical, under_prefix};

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

    #[test]
    fn other_paths_that_start_alike_are_left_alone() {
        assert_eq!(canonical("/scim/v2x"), None);
        assert_eq!(canonical("/scim/v2x/users"), None);
        assert_eq!(canonical("/scim/v"), None);
        assert_eq!(under_prefix("/SCIM/v2"), Some(""));
    }

    #[test]
    fn non_ascii_paths_are_handled_without_panicking() {
        // 'é' is two bytes: each of these puts a character boundary off the prefix's end.
        for path in [
            "/scim/vé",
            "/scim/v2é",
            "/scimé/v2",
            "/ééééé",
            "é",
            "/scim/v2/Üsers",
            "/scim/v2/users/é/",
        ] {
            let _ = canonical(path);
        }
        assert_eq!(canonical("/scim/vé"), None);
        assert_eq!(canonical("/scim/v2é"), None);
        assert_eq!(canonical("/scim/v2/Üsers"), None);
        assert_eq!(canonical("/scim/v2/users/é/").as_deref(), Some("/scim/v2/Users/é"));
    }
}
