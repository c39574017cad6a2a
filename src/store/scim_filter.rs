//! SCIM filter tree → SQL condition (sea-query), the same on SQLite and PostgreSQL.
//! Multi-valued attributes become EXISTS sub-queries on their own rows, so a filter
//! never loads the directory into memory.
use super::StoreError;
use crate::model::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::model::query::FilterSchema;
use crate::model::username;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Users,
    Groups,
}

#[derive(Clone, Copy)]
enum Kind {
    /// Compared case-insensitively through LOWER(column).
    Text,
    /// A column that already holds the lower-cased value.
    Lowered,
    /// Stored as its RFC 8265 key (`accounts::username`).
    Username,
    /// Compared exactly (caseExact attributes).
    Exact,
    Bool,
    Date,
    Uuid,
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::UnsupportedFilter(message.into())
}

fn col(table: &str, column: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// What a filter is read against: the table, and what the published schema says of it.
#[derive(Clone, Copy)]
struct On<'a> {
    table: Table,
    schema: &'a FilterSchema,
}

/// The condition for `filter` on users or groups.
pub fn condition(table: Table, schema: &FilterSchema, filter: &Filter) -> Result<Cond, StoreError> {
    build(On { table, schema }, filter, 0)
}

fn build(on: On<'_>, filter: &Filter, depth: usize) -> Result<Cond, StoreError> {
    if depth > 64 {
        return Err(bad("the filter is nested too deeply"));
    }
    Ok(match filter {
        Filter::And(a, b) => Cond::all().add(build(on, a, depth + 1)?).add(build(on, b, depth + 1)?),
        Filter::Or(a, b) => Cond::any().add(build(on, a, depth + 1)?).add(build(on, b, depth + 1)?),
        Filter::Not(inner) => build(on, inner, depth + 1)?.not(),
        Filter::Present(path) => Cond::all().add(attribute(on, path, None, None)?),
        Filter::Compare { path, op, value } => Cond::all().add(attribute(on, path, Some(*op), Some(value))?),
        Filter::ValuePath { path, filter } => Cond::all().add(value_path(on, path, filter)?),
    })
}

/// Resolves an attribute path and applies `op value` (or presence when `op` is None).
fn attribute(
    on: On<'_>,
    path: &AttrPath,
    op: Option<CompareOp>,
    value: Option<&CompValue>,
) -> Result<SimpleExpr, StoreError> {
    let attr = path.attr.to_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_lowercase);
    let urn = path.urn.as_deref().map(str::to_lowercase);
    let table = on.table;
    let core = on.schema.core;
    let enterprise = urn.is_some() && urn.as_deref() == on.schema.extension.map(str::to_lowercase).as_deref();
    if let Some(u) = &urn
        && u != &core.to_lowercase()
        && !enterprise
    {
        return Err(bad(format!("unknown schema '{}'", path.urn.as_deref().unwrap_or(""))));
    }
    let key = match &sub {
        Some(s) => format!("{attr}.{s}"),
        None => attr.clone(),
    };
    if let Some(name) = on.multi_valued(&attr) {
        let inner = multi_inner(&attr, sub.as_deref().unwrap_or("value"), op, value)?;
        return Ok(exists_value(name, inner));
    }
    if table == Table::Users && attr == "groups" {
        return member_of(sub.as_deref().unwrap_or("value"), op, value);
    }
    if table == Table::Groups && attr == "members" {
        return has_member(sub.as_deref().unwrap_or("value"), op, value);
    }
    let (column, kind) = match table {
        Table::Users if enterprise => enterprise_column(&key),
        Table::Users => user_column(&key).or_else(|| if urn.is_none() { enterprise_column(&key) } else { None }),
        Table::Groups => group_column(&key),
    }
    .ok_or_else(|| bad(format!("cannot filter on '{}'", display_path(path))))?;
    let table_name = match table {
        Table::Users => "users",
        Table::Groups => "groups",
    };
    if key == "name" {
        // `name pr`: any part of the name.
        return match op {
            None => Ok(Expr::expr(col("users", "given_name").is_not_null())
                .or(col("users", "family_name").is_not_null())
                .or(col("users", "name_formatted").is_not_null())),
            Some(_) => Err(bad(
                "'name' is complex: compare one of its sub-attributes, e.g. name.familyName",
            )),
        };
    }
    compare(col(table_name, column), kind, op, value, &display_path(path))
}

