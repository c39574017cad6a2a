//! SCIM 2.0 filter expressions (RFC 7644 §3.4.2.2) and PATCH paths
//! (RFC 7644 §3.5.2) for Tessera.
//!
//! The parser is a hand-written, on-demand tokenizer driven by a recursive
//! descent parser. Which token comes next depends on context (an unquoted
//! Entra value may contain characters that are delimiters elsewhere), so the
//! parser asks for "an attribute path", "an operator", "a value" and so on
//! rather than consuming a pre-built token stream.
//!
//! Safety against hostile input:
//! * input is capped at [`MAX_FILTER_LEN`] bytes;
//! * recursion only happens for grouping (`(...)`, `not (...)`, `attr[...]`)
//!   and is capped at [`MAX_DEPTH`] by an explicit counter;
//! * `and` / `or` chains are built with loops, never recursion. Together with
//!   the length cap this also bounds the depth of the returned tree (a few
//!   hundred nodes at most), so dropping or walking it is safe.
//!
//! Error positions are 0-based offsets counted in Unicode characters.
//!
//! The pieces: the tree (`model::filter`, a leaf the store reads too),
//! `error` (why an input was refused), `scanner` (bytes, words, string and number
//! literals) and `parser` (the grammar and the two entry points).

mod error;
mod parser;
mod scanner;
#[cfg(test)]
mod test_util;

pub use crate::model::filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
pub use error::{FilterError, InputKind, Loc};
pub use parser::{parse_filter, parse_path};

/// Longest accepted filter or path, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest accepted nesting of `(...)`, `not (...)` and `attr[...]`.
pub const MAX_DEPTH: usize = 24;
