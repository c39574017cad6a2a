//! Why a filter or path was refused: where, and a message fit for the `detail` of a
//! SCIM `invalidFilter` / `invalidPath` error.
use std::fmt;

use super::{MAX_DEPTH, MAX_FILTER_LEN};
use crate::model::filter::CompareOp;

/// What an operator is expected to look like, for error messages.
pub(super) const OPERATOR_HINT: &str = "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)";

/// Which kind of input failed, so messages say "filter" or "path".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Filter,
    Path,
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputKind::Filter => "filter",
            InputKind::Path => "path",
        })
    }
}

/// Where an error was found: `at` is a 0-based offset in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub input: InputKind,
    pub at: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} at character {}", self.input, self.at)
    }
}

/// A filter or path that could not be parsed. `Display` gives a message
/// suitable for the `detail` of a SCIM `invalidFilter` / `invalidPath` error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("invalid {0}: it is empty")]
    Empty(InputKind),
    #[error("invalid {input}: it is {len} bytes long, more than the maximum of {max}", max = MAX_FILTER_LEN)]
    TooLong { input: InputKind, len: usize },
    #[error("{loc}: nested more than {max} levels deep", max = MAX_DEPTH)]
    TooDeep { loc: Loc },
    #[error("{loc}: expected {expected}")]
    Expected { loc: Loc, expected: &'static str },
    #[error("{loc}: unknown operator {found:?}; expected {OPERATOR_HINT}")]
    UnknownOperator { loc: Loc, found: String },
    #[error("{loc}: expected a value after '{op}'")]
    MissingValue { loc: Loc, op: CompareOp },
    #[error("{loc}: 'pr' takes no value")]
    PresentWithValue { loc: Loc },
    #[error("{loc}: string is not terminated (missing closing '\"')")]
    UnterminatedString { loc: Loc },
    #[error("{loc}: {reason}")]
    BadEscape { loc: Loc, reason: String },
    #[error("{loc}: number is out of range")]
    NumberOutOfRange { loc: Loc },
    #[error("{loc}: expected '{close}' to close the '{open}' at character {opened_at}")]
    Unclosed {
        loc: Loc,
        open: char,
        close: char,
        opened_at: usize,
    },
    #[error("{loc}: '{found}' has no matching '{open}'")]
    Unmatched { loc: Loc, found: char, open: char },
    #[error("{loc}: unexpected {found:?}; expected {expected}")]
    TrailingInput {
        loc: Loc,
        found: String,
        expected: &'static str,
    },
    #[error("{loc}: {reason}")]
    InvalidAttrPath { loc: Loc, reason: &'static str },
    #[error("{loc}: {reason}")]
    InvalidValuePath { loc: Loc, reason: &'static str },
}

impl FilterError {
    /// 0-based character offset of the problem, if it has one.
    pub fn offset(&self) -> Option<usize> {
        use FilterError as E;
        match self {
            E::Empty(_) | E::TooLong { .. } => None,
            E::TooDeep { loc }
            | E::Expected { loc, .. }
            | E::UnknownOperator { loc, .. }
            | E::MissingValue { loc, .. }
            | E::PresentWithValue { loc }
            | E::UnterminatedString { loc }
            | E::BadEscape { loc, .. }
            | E::NumberOutOfRange { loc }
            | E::Unclosed { loc, .. }
            | E::Unmatched { loc, .. }
            | E::TrailingInput { loc, .. }
            | E::InvalidAttrPath { loc, .. }
            | E::InvalidValuePath { loc, .. } => Some(loc.at),
        }
    }
}

#[cfg(test)]
mod tests;
