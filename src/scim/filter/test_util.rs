//! Builders and helpers shared by the filter's tests: short names for the tree a test
//! expects, and parsing that panics with the input when it goes the other way.
use super::{AttrPath, CompValue, CompareOp, Filter, FilterError, PatchPath, parse_filter, parse_path};

pub(super) fn attr(name: &str) -> AttrPath {
    AttrPath {
        urn: None,
        attr: name.into(),
        sub_attr: None,
    }
}

pub(super) fn sub(name: &str, sub: &str) -> AttrPath {
    AttrPath {
        sub_attr: Some(sub.into()),
        ..attr(name)
    }
}

pub(super) fn urn(urn: &str, name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        urn: Some(urn.into()),
        attr: name.into(),
        sub_attr: sub.map(Into::into),
    }
}

pub(super) fn s(v: &str) -> CompValue {
    CompValue::Str(v.into())
}

pub(super) fn num(v: &str) -> CompValue {
    CompValue::Num(v.parse().unwrap())
}

pub(super) fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare { path, op, value }
}

pub(super) fn eq(name: &str, v: CompValue) -> Filter {
    cmp(attr(name), CompareOp::Eq, v)
}

pub(super) fn pr(path: AttrPath) -> Filter {
    Filter::Present(path)
}

pub(super) fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

pub(super) fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

pub(super) fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

pub(super) fn vp(path: AttrPath, f: Filter) -> Filter {
    Filter::ValuePath {
        path,
        filter: Box::new(f),
    }
}

pub(super) fn ok(input: &str) -> Filter {
    parse_filter(input).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
}

pub(super) fn fail(input: &str) -> FilterError {
    match parse_filter(input) {
        Err(e) => e,
        Ok(f) => panic!("{input:?} should fail, got {f:?}"),
    }
}

pub(super) fn path_ok(input: &str) -> PatchPath {
    parse_path(input).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
}

pub(super) fn path_fail(input: &str) -> FilterError {
    match parse_path(input) {
        Err(e) => e,
        Ok(p) => panic!("{input:?} should fail, got {p:?}"),
    }
}

pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(super) const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
