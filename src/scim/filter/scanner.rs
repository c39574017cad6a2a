//! The on-demand tokenizer: byte classes, runs of them, keywords, and the value
//! literals (JSON strings and numbers, `true`/`false`/`null`, unquoted Entra words).
//! The parser says what it expects next; the scanner reads just that.
use std::str::CharIndices;

use serde_json::Number;

use super::error::{FilterError, InputKind, Loc};
use crate::model::filter::{CompValue, CompareOp};

/// Longest piece of offending input echoed back in an error message.
pub(super) const SNIPPET_CHARS: usize = 24;

// ---------------------------------------------------------------------------
// Byte classes. All delimiters are ASCII, so stopping on them always leaves
// `pos` on a UTF-8 character boundary.
// ---------------------------------------------------------------------------

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Characters of `urn:...:attr.sub`.
pub(super) fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.' | b':')
}

/// What may directly follow an attribute path.
pub(super) fn ends_attr_path(b: u8) -> bool {
    is_ws(b) || matches!(b, b'[' | b']' | b'(' | b')')
}

/// Keywords and operators: anything up to whitespace or punctuation.
pub(super) fn is_word_byte(b: u8) -> bool {
    !is_ws(b) && !matches!(b, b'(' | b')' | b'[' | b']' | b'"')
}

/// Unquoted (Entra-style) values run until whitespace, `)` or `]`.
fn is_bare_value_byte(b: u8) -> bool {
    !is_ws(b) && !matches!(b, b')' | b']')
}

// ---------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------

pub(super) struct Scanner<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pub(super) pos: usize,
    input: InputKind,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(src: &'a str, input: InputKind) -> Self {
        Scanner { src, pos: 0, input }
    }

    // --- low-level scanning -------------------------------------------------

    pub(super) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub(super) fn skip_ws(&mut self) {
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

    pub(super) fn peek_run(&self, pred: fn(u8) -> bool) -> &'a str {
        self.src.get(self.pos..self.scan(pred)).unwrap_or("")
    }

    pub(super) fn take_run(&mut self, pred: fn(u8) -> bool) -> &'a str {
        let run = self.peek_run(pred);
        self.pos += run.len();
        run
    }

    /// Consumes `kw` (case-insensitive) if it is the next whole word.
    pub(super) fn eat_keyword(&mut self, kw: &str) -> bool {
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
    pub(super) fn loc(&self, pos: usize) -> Loc {
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

    pub(super) fn expected(&self, pos: usize, expected: &'static str) -> FilterError {
        FilterError::Expected {
            loc: self.loc(pos),
            expected,
        }
    }

    pub(super) fn bad_attr_path(&self, pos: usize, reason: &'static str) -> FilterError {
        FilterError::InvalidAttrPath {
            loc: self.loc(pos),
            reason,
        }
    }

    pub(super) fn bad_value_path(&self, pos: usize, reason: &'static str) -> FilterError {
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
    pub(super) fn finish(&mut self, expected: &'static str) -> Result<(), FilterError> {
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

    // --- values -------------------------------------------------------------

    pub(super) fn parse_value(&mut self, op: CompareOp) -> Result<CompValue, FilterError> {
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
mod tests;
