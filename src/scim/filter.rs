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

use std::fmt;
use std::str::CharIndices;

use serde_json::Number;

/// Longest accepted filter or path, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest accepted nesting of `(...)`, `not (...)` and `attr[...]`.
pub const MAX_DEPTH: usize = 24;

/// What an operator is expected to look like, for error messages.
const OPERATOR_HINT: &str = "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)";
/// Longest piece of offending input echoed back in an error message.
const SNIPPET_CHARS: usize = 24;

// ---------------------------------------------------------------------------
// AST
// ---------------------------------------------------------------------------

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
    const ALL: [CompareOp; 9] = [
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
    fn from_keyword(word: &str) -> Option<Self> {
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

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Parses a SCIM filter, e.g. `userName eq "bjensen" and not (title pr)`.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(input, InputKind::Filter)?;
    let filter = p.parse_or()?;
    p.finish("'and', 'or' or the end of the filter")?;
    Ok(filter)
}

/// Parses a PATCH operation `path`, e.g. `emails[type eq "work"].value`.
pub fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(input, InputKind::Path)?;
    p.skip_ws();
    let start = p.pos;
    let path = p.parse_attr_path()?;
    let (filter, sub_attr) = if p.peek() == Some(b'[') {
        let filter = p.parse_bracket(&path, start)?;
        (Some(filter), p.parse_sub_attr_after_bracket()?)
    } else {
        (None, None)
    };
    p.finish("the end of the path")?;
    Ok(PatchPath { path, filter, sub_attr })
}

// ---------------------------------------------------------------------------
// Byte classes. All delimiters are ASCII, so stopping on them always leaves
// `pos` on a UTF-8 character boundary.
// ---------------------------------------------------------------------------

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Characters of `urn:...:attr.sub`.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.' | b':')
}

/// What may directly follow an attribute path.
fn ends_attr_path(b: u8) -> bool {
    is_ws(b) || matches!(b, b'[' | b']' | b'(' | b')')
}

/// Keywords and operators: anything up to whitespace or punctuation.
fn is_word_byte(b: u8) -> bool {
    !is_ws(b) && !matches!(b, b'(' | b')' | b'[' | b']' | b'"')
}

