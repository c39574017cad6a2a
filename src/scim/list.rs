//! List and search parameters (RFC 7644 §3.4.2), and attribute projection (§3.4.2.5).
use super::ScimError;
use super::filter::{self, Filter};
use super::schema::{Resource, Returned, find};
use crate::model::query::{Page, Sort, SortKey};
use serde_json::{Map, Value};

/// The largest page Tessera returns, as advertised in ServiceProviderConfig.
pub const MAX_RESULTS: u64 = 1000;
pub const DEFAULT_COUNT: u64 = 100;

#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

/// Attribute names of `attributes=` / `excludedAttributes=`. A value filter some
/// clients put there (`emails[type eq "work"]`) selects the attribute as a whole.
fn split(list: Option<&str>) -> Vec<String> {
    let Some(list) = list else { return Vec::new() };
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in list.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => out.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    out.push(current);
    out.into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

impl ListParams {
    /// From query-string style values (GET) or a SearchRequest's fields (POST .search).
    pub fn parse(
        filter: Option<&str>,
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        start_index: Option<i64>,
        count: Option<i64>,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, ScimError> {
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(filter::parse_filter(f).map_err(|e| ScimError::invalid_filter(e.to_string()))?),
            None => None,
        };
        let descending = match sort_order.map(str::to_ascii_lowercase).as_deref() {
            None | Some("ascending") | Some("") => false,
            Some("descending") => true,
            Some(other) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder '{other}' must be ascending or descending"
                )));
            }
        };
        Ok(Self {
            filter,
            sort_by: sort_by.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
            descending,
            start_index,
            count,
            attributes: split(attributes),
            excluded: split(excluded),
        })
    }

    /// A startIndex below 1 counts as 1; a negative count as 0; count is capped.
    pub fn page(&self) -> Page {
        Page {
            start_index: self.start_index.map_or(1, |s| s.max(1) as u64),
            count: self.count.map_or(DEFAULT_COUNT, |c| (c.max(0) as u64).min(MAX_RESULTS)),
        }
    }
}

/// What a SCIM sortBy path on Users sorts by (multi-valued emails: the primary).
pub fn user_sort_key(path: &str) -> Option<SortKey> {
    let p = path.to_lowercase();
    let p = p.rsplit_once(':').map_or(p.as_str(), |(_, a)| a);
    Some(match p {
        "id" => SortKey::Id,
        "username" => SortKey::UserName,
        "displayname" => SortKey::DisplayName,
        "name.familyname" => SortKey::FamilyName,
        "name.givenname" => SortKey::GivenName,
        "name.formatted" => SortKey::FormattedName,
        "title" => SortKey::Title,
        "usertype" => SortKey::UserType,
        "externalid" => SortKey::ExternalId,
        "emails" | "emails.value" => SortKey::Email,
        "meta.created" => SortKey::Created,
        "meta.lastmodified" => SortKey::LastModified,
        "employeenumber" => SortKey::EmployeeNumber,
        "department" => SortKey::Department,
        _ => return None,
    })
}

/// What a SCIM sortBy path on Groups sorts by.
pub fn group_sort_key(path: &str) -> Option<SortKey> {
    Some(match path.to_lowercase().as_str() {
        "id" => SortKey::Id,
        "displayname" => SortKey::DisplayName,
        "externalid" => SortKey::ExternalId,
        "meta.created" => SortKey::Created,
        "meta.lastmodified" => SortKey::LastModified,
        _ => return None,
    })
}

/// The sort a list request asks for, when its sortBy names something `key_of` knows.
pub fn sort(params: &ListParams, key_of: fn(&str) -> Option<SortKey>) -> Result<Option<Sort>, ScimError> {
    params
        .sort_by
        .as_deref()
        .map(|by| {
            Ok(Sort {
                key: key_of(by).ok_or_else(|| ScimError::invalid_value(format!("cannot sort by '{by}'")))?,
                descending: params.descending,
            })
        })
        .transpose()
}

/// The ListResponse body.
pub fn response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": [super::schema::LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// Applies `attributes` / `excludedAttributes` to a full representation. `returned:
/// always` attributes (id, schemas) stay; `returned: never` ones were never there.
pub fn project(resource: Resource, doc: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(mut obj) = doc else { return doc };
    if !attributes.is_empty() {
        let mut out = Map::new();
        for key in ["schemas", "id"] {
            if let Some(v) = obj.remove(key) {
                out.insert(key.into(), v);
            }
        }
        for path in attributes {
            copy_path(resource, &obj, &mut out, path);
        }
        return Value::Object(out);
    }
    for path in excluded {
        remove_path(resource, &mut obj, path);
    }
    Value::Object(obj)
}

