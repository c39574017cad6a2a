//! Recursive descent over the scanner: `or` and `and` chains in loops, grouping
//! (`(...)`, `not (...)`, `attr[...]`) by recursion under a depth counter, and the
//! attribute paths; the two entry points, for filters and for PATCH paths.
use super::error::{FilterError, InputKind, OPERATOR_HINT};
use super::scanner::{SNIPPET_CHARS, Scanner, ends_attr_path, is_path_byte, is_word_byte, is_ws};
use super::{MAX_DEPTH, MAX_FILTER_LEN};
use crate::model::filter::{AttrPath, CompareOp, Filter, PatchPath};

/// Parses a SCIM filter, e.g. `userName eq "bjensen" and not (title pr)`.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(input, InputKind::Filter)?;
    let filter = p.parse_or()?;
    p.scan.finish("'and', 'or' or the end of the filter")?;
    Ok(filter)
}

/// Parses a PATCH operation `path`, e.g. `emails[type eq "work"].value`.
pub fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(input, InputKind::Path)?;
    p.scan.skip_ws();
    let start = p.scan.pos;
    let path = p.parse_attr_path()?;
    let (filter, sub_attr) = if p.scan.peek() == Some(b'[') {
        let filter = p.parse_bracket(&path, start)?;
        (Some(filter), p.parse_sub_attr_after_bracket()?)
    } else {
        (None, None)
    };
    p.scan.finish("the end of the path")?;
    Ok(PatchPath { path, filter, sub_attr })
}