/// Unquoted (Entra-style) values run until whitespace, `)` or `]`.
fn is_bare_value_byte(b: u8) -> bool {
    !is_ws(b) && !matches!(b, b')' | b']')
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    /// Current nesting of groups; never exceeds MAX_DEPTH.
    depth: usize,
    /// Inside `attr[...]`: paths must be relative and cannot nest brackets.
    in_value_path: bool,
    input: InputKind,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, input: InputKind) -> Result<Self, FilterError> {
        if src.len() > MAX_FILTER_LEN {
            return Err(FilterError::TooLong { input, len: src.len() });
        }
        if src.bytes().all(is_ws) {
            return Err(FilterError::Empty(input));
        }
        Ok(Parser {
            src,
            pos: 0,
            depth: 0,
            in_value_path: false,
            input,
        })
    }

    // --- low-level scanning -------------------------------------------------

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// End of the run of `pred` bytes starting at `self.pos`.
    fn scan(&self, pred: fn(u8) -> bool) -> usize {
        let bytes = self.src.as_bytes();
        let mut end = self.pos;
        while bytes.get(end).copied().is_some_and(pred) {
            end += 1;
        }
        end
    }

    fn peek_run(&self, pred: fn(u8) -> bool) -> &'a str {
        self.src.get(self.pos..self.scan(pred)).unwrap_or("")
    }

    fn take_run(&mut self, pred: fn(u8) -> bool) -> &'a str {
        let run = self.peek_run(pred);
        self.pos += run.len();
        run
    }

    /// Consumes `kw` (case-insensitive) if it is the next whole word.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        let word = self.peek_run(is_word_byte);
        let found = word.eq_ignore_ascii_case(kw);
        if found {
            self.pos += word.len();
        }
        found
    }

    // --- error helpers ------------------------------------------------------

    /// Converts a byte offset into a character-offset location.
    fn loc(&self, pos: usize) -> Loc {
        let at = self.src.char_indices().take_while(|&(i, _)| i < pos).count();
        Loc { input: self.input, at }
    }

    /// A short, non-whitespace piece of input at `pos` to quote in errors.
    fn snippet(&self, pos: usize) -> String {
        let rest = self.src.get(pos..).unwrap_or("");
        rest.chars()
            .take_while(|&c| !(c.is_ascii() && is_ws(c as u8)))
            .take(SNIPPET_CHARS)
            .collect()
    }

    fn expected(&self, pos: usize, expected: &'static str) -> FilterError {
        FilterError::Expected {
            loc: self.loc(pos),
            expected,
        }
    }

    fn bad_attr_path(&self, pos: usize, reason: &'static str) -> FilterError {
        FilterError::InvalidAttrPath {
            loc: self.loc(pos),
            reason,
        }
    }

    fn bad_value_path(&self, pos: usize, reason: &'static str) -> FilterError {
        FilterError::InvalidValuePath {
            loc: self.loc(pos),
            reason,
        }
    }

    fn bad_escape(&self, pos: usize, reason: String) -> FilterError {
        FilterError::BadEscape {
            loc: self.loc(pos),
            reason,
        }
    }

    /// Anything left after a complete expression is an error.
    fn finish(&mut self, expected: &'static str) -> Result<(), FilterError> {
        self.skip_ws();
        let loc = self.loc(self.pos);
        match self.peek() {
            None => Ok(()),
            Some(b')') => Err(FilterError::Unmatched {
                loc,
                found: ')',
                open: '(',
            }),
            Some(b']') => Err(FilterError::Unmatched {
                loc,
                found: ']',
                open: '[',
            }),
            Some(_) => Err(FilterError::TrailingInput {
                loc,
                found: self.snippet(self.pos),
                expected,
            }),
        }
    }

    // --- nesting --------------------------------------------------------------

    /// Enters a group opened at `open`; the counter bounds recursion depth.
    fn enter(&mut self, open: usize) -> Result<(), FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::TooDeep { loc: self.loc(open) });
        }
        self.depth += 1;
        Ok(())
    }

    fn expect_close(&mut self, open_pos: usize, open: u8, close: u8) -> Result<(), FilterError> {
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        Err(FilterError::Unclosed {
            loc: self.loc(self.pos),
            open: char::from(open),
            close: char::from(close),
            opened_at: self.loc(open_pos).at,
        })
    }

    // --- logical expressions ------------------------------------------------

    /// `and-expr *("or" and-expr)`, left-associative, built in a loop.
    fn parse_or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_and()?;
        while self.eat_keyword("or") {
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `unary *("and" unary)`, left-associative, built in a loop.
    fn parse_and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_unary()?;
        while self.eat_keyword("and") {
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `"(" filter ")"`, `"not" "(" filter ")"`, or an attribute expression.
    fn parse_unary(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            return self.parse_group();
        }
        if self.eat_keyword("not") {
            self.skip_ws();
            if self.peek() != Some(b'(') {
                return Err(self.expected(self.pos, "'(' after 'not'"));
            }
            return Ok(Filter::Not(Box::new(self.parse_group()?)));
        }
        self.parse_attr_exp()
    }

    /// `"(" filter ")"`; `self.pos` is at the '('.
    fn parse_group(&mut self) -> Result<Filter, FilterError> {
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        let inner = self.parse_or()?;
        self.expect_close(open, b'(', b')')?;
        self.depth -= 1;
        Ok(inner)
    }

    // --- attribute expressions ----------------------------------------------

    /// `attrPath "pr"`, `attrPath op value`, or `attrPath "[" filter "]"`.
    fn parse_attr_exp(&mut self) -> Result<Filter, FilterError> {
        let start = self.pos;
        let path = self.parse_attr_path()?;
        if self.in_value_path && (path.urn.is_some() || path.sub_attr.is_some()) {
            return Err(self.bad_value_path(
                start,
                "inside '[...]' use plain sub-attribute names, e.g. emails[type eq \"work\"]",
            ));
        }
        self.skip_ws();
        if self.peek() == Some(b'[') {
            return self.parse_value_path(path, start);
        }
        self.parse_comparison(path)
    }

    /// Value path inside a filter: `attr[...]`, with no `.subAttr` after it.
    fn parse_value_path(&mut self, path: AttrPath, start: usize) -> Result<Filter, FilterError> {
        let filter = self.parse_bracket(&path, start)?;
        if self.peek() == Some(b'.') {
            return Err(self.bad_value_path(
                self.pos,
                "a sub-attribute after ']' is only allowed in PATCH paths, not in filters",
            ));
        }
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    /// `"[" filter "]"` after `path` (which started at `start`); `self.pos` is at '['.
    fn parse_bracket(&mut self, path: &AttrPath, start: usize) -> Result<Filter, FilterError> {
        if self.in_value_path {
            return Err(self.bad_value_path(self.pos, "value filters '[...]' cannot be nested"));
        }
        if path.sub_attr.is_some() {
            return Err(self.bad_value_path(start, "'[...]' must follow an attribute without a sub-attribute"));
        }
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        self.in_value_path = true;
        let inner = self.parse_or()?;
        self.expect_close(open, b'[', b']')?;
        self.in_value_path = false;
        self.depth -= 1;
        Ok(inner)
    }

    /// The `.subAttr` allowed after `]` in a PATCH path.
    fn parse_sub_attr_after_bracket(&mut self) -> Result<Option<String>, FilterError> {
        if self.peek() != Some(b'.') {
            return Ok(None);
        }
        self.pos += 1;
        let at = self.pos;
        let name = self.take_run(is_path_byte);
        if let Some(i) = name.find(['.', ':']) {
            return Err(self.bad_attr_path(at + i, "only one sub-attribute may follow ']'"));
        }
        self.check_name(name, at)?;
        Ok(Some(name.to_owned()))
    }

    /// Operator and value after an attribute path; `self.pos` is at the operator.
    fn parse_comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let op_at = self.pos;
        let word = self.take_run(is_word_byte);
        if word.is_empty() {
            return Err(self.expected(op_at, OPERATOR_HINT));
        }
        if word.eq_ignore_ascii_case("pr") {
            self.reject_value_after_pr()?;
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::from_keyword(word).ok_or_else(|| FilterError::UnknownOperator {
            loc: self.loc(op_at),
            found: word.chars().take(SNIPPET_CHARS).collect(),
        })?;
        let value = self.parse_value(op)?;
        Ok(Filter::Compare { path, op, value })
    }

    /// After `pr` only the end, a closer, `and` or `or` may follow.
    fn reject_value_after_pr(&mut self) -> Result<(), FilterError> {
        let saved = self.pos;
        self.skip_ws();
        let next_at = self.pos;
        let fine = match self.peek() {
            None | Some(b')' | b']') => true,
            Some(_) => {
                let word = self.peek_run(is_word_byte);
                word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or")
            }
        };
        self.pos = saved;
        if fine {
            Ok(())
        } else {
            Err(FilterError::PresentWithValue { loc: self.loc(next_at) })
        }
    }

    // --- attribute paths ------------------------------------------------------

    /// `[URN ":"] ATTRNAME ["." ATTRNAME]`.
    fn parse_attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        let run = self.take_run(is_path_byte);
        if run.is_empty() {
            return Err(self.expected(start, "an attribute name"));
        }
        if self.peek().is_some_and(|b| !ends_attr_path(b)) {
            return Err(self.bad_attr_path(
                self.pos,
                "invalid character in attribute name (allowed: letters, digits, '-', '_', '$', '.', ':')",
            ));
        }
        self.split_attr_path(run, start)
    }

    /// Splits `run` (found at byte `start`) into URN, attribute and sub-attribute.
    /// The URN is everything before the LAST ':' because URNs contain dots
    /// ("...:2.0:User") that must not be mistaken for a sub-attribute.
    fn split_attr_path(&self, run: &str, start: usize) -> Result<AttrPath, FilterError> {
        let (urn, rest, rest_at) = match run.rsplit_once(':') {
            Some((urn, rest)) => (Some(urn), rest, start + urn.len() + 1),
            None => (None, run, start),
        };
        if urn.is_some_and(|urn| !is_valid_urn(urn)) {
            return Err(self.bad_attr_path(
                start,
                "expected a schema URN such as urn:ietf:params:scim:schemas:core:2.0:User before the last ':'",
            ));
        }
        let (attr, sub_attr) = match rest.split_once('.') {
            Some((attr, sub)) => (attr, Some(sub)),
            None => (rest, None),
        };
        self.check_name(attr, rest_at)?;
        if let Some(sub) = sub_attr {
            let sub_at = rest_at + attr.len() + 1;
            if let Some(i) = sub.find('.') {
                return Err(self.bad_attr_path(
                    sub_at + i,
                    "an attribute path has at most one sub-attribute, e.g. name.givenName",
                ));
            }
            self.check_name(sub, sub_at)?;
        }
        Ok(AttrPath {
            urn: urn.map(str::to_owned),
            attr: attr.to_owned(),
            sub_attr: sub_attr.map(str::to_owned),
        })
    }

    /// ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_" / "$"). A leading '$' is
    /// also accepted so that RFC 7643's `$ref` sub-attribute can be addressed.
    /// The other characters were already limited by `is_path_byte`.
    fn check_name(&self, name: &str, at: usize) -> Result<(), FilterError> {
        match name.bytes().next() {
            None => Err(self.expected(at, "an attribute name")),
            Some(b) if b.is_ascii_alphabetic() || b == b'$' => Ok(()),
            Some(_) => Err(self.bad_attr_path(at, "attribute names must start with a letter")),
        }
    }

    // --- values -------------------------------------------------------------

    fn parse_value(&mut self, op: CompareOp) -> Result<CompValue, FilterError> {
        self.skip_ws();
        match self.peek() {
            None | Some(b')' | b']') => Err(FilterError::MissingValue {
                loc: self.loc(self.pos),
                op,
            }),
            Some(b'"') => Ok(CompValue::Str(self.parse_string()?)),
            Some(_) => self.parse_bare_value(op),
        }
    }

    /// `true`/`false`/`null` (any case), a JSON number, or, as tolerated for
    /// Microsoft Entra, any other unquoted word as a string.
    fn parse_bare_value(&mut self, op: CompareOp) -> Result<CompValue, FilterError> {
        let at = self.pos;
        let word = self.take_run(is_bare_value_byte);
        let is = |kw: &str| word.eq_ignore_ascii_case(kw);
        if is("and") || is("or") {
            // `userName eq and ...`: the value was left out.
            return Err(FilterError::MissingValue { loc: self.loc(at), op });
        }
        if is("true") || is("false") {
            return Ok(CompValue::Bool(is("true")));
        }
        if is("null") {
            return Ok(CompValue::Null);
        }
        if is_json_number(word) {
            return word
                .parse::<Number>()
                .map(CompValue::Num)
                .map_err(|_| FilterError::NumberOutOfRange { loc: self.loc(at) });
        }
        Ok(CompValue::Str(word.to_owned()))
    }

    /// A JSON string literal; `self.pos` is at the opening quote.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        let body_at = open + 1;
        let mut chars = self.src.get(body_at..).unwrap_or("").char_indices();
        let mut out = String::new();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = body_at + i + 1;
                    return Ok(out);
                }
                '\\' => out.push(self.parse_escape(&mut chars, open, body_at + i)?),
                // JSON forbids raw control characters inside strings.
                c if c < '\u{20}' => {
                    return Err(
                        self.bad_escape(body_at + i, "control characters in strings must be escaped".to_owned())
                    );
                }
                c => out.push(c),
            }
        }
        Err(FilterError::UnterminatedString { loc: self.loc(open) })
    }

    /// The character after a backslash at byte `at`.
    fn parse_escape(&self, chars: &mut CharIndices<'_>, open: usize, at: usize) -> Result<char, FilterError> {
        let Some((_, c)) = chars.next() else {
            return Err(FilterError::UnterminatedString { loc: self.loc(open) });
        };
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.parse_unicode_escape(chars, at),
            other => {
                let shown: String = other.escape_debug().collect();
                return Err(self.bad_escape(at, format!("invalid escape sequence '\\{shown}'")));
            }
        })
    }

    /// `\uXXXX`, combining a UTF-16 surrogate pair `\uD83D\uDE00` into one char.
    fn parse_unicode_escape(&self, chars: &mut CharIndices<'_>, at: usize) -> Result<char, FilterError> {
        let bad = |msg: &str| self.bad_escape(at, msg.to_owned());
        let hi = read_hex4(chars).ok_or_else(|| bad("'\\u' must be followed by 4 hex digits"))?;
        let code = match hi {
            0xD800..=0xDBFF => {
                let lo = read_low_surrogate(chars)
                    .ok_or_else(|| bad("'\\u' high surrogate is not followed by a low surrogate"))?;
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(bad("'\\u' low surrogate without a high surrogate")),
            _ => hi,
        };
        char::from_u32(code).ok_or_else(|| bad("'\\u' escape is not a valid character"))
    }
}

