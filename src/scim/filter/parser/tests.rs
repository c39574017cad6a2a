//! The grammar: operators, precedence, grouping, value paths, attribute paths and the
//! examples of RFC 7644 §3.4.2.2. Refusals, limits and PATCH paths have files of their own.
use crate::scim::filter::test_util::*;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter, FilterError};

mod errors;
mod limits;
mod patch_paths;

// --- operators --------------------------------------------------------------

#[test]
fn every_compare_operator() {
    for op in CompareOp::ALL {
        for word in [op.as_str().to_owned(), op.as_str().to_uppercase()] {
            let f = ok(&format!("userName {word} \"x\""));
            assert_eq!(f, cmp(attr("userName"), op, s("x")), "{word}");
        }
    }
}

#[test]
fn present() {
    assert_eq!(ok("title pr"), pr(attr("title")));
    assert_eq!(ok("title PR"), pr(attr("title")));
    assert_eq!(ok("  title pr  "), pr(attr("title")));
    assert_eq!(ok("name.givenName Pr"), pr(sub("name", "givenName")));
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    let (a, b, c) = (eq("a", num("1")), eq("b", num("2")), eq("c", num("3")));
    assert_eq!(
        ok("a eq 1 or b eq 2 and c eq 3"),
        or(a.clone(), and(b.clone(), c.clone()))
    );
    assert_eq!(ok("a eq 1 and b eq 2 or c eq 3"), or(and(a, b), c));
}

#[test]
fn and_or_are_left_associative() {
    let (a, b, c) = (pr(attr("a")), pr(attr("b")), pr(attr("c")));
    assert_eq!(ok("a pr and b pr and c pr"), and(and(a.clone(), b.clone()), c.clone()));
    assert_eq!(ok("a pr or b pr or c pr"), or(or(a, b), c));
}

#[test]
fn parentheses_group() {
    let (a, b, c) = (eq("a", num("1")), eq("b", num("2")), eq("c", num("3")));
    assert_eq!(
        ok("(a eq 1 or b eq 2) and c eq 3"),
        and(or(a.clone(), b.clone()), c.clone())
    );
    assert_eq!(ok("((a eq 1))"), a);
    assert_eq!(ok("( a eq 1 )"), a);
    assert_eq!(ok("a eq 1 and(b eq 2)"), and(a.clone(), b.clone()));
}

#[test]
fn not_binds_tightest() {
    let (a, b) = (pr(attr("a")), pr(attr("b")));
    assert_eq!(ok("not (a pr)"), not(a.clone()));
    assert_eq!(ok("not(a pr)"), not(a.clone()));
    assert_eq!(ok("not (a pr) and b pr"), and(not(a.clone()), b.clone()));
    assert_eq!(
        ok("b pr or not (a pr or b pr)"),
        or(b.clone(), not(or(a.clone(), b.clone())))
    );
    assert_eq!(ok("not (not (a pr))"), not(not(a)));
}

#[test]
fn keywords_are_case_insensitive() {
    let expected = or(and(eq("userName", s("x")), pr(attr("title"))), not(pr(attr("a"))));
    assert_eq!(ok("userName EQ \"x\" AND title PR Or NOT (a Pr)"), expected);
    assert_eq!(ok("userName Eq \"x\" and title pr oR nOt (a pr)"), expected);
}

#[test]
fn tabs_and_extra_whitespace() {
    assert_eq!(
        ok("\t userName \t eq   \"x\"\tand  title  pr "),
        and(eq("userName", s("x")), pr(attr("title")))
    );
}

// --- value paths ----------------------------------------------------------

