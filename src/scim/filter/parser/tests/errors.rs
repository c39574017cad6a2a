//! Inputs the parser refuses, and which error each gets.
use crate::scim::filter::test_util::*;
use crate::scim::filter::{CompareOp, FilterError, InputKind, MAX_FILTER_LEN};

#[test]
fn empty_and_too_long() {
    assert_eq!(fail(""), FilterError::Empty(InputKind::Filter));
    assert_eq!(fail("  \t "), FilterError::Empty(InputKind::Filter));
    let long = format!("userName eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
    assert!(matches!(fail(&long), FilterError::TooLong { .. }));
    // Exactly at the limit is fine.
    let at_limit = format!("x eq \"{}\"", "y".repeat(MAX_FILTER_LEN - 7));
    assert_eq!(at_limit.len(), MAX_FILTER_LEN);
    ok(&at_limit);
}

#[test]
fn operator_errors() {
    let e = fail(r#"userName xx "a""#);
    assert!(matches!(&e, FilterError::UnknownOperator { found, .. } if found == "xx"));
    assert_eq!(e.offset(), Some(9));
    assert!(matches!(fail("userName"), FilterError::Expected { .. }));
    assert!(matches!(fail("userName )"), FilterError::Expected { .. }));
    assert!(matches!(fail("userName prx"), FilterError::UnknownOperator { .. }));
    assert!(matches!(fail("userName eq1"), FilterError::UnknownOperator { .. }));
}

#[test]
fn missing_value_errors() {
    for bad in [
        "userName eq",
        "userName eq   ",
        "(userName eq)",
        "emails[type eq]",
        "userName eq and title pr",
        "userName ne OR title pr",
    ] {
        let e = fail(bad);
        assert!(matches!(e, FilterError::MissingValue { .. }), "{bad}: {e:?}");
    }
    let e = fail("userName gt");
    assert!(matches!(e, FilterError::MissingValue { op: CompareOp::Gt, .. }));
}

#[test]
fn present_with_value_errors() {
    for bad in [
        r#"title pr "x""#,
        "title pr 1",
        "title pr true",
        "title pr x",
        r#"emails[type pr "x"]"#,
    ] {
        let e = fail(bad);
        assert!(matches!(e, FilterError::PresentWithValue { .. }), "{bad}: {e:?}");
    }
    assert_eq!(fail("title pr 1").offset(), Some(9));
}

#[test]
fn unbalanced_errors() {
    let e = fail("(a pr");
    assert!(
        matches!(
            e,
            FilterError::Unclosed {
                close: ')',
                opened_at: 0,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.offset(), Some(5));
    assert!(matches!(fail("((a pr)"), FilterError::Unclosed { .. }));
    assert!(matches!(fail("(a pr]"), FilterError::Unclosed { close: ')', .. }));
    assert!(matches!(
        fail(r#"emails[type eq "x""#),
        FilterError::Unclosed { close: ']', .. }
    ));
    assert!(matches!(
        fail(r#"emails[type eq "x")"#),
        FilterError::Unclosed { close: ']', .. }
    ));
    assert!(matches!(fail("a pr)"), FilterError::Unmatched { found: ')', .. }));
    assert!(matches!(fail("a pr]"), FilterError::Unmatched { found: ']', .. }));
    assert!(matches!(fail("(a pr))"), FilterError::Unmatched { .. }));
    assert!(matches!(fail("()"), FilterError::Expected { .. }));
    assert!(matches!(fail("not a pr"), FilterError::Expected { .. }));
    assert!(matches!(fail("not"), FilterError::Expected { .. }));
}

#[test]
fn trailing_garbage_errors() {
    for bad in [
        "a pr b pr",
        r#"userName eq "x" "y""#,
        r#"userName eq "x"y"#,
        "a pr and b pr garbage",
        r#"emails[type eq "work"]x"#,
        "a pr andx b pr",
    ] {
        let e = fail(bad);
        assert!(
            matches!(
                e,
                FilterError::TrailingInput { .. } | FilterError::PresentWithValue { .. }
            ),
            "{bad}: {e:?}"
        );
    }
    assert!(matches!(fail("a pr and"), FilterError::Expected { .. }));
    assert!(matches!(fail("a pr or "), FilterError::Expected { .. }));
    assert!(matches!(
        fail("and a pr"),
        FilterError::Expected { .. } | FilterError::UnknownOperator { .. }
    ));
}
