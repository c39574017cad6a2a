//! What the errors say: readable messages, character (not byte) offsets, and short,
//! escaped echoes of the offending input.
use crate::scim::filter::scanner::SNIPPET_CHARS;
use crate::scim::filter::test_util::*;
use crate::scim::filter::{FilterError, MAX_FILTER_LEN};

#[test]
fn error_messages_are_readable() {
    assert_eq!(
        fail("userName").to_string(),
        "invalid filter at character 8: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"
    );
    assert_eq!(
        fail(r#"userName xx "a""#).to_string(),
        "invalid filter at character 9: unknown operator \"xx\"; expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"
    );
    assert_eq!(
        fail("userName eq").to_string(),
        "invalid filter at character 11: expected a value after 'eq'"
    );
    assert_eq!(
        fail("(a pr").to_string(),
        "invalid filter at character 5: expected ')' to close the '(' at character 0"
    );
    assert_eq!(
        fail("a eq 1 b").to_string(),
        "invalid filter at character 7: unexpected \"b\"; expected 'and', 'or' or the end of the filter"
    );
    assert_eq!(
        path_fail("a.b.c").to_string(),
        "invalid path at character 3: an attribute path has at most one sub-attribute, e.g. name.givenName"
    );
    assert_eq!(fail("").to_string(), "invalid filter: it is empty");
    let long = "x".repeat(MAX_FILTER_LEN + 1);
    assert_eq!(
        fail(&long).to_string(),
        "invalid filter: it is 4097 bytes long, more than the maximum of 4096"
    );
}

#[test]
fn offsets_count_characters_not_bytes() {
    // "ééé" is 3 characters but 6 bytes.
    let e = fail(r#"displayName eq "ééé" b"#);
    assert_eq!(e.offset(), Some(21));
    let e = fail("displayName eq Zoë )");
    assert_eq!(e.offset(), Some(19));
}

#[test]
fn echoed_input_is_short_and_escaped() {
    let e = fail(&format!("a eq 1 {}", "\u{7}".repeat(100)));
    let FilterError::TrailingInput { found, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(found.chars().count(), SNIPPET_CHARS);
    assert!(e.to_string().contains("\\u{7}"));
}