/// Splits `urn:…:attr.sub` into (container key or None for core, attr, sub).
fn locate(resource: Resource, path: &str) -> Option<(Option<&'static str>, String, Option<String>)> {
    let is_urn = path.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let (urn, rest) = match path.rsplit_once(':') {
        Some((urn, rest)) if is_urn => (Some(urn), rest),
        _ => (None, path),
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a.to_string(), Some(s.to_string())),
        None => (rest.to_string(), None),
    };
    match urn {
        None => Some((None, attr, sub)),
        Some(u) if u.eq_ignore_ascii_case(resource.core_urn()) => Some((None, attr, sub)),
        Some(u) => {
            let (ext, _) = resource.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(u))?;
            // A whole extension named by its URN alone.
            if attr.is_empty() {
                return Some((Some(ext), String::new(), None));
            }
            Some((Some(ext), attr, sub))
        }
    }
}

fn key_in<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name))
}

fn copy_path(resource: Resource, from: &Map<String, Value>, to: &mut Map<String, Value>, path: &str) {
    // `attributes=urn:…:User` (a whole extension).
    if let Some((ext, _)) = resource.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(path)) {
        if let Some(v) = from.get(*ext) {
            to.insert((*ext).to_string(), v.clone());
        }
        return;
    }
    let Some((container, attr, sub)) = locate(resource, path) else {
        return;
    };
    let (src, dst) = match container {
        None => (Some(from), to),
        Some(ext) => {
            let src = from.get(ext).and_then(Value::as_object);
            let dst = to.entry(ext.to_string()).or_insert_with(|| Value::Object(Map::new()));
            match dst.as_object_mut() {
                Some(d) => (src, d),
                None => return,
            }
        }
    };
    let Some(src) = src else { return };
    let Some(key) = key_in(src, &attr) else { return };
    let value = &src[key];
    match sub {
        None => {
            dst.insert(key.clone(), value.clone());
        }
        Some(sub) => match value {
            Value::Object(o) => {
                if let Some(sk) = key_in(o, &sub) {
                    let slot = dst.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
                    if let Some(m) = slot.as_object_mut() {
                        m.insert(sk.clone(), o[sk].clone());
                    }
                }
            }
            Value::Array(items) => {
                let picked: Vec<Value> = items
                    .iter()
                    .filter_map(|i| {
                        let o = i.as_object()?;
                        let sk = key_in(o, &sub)?;
                        let mut m = Map::new();
                        m.insert(sk.clone(), o[sk].clone());
                        Some(Value::Object(m))
                    })
                    .collect();
                if !picked.is_empty() {
                    dst.insert(key.clone(), Value::Array(picked));
                }
            }
            _ => {}
        },
    }
}

fn remove_path(resource: Resource, obj: &mut Map<String, Value>, path: &str) {
    let Some((container, attr, sub)) = locate(resource, path) else {
        return;
    };
    // Attributes returned "always" cannot be excluded.
    if container.is_none()
        && resource
            .top(&attr)
            .is_some_and(|a| a.returned == Returned::Always || a.name == "schemas")
    {
        return;
    }
    let target = match container {
        None => Some(obj),
        Some(ext) if attr.is_empty() => {
            obj.remove(ext);
            return;
        }
        Some(ext) => obj.get_mut(ext).and_then(Value::as_object_mut),
    };
    let Some(target) = target else { return };
    let Some(key) = key_in(target, &attr).cloned() else {
        return;
    };
    match sub {
        None => {
            target.remove(&key);
        }
        Some(sub) => match target.get_mut(&key) {
            Some(Value::Object(o)) => {
                if let Some(sk) = key_in(o, &sub).cloned() {
                    o.remove(&sk);
                }
            }
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    if let Some(o) = item.as_object_mut()
                        && let Some(sk) = key_in(o, &sub).cloned()
                    {
                        o.remove(&sk);
                    }
                }
            }
            _ => {}
        },
    }
}

/// Whether an attribute name exists for a resource (to reject sortBy on unknown ones).
pub fn known_attribute(resource: Resource, path: &str) -> bool {
    match locate(resource, path) {
        Some((None, attr, _)) => resource.top(&attr).is_some(),
        Some((Some(ext), attr, _)) => resource
            .attrs_of(ext)
            .is_some_and(|attrs| attr.is_empty() || find(attrs, &attr).is_some()),
        None => false,
    }
}