#[test]
fn value_path_with_and_inside() {
    assert_eq!(
        ok(r#"emails[type eq "work" and value co "@example.com"]"#),
        vp(
            attr("emails"),
            and(
                eq("type", s("work")),
                cmp(attr("value"), CompareOp::Co, s("@example.com"))
            )
        )
    );
}

#[test]
fn value_path_with_or_not_and_parens_inside() {
    assert_eq!(
        ok(r#"emails[(type eq "work" or type eq "home") and not (primary eq false)]"#),
        vp(
            attr("emails"),
            and(
                or(eq("type", s("work")), eq("type", s("home"))),
                not(eq("primary", CompValue::Bool(false)))
            )
        )
    );
}

#[test]
fn value_path_combined_outside() {
    let members = vp(attr("members"), eq("value", s("2819c223-7f76-453a-919d-413861904646")));
    assert_eq!(
        ok(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#),
        members
    );
    assert_eq!(
        ok(r#"not (emails[type eq "work"]) and displayName pr"#),
        and(not(vp(attr("emails"), eq("type", s("work")))), pr(attr("displayName")))
    );
    assert_eq!(
        ok(r#"emails[ type eq "work" ] or title pr"#),
        or(vp(attr("emails"), eq("type", s("work"))), pr(attr("title")))
    );
}

#[test]
fn value_path_with_urn_prefix() {
    assert_eq!(
        ok(&format!("{CORE_USER}:emails[type eq \"work\"]")),
        vp(urn(CORE_USER, "emails", None), eq("type", s("work")))
    );
}

#[test]
fn value_path_errors() {
    let nested = fail(r#"emails[type[value eq "x"]]"#);
    assert!(matches!(nested, FilterError::InvalidValuePath { .. }), "{nested}");
    assert_eq!(nested.offset(), Some(11));

    let sub_after = fail(r#"emails[type eq "work"].value eq "x""#);
    assert!(matches!(sub_after, FilterError::InvalidValuePath { .. }), "{sub_after}");
    assert!(sub_after.to_string().contains("only allowed in PATCH paths"));

    let on_sub_attr = fail(r#"name.givenName[value eq "x"]"#);
    assert!(matches!(on_sub_attr, FilterError::InvalidValuePath { .. }));

    let dotted_inside = fail(r#"emails[emails.type eq "work"]"#);
    assert!(matches!(dotted_inside, FilterError::InvalidValuePath { .. }));

    let urn_inside = fail(&format!("emails[{CORE_USER}:type eq \"work\"]"));
    assert!(matches!(urn_inside, FilterError::InvalidValuePath { .. }));

    assert!(matches!(fail("emails[]"), FilterError::Expected { .. }));
}

// --- attribute paths ------------------------------------------------------

#[test]
fn sub_attributes() {
    assert_eq!(
        ok(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
        cmp(sub("meta", "lastModified"), CompareOp::Gt, s("2011-05-13T04:42:34Z"))
    );
    assert_eq!(ok("members.$ref pr"), pr(sub("members", "$ref")));
    assert_eq!(ok("x-attr_2$ pr"), pr(attr("x-attr_2$")));
}

#[test]
fn urn_qualified_names() {
    assert_eq!(
        ok(&format!("{CORE_USER}:userName sw \"J\"")),
        cmp(urn(CORE_USER, "userName", None), CompareOp::Sw, s("J"))
    );
    assert_eq!(
        ok(&format!("{CORE_USER}:name.familyName eq \"O'Malley\"")),
        eq_path(urn(CORE_USER, "name", Some("familyName")), "O'Malley")
    );
    assert_eq!(
        ok(&format!(
            "{ENTERPRISE}:manager.value eq \"26118915-6090-4610-87a4-49d8ca9f808d\""
        )),
        eq_path(
            urn(ENTERPRISE, "manager", Some("value")),
            "26118915-6090-4610-87a4-49d8ca9f808d"
        )
    );
    assert_eq!(
        ok(&format!("{ENTERPRISE}:employeeNumber pr")),
        pr(urn(ENTERPRISE, "employeeNumber", None))
    );
    // URN case is preserved as written.
    assert_eq!(
        ok("URN:Ietf:params:scim:schemas:core:2.0:User:userName pr"),
        pr(urn("URN:Ietf:params:scim:schemas:core:2.0:User", "userName", None))
    );
}

fn eq_path(path: AttrPath, v: &str) -> Filter {
    cmp(path, CompareOp::Eq, s(v))
}

#[test]
fn attribute_path_errors() {
    for bad in [
        "a.b.c pr",
        "a. pr",
        ".a pr",
        "1abc pr",
        "a.1b pr",
        "foo:bar pr",
        "urn::x:name pr",
        "urn:ietf:params:scim:schemas:core:2.0:User: pr",
        "userNamé eq \"x\"",
        "userName\"x\"",
    ] {
        let e = fail(bad);
        assert!(
            matches!(e, FilterError::InvalidAttrPath { .. } | FilterError::Expected { .. }),
            "{bad}: {e:?}"
        );
    }
    assert_eq!(fail("a.b.c pr").offset(), Some(3));
    assert!(matches!(fail("é eq 1"), FilterError::Expected { .. }));
}

// --- RFC 7644 §3.4.2.2 examples ---------------------------------------------

#[test]
fn rfc7644_examples() {
    let employee = || eq("userType", s("Employee"));
    let emails_co = || {
        or(
            cmp(attr("emails"), CompareOp::Co, s("example.com")),
            cmp(sub("emails", "value"), CompareOp::Co, s("example.org")),
        )
    };
    let date = || s("2011-05-13T04:42:34Z");
    let last_mod = |op| cmp(sub("meta", "lastModified"), op, date());
    let work_example = || {
        vp(
            attr("emails"),
            and(
                eq("type", s("work")),
                cmp(attr("value"), CompareOp::Co, s("@example.com")),
            ),
        )
    };
    let cases: Vec<(&str, Filter)> = vec![
        (r#"userName eq "bjensen""#, eq("userName", s("bjensen"))),
        (
            r#"name.familyName co "O'Malley""#,
            cmp(sub("name", "familyName"), CompareOp::Co, s("O'Malley")),
        ),
        (r#"userName sw "J""#, cmp(attr("userName"), CompareOp::Sw, s("J"))),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            cmp(urn(CORE_USER, "userName", None), CompareOp::Sw, s("J")),
        ),
        ("title pr", pr(attr("title"))),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            last_mod(CompareOp::Gt),
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            last_mod(CompareOp::Ge),
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            last_mod(CompareOp::Lt),
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            last_mod(CompareOp::Le),
        ),
        (
            r#"title pr and userType eq "Employee""#,
            and(pr(attr("title")), employee()),
        ),
        (
            r#"title pr or userType eq "Intern""#,
            or(pr(attr("title")), eq("userType", s("Intern"))),
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            eq("schemas", s(ENTERPRISE)),
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            and(employee(), emails_co()),
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            and(cmp(attr("userType"), CompareOp::Ne, s("Employee")), not(emails_co())),
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            and(employee(), cmp(sub("emails", "type"), CompareOp::Eq, s("work"))),
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            and(employee(), work_example()),
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            or(
                work_example(),
                vp(
                    attr("ims"),
                    and(eq("type", s("xmpp")), cmp(attr("value"), CompareOp::Co, s("@foo.com"))),
                ),
            ),
        ),
        // §3.4.2.2: attribute names and operators are case-insensitive.
        (r#"userName Eq "john""#, eq("userName", s("john"))),
        (r#"Username eq "john""#, eq("Username", s("john"))),
    ];
    for (input, want) in cases {
        assert_eq!(ok(input), want, "{input}");
    }
}

#[test]
fn rfc7644_multiline_example_whitespace() {
    // The RFC wraps long examples across lines.
    let f = ok("userType eq \"Employee\" and emails[type eq \"work\" and\n  value co \"@example.com\"]");
    assert!(matches!(f, Filter::And(..)));
}