fn display_path(p: &AttrPath) -> String {
    let mut s = String::new();
    if let Some(u) = &p.urn {
        s.push_str(u);
        s.push(':');
    }
    s.push_str(&p.attr);
    if let Some(sub) = &p.sub_attr {
        s.push('.');
        s.push_str(sub);
    }
    s
}

fn user_column(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "id" => ("id", Kind::Uuid),
        "externalid" => ("external_id", Kind::Exact),
        "username" => ("username_lower", Kind::Username),
        "displayname" => ("display_name", Kind::Text),
        "name" => ("given_name", Kind::Text),
        "name.givenname" => ("given_name", Kind::Text),
        "name.familyname" => ("family_name", Kind::Text),
        "name.formatted" => ("name_formatted", Kind::Text),
        "name.middlename" => ("middle_name", Kind::Text),
        "name.honorificprefix" => ("honorific_prefix", Kind::Text),
        "name.honorificsuffix" => ("honorific_suffix", Kind::Text),
        "nickname" => ("nick_name", Kind::Text),
        "profileurl" => ("profile_url", Kind::Exact),
        "title" => ("title", Kind::Text),
        "usertype" => ("user_type", Kind::Text),
        "preferredlanguage" => ("preferred_language", Kind::Text),
        "locale" => ("locale", Kind::Text),
        "timezone" => ("timezone", Kind::Text),
        "active" => ("active", Kind::Bool),
        "meta.created" => ("created_at", Kind::Date),
        "meta.lastmodified" => ("updated_at", Kind::Date),
        _ => return None,
    })
}

fn enterprise_column(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "employeenumber" => ("employee_number", Kind::Text),
        "costcenter" => ("cost_center", Kind::Text),
        "organization" => ("organization", Kind::Text),
        "division" => ("division", Kind::Text),
        "department" => ("department", Kind::Text),
        "manager" | "manager.value" => ("manager_id", Kind::Exact),
        _ => return None,
    })
}

fn group_column(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "id" => ("id", Kind::Uuid),
        "externalid" => ("external_id", Kind::Exact),
        "displayname" => ("display_name_lower", Kind::Lowered),
        "meta.created" => ("created_at", Kind::Date),
        "meta.lastmodified" => ("updated_at", Kind::Date),
        _ => return None,
    })
}

impl On<'_> {
    /// The attribute's name as published, when it is kept as value rows.
    fn multi_valued(self, attr: &str) -> Option<&'static str> {
        self.schema
            .multi_valued
            .iter()
            .find(|m| m.eq_ignore_ascii_case(attr))
            .copied()
    }
}

/// The condition on one user_values row for `sub op value`.
fn multi_inner(
    attr: &str,
    sub: &str,
    op: Option<CompareOp>,
    value: Option<&CompValue>,
) -> Result<SimpleExpr, StoreError> {
    let what = format!("{attr}.{sub}");
    let sub = if attr == "addresses" && sub == "formatted" {
        "value"
    } else {
        sub
    };
    let (column, kind) = match sub {
        "value" => ("value_lower", Kind::Lowered),
        "type" => ("kind_lower", Kind::Lowered),
        "display" => ("display", Kind::Text),
        "primary" => ("is_primary", Kind::Bool),
        _ => return Err(bad(format!("cannot filter on '{what}'"))),
    };
    compare(col("user_values", column), kind, op, value, &what)
}

/// `users.id IN (SELECT user_id FROM user_values WHERE ...)` rather than a correlated
/// EXISTS: SQLite then scans the values once instead of probing them once per user.
fn exists_value(attr: &str, inner: SimpleExpr) -> SimpleExpr {
    let query = Query::select()
        .column((Alias::new("user_values"), Alias::new("user_id")))
        .from(Alias::new("user_values"))
        .and_where(col("user_values", "attr").eq(attr))
        .and_where(inner)
        .to_owned();
    col("users", "id").in_subquery(query)
}