/// Four hex digits as a code unit.
fn read_hex4(chars: &mut CharIndices<'_>) -> Option<u32> {
    (0..4).try_fold(0u32, |acc, _| Some(acc * 16 + chars.next()?.1.to_digit(16)?))
}

/// `\uDC00`..`\uDFFF`, the second half of a surrogate pair.
fn read_low_surrogate(chars: &mut CharIndices<'_>) -> Option<u32> {
    if chars.next()?.1 != '\\' || chars.next()?.1 != 'u' {
        return None;
    }
    read_hex4(chars).filter(|lo| (0xDC00..=0xDFFF).contains(lo))
}

/// `urn:` followed by non-empty ':'-separated segments.
fn is_valid_urn(urn: &str) -> bool {
    let has_scheme = urn.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("urn:"));
    has_scheme && urn.split(':').all(|segment| !segment.is_empty())
}

/// JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits_end(b, i + 1),
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits_end(b, i + 1);
        if end == i + 1 {
            return false;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits_end(b, i);
        if end == i {
            return false;
        }
        i = end;
    }
    i == b.len()
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    // --- builders -------------------------------------------------------------

    fn attr(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            attr: name.into(),
            sub_attr: None,
        }
    }

    fn sub(name: &str, sub: &str) -> AttrPath {
        AttrPath {
            sub_attr: Some(sub.into()),
            ..attr(name)
        }
    }

    fn urn(urn: &str, name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: Some(urn.into()),
            attr: name.into(),
            sub_attr: sub.map(Into::into),
        }
    }

    fn s(v: &str) -> CompValue {
        CompValue::Str(v.into())
    }

    fn num(v: &str) -> CompValue {
        CompValue::Num(v.parse().unwrap())
    }

    fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn eq(name: &str, v: CompValue) -> Filter {
        cmp(attr(name), CompareOp::Eq, v)
    }

    fn pr(path: AttrPath) -> Filter {
        Filter::Present(path)
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn vp(path: AttrPath, f: Filter) -> Filter {
        Filter::ValuePath {
            path,
            filter: Box::new(f),
        }
    }

    fn ok(input: &str) -> Filter {
        parse_filter(input).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
    }

    fn fail(input: &str) -> FilterError {
        match parse_filter(input) {
            Err(e) => e,
            Ok(f) => panic!("{input:?} should fail, got {f:?}"),
        }
    }

    fn path_ok(input: &str) -> PatchPath {
        parse_path(input).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
    }

    fn path_fail(input: &str) -> FilterError {
        match parse_path(input) {
            Err(e) => e,
            Ok(p) => panic!("{input:?} should fail, got {p:?}"),
        }
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

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

    // --- values ---------------------------------------------------------------

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

    // --- errors -------------------------------------------------------------------

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

    // --- limits -----------------------------------------------------------------

    fn nested_parens(depth: usize) -> String {
        format!("{}a pr{}", "(".repeat(depth), ")".repeat(depth))
    }

    /// Runs `f` on a thread with a deliberately small stack, so unbounded
    /// recursion would crash the test rather than pass by luck.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn nesting_limit() {
        on_small_stack(|| {
            assert_eq!(ok(&nested_parens(MAX_DEPTH)), pr(attr("a")));
            let e = fail(&nested_parens(MAX_DEPTH + 1));
            assert!(matches!(e, FilterError::TooDeep { .. }));
            assert_eq!(e.offset(), Some(MAX_DEPTH));
            // Deep but within the length limit: the depth counter stops it.
            assert!(matches!(fail(&nested_parens(2000)), FilterError::TooDeep { .. }));
            // 10,000 deep is rejected (by length) without touching the stack.
            assert!(matches!(fail(&nested_parens(10_000)), FilterError::TooLong { .. }));
            // Unclosed deep nesting, `not` chains and brackets count too.
            assert!(matches!(fail(&"(".repeat(4000)), FilterError::TooDeep { .. }));
            let nots = format!("{}a pr{}", "not (".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
            assert!(matches!(fail(&nots), FilterError::TooDeep { .. }));
            let in_bracket = format!("emails[{}]", nested_parens(MAX_DEPTH));
            assert!(matches!(fail(&in_bracket), FilterError::TooDeep { .. }));
            let in_bracket = format!("emails[{}]", nested_parens(MAX_DEPTH - 1));
            ok(&in_bracket);
        });
    }

    /// Left spine length of an and/or chain, walked iteratively.
    fn chain_len(mut f: &Filter) -> usize {
        let mut n = 1;
        while let Filter::And(l, _) | Filter::Or(l, _) = f {
            n += 1;
            f = l;
        }
        n
    }

    #[test]
    fn long_chains() {
        on_small_stack(|| {
            let term = "a eq 1";
            let huge = vec![term; 4000].join(" and ");
            assert!(matches!(fail(&huge), FilterError::TooLong { .. }));

            // The longest `and` chain that fits is built iteratively.
            let n = (MAX_FILTER_LEN + 5) / (term.len() + 5);
            let fits = vec![term; n].join(" and ");
            assert!(fits.len() <= MAX_FILTER_LEN);
            assert_eq!(chain_len(&ok(&fits)), n);

            // Shortest possible terms give the deepest tree the limits allow.
            let n = (MAX_FILTER_LEN + 4) / 8;
            let fits = vec!["a pr"; n].join(" or ");
            assert!(fits.len() <= MAX_FILTER_LEN);
            assert_eq!(chain_len(&ok(&fits)), n);
        });
    }

    // --- PATCH paths ------------------------------------------------------------

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

    // --- robustness ---------------------------------------------------------------

    const SAMPLES: &[&str] = &[
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x\ud83d\ude00\n""#,
        r#"emails[type eq "work"].value"#,
        "displayName eq \"Zoë 中文\" or x ge -1.5e3 and active eq False",
    ];

    #[test]
    fn no_panic_on_any_prefix_or_suffix() {
        for sample in SAMPLES {
            for (i, _) in sample.char_indices() {
                let (head, tail) = sample.split_at(i);
                for part in [head, tail] {
                    let _ = parse_filter(part);
                    let _ = parse_path(part);
                }
            }
        }
    }

    #[test]
    fn no_panic_on_random_input() {
        const PIECES: &[&str] = &[
            " ",
            "\t",
            "(",
            ")",
            "[",
            "]",
            "\"",
            "\\",
            "\\u",
            "d83d",
            "dc00",
            ".",
            ":",
            "urn:",
            "a",
            "emails",
            "eq",
            "pr",
            "and",
            "or",
            "not",
            "1",
            "-",
            "e",
            "true",
            "é",
            "中",
            "\u{1F600}",
            "\u{0}",
            "\n",
            "$",
            "_",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            // xorshift64: deterministic, dependency-free.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let input: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            if let Err(e) = parse_filter(&input) {
                let _ = e.to_string();
            }
            if let Err(e) = parse_path(&input) {
                let _ = e.to_string();
            }
        }
    }
}
