//! The tree a SCIM filter or PATCH path parses into. A leaf module: it imports
//! nothing of the project, so any layer may name these types.
use std::fmt;

use serde_json::Number;

#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// Schema URN prefix if given, e.g. "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", as written (case preserved).
    pub urn: Option<String>,
    /// Attribute name, e.g. "emails" or "name" (case preserved as written; callers compare case-insensitively).
    pub attr: String,
    /// Sub-attribute, e.g. "value" in "emails.value" or "givenName" in "name.givenName".
    pub sub_attr: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub(crate) const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator as written in a filter, lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Case-insensitive lookup (RFC 7644: operators are case-insensitive).
    pub(crate) fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `emails[type eq "work" and value co "@x.org"]`: `path` has no sub_attr; inner filter paths are relative (attr = sub-attribute name, e.g. "type").
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// PATCH `path`: attrPath, or valuePath optionally followed by `.subAttr`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// e.g. `emails` (or `name.givenName` when there is no filter).
    pub path: AttrPath,
    /// e.g. `type eq "work"`.
    pub filter: Option<Filter>,
    /// e.g. `value`, in `emails[type eq "work"].value`.
    pub sub_attr: Option<String>,
}