/// `emails[type eq "work" and value co "@x"]`: one row must satisfy the whole inner filter.
fn value_path(on: On<'_>, path: &AttrPath, inner: &Filter) -> Result<SimpleExpr, StoreError> {
    let attr = path.attr.to_lowercase();
    let table = on.table;
    if let Some(name) = on.multi_valued(&attr) {
        let cond = inner_row(&attr, inner, 0)?;
        let query = Query::select()
            .column((Alias::new("user_values"), Alias::new("user_id")))
            .from(Alias::new("user_values"))
            .and_where(col("user_values", "attr").eq(name))
            .cond_where(cond)
            .to_owned();
        return Ok(col("users", "id").in_subquery(query));
    }
    if (table == Table::Groups && attr == "members") || (table == Table::Users && attr == "groups") {
        // Only `value` is filterable inside; reduce to the plain form.
        if let Filter::Compare { path: p, op, value } = inner
            && p.attr.eq_ignore_ascii_case("value")
        {
            return if table == Table::Groups {
                has_member("value", Some(*op), Some(value))
            } else {
                member_of("value", Some(*op), Some(value))
            };
        }
        return Err(bad(format!(
            "inside {}[...] only 'value eq \"id\"' is supported",
            path.attr
        )));
    }
    Err(bad(format!("'{}' is not a multi-valued attribute", display_path(path))))
}

fn inner_row(attr: &str, filter: &Filter, depth: usize) -> Result<Cond, StoreError> {
    if depth > 32 {
        return Err(bad("the filter is nested too deeply"));
    }
    Ok(match filter {
        Filter::And(a, b) => Cond::all()
            .add(inner_row(attr, a, depth + 1)?)
            .add(inner_row(attr, b, depth + 1)?),
        Filter::Or(a, b) => Cond::any()
            .add(inner_row(attr, a, depth + 1)?)
            .add(inner_row(attr, b, depth + 1)?),
        Filter::Not(x) => inner_row(attr, x, depth + 1)?.not(),
        Filter::Present(p) => Cond::all().add(multi_inner(attr, &p.attr.to_lowercase(), None, None)?),
        Filter::Compare { path, op, value } => {
            Cond::all().add(multi_inner(attr, &path.attr.to_lowercase(), Some(*op), Some(value))?)
        }
        Filter::ValuePath { .. } => return Err(bad("value filters cannot be nested")),
    })
}

fn uuid_value(value: Option<&CompValue>) -> Option<uuid::Uuid> {
    match value {
        Some(CompValue::Str(s)) => uuid::Uuid::parse_str(s.trim()).ok(),
        _ => None,
    }
}

/// Users in a group: `groups.value eq "<group id>"`.
fn member_of(sub: &str, op: Option<CompareOp>, value: Option<&CompValue>) -> Result<SimpleExpr, StoreError> {
    let base = || {
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new("group_members"))
            .and_where(col("group_members", "member_user_id").equals((Alias::new("users"), Alias::new("id"))))
            .to_owned()
    };
    match (sub, op) {
        (_, None) => Ok(Expr::exists(base())),
        ("value", Some(CompareOp::Eq | CompareOp::Ne)) => {
            let found = match uuid_value(value) {
                Some(id) => Expr::exists(base().and_where(col("group_members", "group_id").eq(id)).to_owned()),
                None => Expr::val(false),
            };
            Ok(if op == Some(CompareOp::Ne) { found.not() } else { found })
        }
        _ => Err(bad(
            "on groups, only 'groups.value eq \"id\"' and 'groups pr' are supported",
        )),
    }
}

/// Groups with a member: `members.value eq "<id>"`.
fn has_member(sub: &str, op: Option<CompareOp>, value: Option<&CompValue>) -> Result<SimpleExpr, StoreError> {
    let base = || {
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new("group_members"))
            .and_where(col("group_members", "group_id").equals((Alias::new("groups"), Alias::new("id"))))
            .to_owned()
    };
    match (sub, op) {
        (_, None) => Ok(Expr::exists(base())),
        ("value", Some(CompareOp::Eq | CompareOp::Ne)) => {
            let found = match uuid_value(value) {
                Some(id) => Expr::exists(
                    base()
                        .cond_where(
                            Cond::any()
                                .add(col("group_members", "member_user_id").eq(id))
                                .add(col("group_members", "member_group_id").eq(id)),
                        )
                        .to_owned(),
                ),
                None => Expr::val(false),
            };
            Ok(if op == Some(CompareOp::Ne) { found.not() } else { found })
        }
        _ => Err(bad(
            "on members, only 'members.value eq \"id\"' and 'members pr' are supported",
        )),
    }
}

