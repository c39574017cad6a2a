//! PATCH paths (RFC 7644 §3.5.2): attribute paths and value paths with a sub-attribute.
use crate::scim::filter::test_util::*;
use crate::scim::filter::{CompValue, FilterError, InputKind, MAX_FILTER_LEN, PatchPath};

#[test]
fn patch_paths() {
    let plain = |path| PatchPath {
        path,
        filter: None,
        sub_attr: None,
    };
    assert_eq!(path_ok("userName"), plain(attr("userName")));
    assert_eq!(path_ok(" userName "), plain(attr("userName")));
    assert_eq!(path_ok("name.givenName"), plain(sub("name", "givenName")));
    assert_eq!(
        path_ok(&format!("{ENTERPRISE}:manager")),
        plain(urn(ENTERPRISE, "manager", None))
    );
    assert_eq!(
        path_ok(&format!("{ENTERPRISE}:manager.value")),
        plain(urn(ENTERPRISE, "manager", Some("value")))
    );
    assert_eq!(
        path_ok(&format!("{CORE_USER}:name.familyName")),
        plain(urn(CORE_USER, "name", Some("familyName")))
    );
    assert_eq!(
        path_ok(r#"emails[type eq "work"].value"#),
        PatchPath {
            path: attr("emails"),
            filter: Some(eq("type", s("work"))),
            sub_attr: Some("value".into()),
        }
    );
    assert_eq!(
        path_ok(r#"members[value eq "abc"]"#),
        PatchPath {
            path: attr("members"),
            filter: Some(eq("value", s("abc"))),
            sub_attr: None,
        }
    );
    assert_eq!(
        path_ok(r#"addresses[type eq "work" and primary eq True].streetAddress"#),
        PatchPath {
            path: attr("addresses"),
            filter: Some(and(eq("type", s("work")), eq("primary", CompValue::Bool(true)))),
            sub_attr: Some("streetAddress".into()),
        }
    );
    assert_eq!(
        path_ok("members[value eq 2819c223-7f76-453a-919d-413861904646]").filter,
        Some(eq("value", s("2819c223-7f76-453a-919d-413861904646")))
    );
}

#[test]
fn patch_path_errors() {
    assert_eq!(path_fail(""), FilterError::Empty(InputKind::Path));
    assert!(matches!(path_fail("emails["), FilterError::Expected { .. }));
    assert!(matches!(
        path_fail(r#"emails[type eq "work""#),
        FilterError::Unclosed { .. }
    ));
    assert!(matches!(
        path_fail(r#"emails[type eq "work"]x"#),
        FilterError::TrailingInput { .. }
    ));
    assert!(matches!(path_fail("a.b.c"), FilterError::InvalidAttrPath { .. }));
    assert!(matches!(
        path_fail(r#"emails[type eq "work"].value.x"#),
        FilterError::InvalidAttrPath { .. }
    ));
    assert!(matches!(
        path_fail(r#"emails[type eq "work"]."#),
        FilterError::Expected { .. }
    ));
    assert!(matches!(
        path_fail(r#"name.givenName[x pr]"#),
        FilterError::InvalidValuePath { .. }
    ));
    assert!(matches!(
        path_fail(r#"emails[x[y pr]]"#),
        FilterError::InvalidValuePath { .. }
    ));
    assert!(matches!(
        path_fail("userName eq \"x\""),
        FilterError::TrailingInput { .. }
    ));
    assert!(matches!(path_fail("emails]"), FilterError::Unmatched { .. }));
    assert!(matches!(path_fail("(userName)"), FilterError::Expected { .. }));
    let long = "a".repeat(MAX_FILTER_LEN + 1);
    assert!(matches!(
        path_fail(&long),
        FilterError::TooLong {
            input: InputKind::Path,
            ..
        }
    ));
    let e = path_fail(r#"emails[type eq "work"]x"#);
    assert!(e.to_string().starts_with("invalid path at character 22:"), "{e}");
}
