//! Value literals: JSON strings and their escapes, numbers, booleans and null, and the
//! unquoted values Microsoft Entra sends.
use crate::scim::filter::test_util::*;
use crate::scim::filter::{CompValue, CompareOp, Filter, FilterError};

#[test]
fn string_escapes() {
    let cases = [
        (r#""a\"b""#, "a\"b"),
        (r#""a\\b""#, "a\\b"),
        (r#""a\/b""#, "a/b"),
        (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
        (r#""\u0041\u00e9\u4E2D""#, "Aé中"),
        (r#""\ud83d\ude00""#, "\u{1F600}"),
        (r#""x\uD834\uDD1Ey""#, "x\u{1D11E}y"),
        (r#""""#, ""),
        (r#""héllo wörld ✓""#, "héllo wörld ✓"),
        (r#""(not) [and] or""#, "(not) [and] or"),
    ];
    for (lit, want) in cases {
        assert_eq!(
            ok(&format!("displayName eq {lit}")),
            eq("displayName", s(want)),
            "{lit}"
        );
    }
}

#[test]
fn string_errors() {
    let e = fail(r#"userName eq "abc"#);
    assert!(matches!(e, FilterError::UnterminatedString { .. }));
    assert_eq!(e.offset(), Some(12));
    assert!(matches!(
        fail(r#"userName eq "abc\"#),
        FilterError::UnterminatedString { .. }
    ));
    assert!(matches!(
        fail(r#"userName eq "abc\""#),
        FilterError::UnterminatedString { .. }
    ));
    for bad in [
        r#"userName eq "a\x""#,
        r#"userName eq "a\u12""#,
        r#"userName eq "a\u12G4""#,
        r#"userName eq "a\ud83d""#,
        r#"userName eq "a\ud83dx""#,
        r#"userName eq "a\ud83d\u0041""#,
        r#"userName eq "a\ude00""#,
        "userName eq \"a\u{1}b\"",
        "userName eq \"a\nb\"",
        "userName eq \"a\\é\"",
    ] {
        let e = fail(bad);
        assert!(matches!(e, FilterError::BadEscape { .. }), "{bad}: {e:?}");
    }
    assert_eq!(fail(r#"userName eq "a\x""#).offset(), Some(14));
}

#[test]
fn numbers() {
    for n in [
        "0",
        "42",
        "-7",
        "3.25",
        "-0.5",
        "1e3",
        "1E+3",
        "2.5e-3",
        "-1.5E10",
        "18446744073709551615",
    ] {
        assert_eq!(ok(&format!("x eq {n}")), eq("x", num(n)), "{n}");
    }
    assert_eq!(ok("x gt -1"), cmp(attr("x"), CompareOp::Gt, num("-1")));
    assert_eq!(ok("(x le 2.5)"), cmp(attr("x"), CompareOp::Le, num("2.5")));
    assert!(matches!(fail("x eq 1e400"), FilterError::NumberOutOfRange { .. }));
    assert!(matches!(
        fail("x eq 1e99999999999999999999"),
        FilterError::NumberOutOfRange { .. }
    ));
}

#[test]
fn non_json_numbers_are_bare_strings() {
    for n in ["01", "1.", ".5", "+1", "1e", "--1", "0x10", "1.2.3"] {
        assert_eq!(ok(&format!("x eq {n}")), eq("x", s(n)), "{n}");
    }
}

#[test]
fn booleans_and_null_any_case() {
    for (lit, v) in [
        ("true", CompValue::Bool(true)),
        ("True", CompValue::Bool(true)),
        ("TRUE", CompValue::Bool(true)),
        ("false", CompValue::Bool(false)),
        ("False", CompValue::Bool(false)),
        ("null", CompValue::Null),
        ("NULL", CompValue::Null),
    ] {
        assert_eq!(ok(&format!("active eq {lit}")), eq("active", v), "{lit}");
    }
    assert_eq!(ok(r#"active eq "false""#), eq("active", s("false")));
}

#[test]
fn unquoted_entra_values() {
    assert_eq!(ok("userName eq Test_User_1d4f"), eq("userName", s("Test_User_1d4f")));
    assert_eq!(
        ok("externalId eq 2819c223-7f76-453a-919d-413861904646"),
        eq("externalId", s("2819c223-7f76-453a-919d-413861904646"))
    );
    assert_eq!(
        ok("members[value eq 2819c223-7f76-453a-919d-413861904646]"),
        vp(attr("members"), eq("value", s("2819c223-7f76-453a-919d-413861904646")))
    );
    assert_eq!(
        ok("(userName eq bob@example.com) and active eq True"),
        and(
            eq("userName", s("bob@example.com")),
            eq("active", CompValue::Bool(true))
        )
    );
    assert_eq!(ok("displayName eq Zoë"), eq("displayName", s("Zoë")));
}

#[test]
fn dates_are_strings() {
    for op in ["gt", "ge", "lt", "le"] {
        let f = ok(&format!("meta.lastModified {op} \"2011-05-13T04:42:34Z\""));
        let Filter::Compare { path, value, .. } = f else {
            panic!("not a comparison")
        };
        assert_eq!(path, sub("meta", "lastModified"));
        assert_eq!(value, s("2011-05-13T04:42:34Z"));
    }
}