struct Parser<'a> {
    scan: Scanner<'a>,
    /// Current nesting of groups; never exceeds MAX_DEPTH.
    depth: usize,
    /// Inside `attr[...]`: paths must be relative and cannot nest brackets.
    in_value_path: bool,
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
            scan: Scanner::new(src, input),
            depth: 0,
            in_value_path: false,
        })
    }

    // --- nesting --------------------------------------------------------------

    /// Enters a group opened at `open`; the counter bounds recursion depth.
    fn enter(&mut self, open: usize) -> Result<(), FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::TooDeep {
                loc: self.scan.loc(open),
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn expect_close(&mut self, open_pos: usize, open: u8, close: u8) -> Result<(), FilterError> {
        self.scan.skip_ws();
        if self.scan.peek() == Some(close) {
            self.scan.pos += 1;
            return Ok(());
        }
        Err(FilterError::Unclosed {
            loc: self.scan.loc(self.scan.pos),
            open: char::from(open),
            close: char::from(close),
            opened_at: self.scan.loc(open_pos).at,
        })
    }

    // --- logical expressions ------------------------------------------------

    /// `and-expr *("or" and-expr)`, left-associative, built in a loop.
    fn parse_or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_and()?;
        while self.scan.eat_keyword("or") {
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `unary *("and" unary)`, left-associative, built in a loop.
    fn parse_and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_unary()?;
        while self.scan.eat_keyword("and") {
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `"(" filter ")"`, `"not" "(" filter ")"`, or an attribute expression.
    fn parse_unary(&mut self) -> Result<Filter, FilterError> {
        self.scan.skip_ws();
        if self.scan.peek() == Some(b'(') {
            return self.parse_group();
        }
        if self.scan.eat_keyword("not") {
            self.scan.skip_ws();
            if self.scan.peek() != Some(b'(') {
                return Err(self.scan.expected(self.scan.pos, "'(' after 'not'"));
            }
            return Ok(Filter::Not(Box::new(self.parse_group()?)));
        }
        self.parse_attr_exp()
    }

    /// `"(" filter ")"`; `self.scan.pos` is at the '('.
    fn parse_group(&mut self) -> Result<Filter, FilterError> {
        let open = self.scan.pos;
        self.enter(open)?;
        self.scan.pos += 1;
        let inner = self.parse_or()?;
        self.expect_close(open, b'(', b')')?;
        self.depth -= 1;
        Ok(inner)
    }

    // --- attribute expressions ----------------------------------------------

    /// `attrPath "pr"`, `attrPath op value`, or `attrPath "[" filter "]"`.
    fn parse_attr_exp(&mut self) -> Result<Filter, FilterError> {
        let start = self.scan.pos;
        let path = self.parse_attr_path()?;
        if self.in_value_path && (path.urn.is_some() || path.sub_attr.is_some()) {
            return Err(self.scan.bad_value_path(
                start,
                "inside '[...]' use plain sub-attribute names, e.g. emails[type eq \"work\"]",
            ));
        }
        self.scan.skip_ws();
        if self.scan.peek() == Some(b'[') {
            return self.parse_value_path(path, start);
        }
        self.parse_comparison(path)
    }

    /// Value path inside a filter: `attr[...]`, with no `.subAttr` after it.
    fn parse_value_path(&mut self, path: AttrPath, start: usize) -> Result<Filter, FilterError> {
        let filter = self.parse_bracket(&path, start)?;
        if self.scan.peek() == Some(b'.') {
            return Err(self.scan.bad_value_path(
                self.scan.pos,
                "a sub-attribute after ']' is only allowed in PATCH paths, not in filters",
            ));
        }
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    /// `"[" filter "]"` after `path` (which started at `start`); `self.scan.pos` is at '['.
    fn parse_bracket(&mut self, path: &AttrPath, start: usize) -> Result<Filter, FilterError> {
        if self.in_value_path {
            return Err(self
                .scan
                .bad_value_path(self.scan.pos, "value filters '[...]' cannot be nested"));
        }
        if path.sub_attr.is_some() {
            return Err(self
                .scan
                .bad_value_path(start, "'[...]' must follow an attribute without a sub-attribute"));
        }
        let open = self.scan.pos;
        self.enter(open)?;
        self.scan.pos += 1;
        self.in_value_path = true;
        let inner = self.parse_or()?;
        self.expect_close(open, b'[', b']')?;
        self.in_value_path = false;
        self.depth -= 1;
        Ok(inner)
    }

    /// The `.subAttr` allowed after `]` in a PATCH path.
    fn parse_sub_attr_after_bracket(&mut self) -> Result<Option<String>, FilterError> {
        if self.scan.peek() != Some(b'.') {
            return Ok(None);
        }
        self.scan.pos += 1;
        let at = self.scan.pos;
        let name = self.scan.take_run(is_path_byte);
        if let Some(i) = name.find(['.', ':']) {
            return Err(self.scan.bad_attr_path(at + i, "only one sub-attribute may follow ']'"));
        }
        self.check_name(name, at)?;
        Ok(Some(name.to_owned()))
    }

    /// Operator and value after an attribute path; `self.scan.pos` is at the operator.
    fn parse_comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let op_at = self.scan.pos;
        let word = self.scan.take_run(is_word_byte);
        if word.is_empty() {
            return Err(self.scan.expected(op_at, OPERATOR_HINT));
        }
        if word.eq_ignore_ascii_case("pr") {
            self.reject_value_after_pr()?;
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::from_keyword(word).ok_or_else(|| FilterError::UnknownOperator {
            loc: self.scan.loc(op_at),
            found: word.chars().take(SNIPPET_CHARS).collect(),
        })?;
        let value = self.scan.parse_value(op)?;
        Ok(Filter::Compare { path, op, value })
    }

    /// After `pr` only the end, a closer, `and` or `or` may follow.
    fn reject_value_after_pr(&mut self) -> Result<(), FilterError> {
        let saved = self.scan.pos;
        self.scan.skip_ws();
        let next_at = self.scan.pos;
        let fine = match self.scan.peek() {
            None | Some(b')' | b']') => true,
            Some(_) => {
                let word = self.scan.peek_run(is_word_byte);
                word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or")
            }
        };
        self.scan.pos = saved;
        if fine {
            Ok(())
        } else {
            Err(FilterError::PresentWithValue {
                loc: self.scan.loc(next_at),
            })
        }
    }

    // --- attribute paths ------------------------------------------------------

    /// `[URN ":"] ATTRNAME ["." ATTRNAME]`.
    fn parse_attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.scan.pos;
        let run = self.scan.take_run(is_path_byte);
        if run.is_empty() {
            return Err(self.scan.expected(start, "an attribute name"));
        }
        if self.scan.peek().is_some_and(|b| !ends_attr_path(b)) {
            return Err(self.scan.bad_attr_path(
                self.scan.pos,
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
            return Err(self.scan.bad_attr_path(
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
                return Err(self.scan.bad_attr_path(
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
            None => Err(self.scan.expected(at, "an attribute name")),
            Some(b) if b.is_ascii_alphabetic() || b == b'$' => Ok(()),
            Some(_) => Err(self.scan.bad_attr_path(at, "attribute names must start with a letter")),
        }
    }
}

/// `urn:` followed by non-empty ':'-separated segments.
fn is_valid_urn(urn: &str) -> bool {
    let has_scheme = urn.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("urn:"));
    has_scheme && urn.split(':').all(|segment| !segment.is_empty())
}

#[cfg(test)]
mod tests;