pub(super) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn compare(
    column: Expr,
    kind: Kind,
    op: Option<CompareOp>,
    value: Option<&CompValue>,
    what: &str,
) -> Result<SimpleExpr, StoreError> {
    let Some(op) = op else {
        return Ok(match kind {
            Kind::Text | Kind::Lowered | Kind::Username | Kind::Exact => {
                Expr::expr(column.clone().is_not_null()).and(column.ne(""))
            }
            _ => column.is_not_null(),
        });
    };
    let value = value.ok_or_else(|| bad(format!("'{what}' needs a value")))?;
    if matches!(value, CompValue::Null) {
        return match op {
            CompareOp::Eq => Ok(column.is_null()),
            CompareOp::Ne => Ok(column.is_not_null()),
            _ => Err(bad(format!("'{what}' can only be compared with null by eq or ne"))),
        };
    }
    match kind {
        Kind::Bool => {
            let CompValue::Bool(b) = value else {
                return Err(bad(format!("'{what}' is boolean: compare it with true or false")));
            };
            match op {
                CompareOp::Eq => Ok(column.eq(*b)),
                CompareOp::Ne => Ok(column.ne(*b)),
                _ => Err(bad(format!("'{what}' is boolean: only eq, ne and pr apply"))),
            }
        }
        Kind::Date => {
            let CompValue::Str(s) = value else {
                return Err(bad(format!("'{what}' is a date: give it as \"2026-11-23T07:00:00Z\"")));
            };
            let at: DateTime<Utc> = DateTime::parse_from_rfc3339(s.trim())
                .map_err(|_| bad(format!("'{s}' is not an RFC 3339 date-time")))?
                .with_timezone(&Utc);
            ordered(column, op, at, what)
        }
        Kind::Uuid => {
            let id = uuid_value(Some(value));
            match (op, id) {
                (CompareOp::Eq, Some(id)) => Ok(column.eq(id)),
                (CompareOp::Ne, Some(id)) => Ok(column.ne(id)),
                (CompareOp::Eq, None) => Ok(Expr::val(false)),
                (CompareOp::Ne, None) => Ok(Expr::val(true)),
                _ => Err(bad(format!("'{what}' only supports eq and ne"))),
            }
        }
        Kind::Text | Kind::Lowered | Kind::Username | Kind::Exact => {
            let text = match value {
                CompValue::Str(s) => s.clone(),
                CompValue::Num(n) => n.to_string(),
                CompValue::Bool(b) => b.to_string(),
                CompValue::Null => String::new(),
            };
            let (lhs, text) = match kind {
                Kind::Text => (Expr::expr(Func::lower(column.clone())), text.to_lowercase()),
                Kind::Lowered => (column.clone(), text.to_lowercase()),
                Kind::Username if matches!(op, CompareOp::Eq | CompareOp::Ne) => {
                    (column.clone(), username::lookup_key(&text))
                }
                Kind::Username => (column.clone(), username::fragment_key(&text)),
                _ => (column.clone(), text),
            };
            Ok(match op {
                CompareOp::Eq => lhs.eq(text),
                CompareOp::Ne => Expr::expr(column.is_null()).or(lhs.ne(text)),
                CompareOp::Co => lhs.like(LikeExpr::new(format!("%{}%", escape_like(&text))).escape('\\')),
                CompareOp::Sw => lhs.like(LikeExpr::new(format!("{}%", escape_like(&text))).escape('\\')),
                CompareOp::Ew => lhs.like(LikeExpr::new(format!("%{}", escape_like(&text))).escape('\\')),
                other => ordered(lhs, other, text, what)?,
            })
        }
    }
}

fn ordered<V>(column: Expr, op: CompareOp, v: V, what: &str) -> Result<SimpleExpr, StoreError>
where
    V: Into<sea_orm::sea_query::Value>,
{
    Ok(match op {
        CompareOp::Eq => column.eq(v),
        CompareOp::Ne => column.ne(v),
        CompareOp::Gt => column.gt(v),
        CompareOp::Ge => column.gte(v),
        CompareOp::Lt => column.lt(v),
        CompareOp::Le => column.lte(v),
        _ => return Err(bad(format!("'{what}' does not support co, sw or ew"))),
    })
}
