//! PATCH (RFC 7644 §3.5.2) on a canonical resource document: add, replace and
//! remove, with and without `path`, value filters included. Accepts what Entra ID
//! and Okta send: "Replace", "False", path-less values with dotted or URN keys.
use super::ScimError;
use super::canonical::{self, coerce};
use super::filter::{self, AttrPath, CompValue, CompareOp, Filter, PatchPath};
use super::schema::{self, Attr, Kind, Mutability, Resource};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// Reads a PatchOp body: schemas checked, op names case-insensitive.
pub fn parse_request(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a PatchOp JSON object"))?;
    let schemas = field(obj, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| {
        s.iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(schema::PATCH_OP)))
    }) {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must contain {}",
            schema::PATCH_OP
        )));
    }
    let ops = field(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be an array"))?;
    if ops.is_empty() {
        return Err(ScimError::invalid_syntax("Operations is empty"));
    }
    ops.iter()
        .map(|o| {
            let o = o
                .as_object()
                .ok_or_else(|| ScimError::invalid_syntax("each operation must be an object"))?;
            let op = match field(o, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("add") => Op::Add,
                Some("replace") => Op::Replace,
                Some("remove") => Op::Remove,
                other => {
                    return Err(ScimError::invalid_syntax(format!(
                        "op must be add, replace or remove, not {}",
                        other.unwrap_or("missing")
                    )));
                }
            };
            let path = field(o, "path")
                .and_then(Value::as_str)
                .map(str::to_string)
                .filter(|p| !p.trim().is_empty());
            let value = field(o, "value").cloned();
            if op != Op::Remove && value.is_none() {
                return Err(ScimError::invalid_syntax("add and replace need a value"));
            }
            if op == Op::Remove && path.is_none() {
                return Err(ScimError::no_target("remove needs a path"));
            }
            Ok(Operation { op, path, value })
        })
        .collect()
}

/// Applies operations to `doc` (a canonical full representation) in order.
pub fn apply(resource: Resource, doc: &mut Value, ops: &[Operation]) -> Result<(), ScimError> {
    for op in ops {
        apply_one(resource, doc, op)?;
    }
    Ok(())
}

fn apply_one(resource: Resource, doc: &mut Value, op: &Operation) -> Result<(), ScimError> {
    let root = doc
        .as_object_mut()
        .ok_or_else(|| ScimError::internal("resource is not an object"))?;
    let Some(path) = &op.path else {
        // Path-less add/replace: the value is an object of attributes.
        let value =
            op.value.as_ref().and_then(Value::as_object).ok_or_else(|| {
                ScimError::invalid_syntax("without a path, the value must be an object of attributes")
            })?;
        let mut staged = Map::new();
        for (k, v) in value {
            canonical::put(resource, &mut staged, k, v)?;
        }
        for (key, v) in staged {
            if key == "schemas" {
                continue;
            }
            if let Some(attrs) = resource.attrs_of(&key) {
                let ext = root.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
                let (Some(ext), Value::Object(inner)) = (ext.as_object_mut(), v) else {
                    continue;
                };
                for (k, v) in inner {
                    let attr = schema::find(attrs, &k).ok_or_else(|| ScimError::invalid_path(k.clone()))?;
                    set_attr(ext, attr, v, op.op)?;
                }
                continue;
            }
            let attr = resource.top(&key).ok_or_else(|| ScimError::invalid_path(key.clone()))?;
            set_attr(root, attr, v, op.op)?;
        }
        return Ok(());
    };

    if let Some((urn, attrs)) = resource
        .extensions()
        .iter()
        .find(|(u, _)| u.eq_ignore_ascii_case(path.trim()))
    {
        return whole_extension(root, urn, attrs, op);
    }
    let parsed = filter::parse_path(path).map_err(|e| ScimError::invalid_path(e.to_string()))?;
    let (container, attr) = resolve(resource, root, &parsed.path)?;
    let PatchPath {
        path: attr_path,
        filter,
        sub_attr,
    } = parsed;
    // `name.givenName` style (no filter): the sub-attribute comes in the attr path.
    let sub = sub_attr.or(attr_path.sub_attr.clone());
    match (filter, sub) {
        (None, None) => match op.op {
            Op::Remove => {
                check_writable(attr, true)?;
                container.remove(attr.name);
                Ok(())
            }
            _ => {
                let value = coerce(attr, op.value.as_ref().unwrap_or(&Value::Null))?;
                set_attr(container, attr, value, op.op)
            }
        },
        (None, Some(sub)) => {
            let sub_attr = schema::find(attr.sub, &sub)
                .ok_or_else(|| ScimError::invalid_path(format!("'{}' has no sub-attribute '{sub}'", attr.name)))?;
            check_writable(attr, false)?;
            check_writable(sub_attr, op.op == Op::Remove)?;
            if attr.multi {
                // Applies to every element.
                if let Some(Value::Array(items)) = container.get_mut(attr.name) {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        set_sub(item, sub_attr, op)?;
                    }
                }
                return Ok(());
            }
            let slot = container.entry(attr.name).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Some(obj) = slot.as_object_mut() {
                set_sub(obj, sub_attr, op)?;
                if obj.is_empty() {
                    container.remove(attr.name);
                }
            }
            Ok(())
        }
        (Some(f), sub) => {
            if !attr.multi {
                return Err(ScimError::invalid_path(format!("'{}' is not multi-valued", attr.name)));
            }
            check_writable(attr, false)?;
            filtered(container, attr, &f, sub.as_deref(), op)
        }
    }
}

/// A path naming a whole extension (`urn:…:enterprise:2.0:User`): add merges its
/// attributes, replace sets exactly them, remove drops the extension.
fn whole_extension(
    root: &mut Map<String, Value>,
    urn: &str,
    attrs: &'static [Attr],
    op: &Operation,
) -> Result<(), ScimError> {
    if op.op == Op::Remove {
        root.remove(urn);
        return Ok(());
    }
    let value = op
        .value
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| ScimError::invalid_value(format!("the value for {urn} must be an object")))?;
    let mut ext = match (op.op, root.remove(urn)) {
        (Op::Add, Some(Value::Object(existing))) => existing,
        _ => Map::new(),
    };
    for (k, v) in value {
        // Unknown keys (a nested "schemas", say) are ignored, as everywhere else.
        let Some(attr) = schema::find(attrs, k) else { continue };
        let v = coerce(attr, v)?;
        set_attr(&mut ext, attr, v, op.op)?;
    }
    if !ext.is_empty() {
        root.insert(urn.to_string(), Value::Object(ext));
    }
    Ok(())
}

/// The object holding the attribute (root or an extension) and the attribute itself.
fn resolve<'a>(
    resource: Resource,
    root: &'a mut Map<String, Value>,
    path: &AttrPath,
) -> Result<(&'a mut Map<String, Value>, &'static Attr), ScimError> {
    let unknown = || ScimError::invalid_path(format!("unknown attribute '{}'", path.attr));
    match &path.urn {
        Some(urn) if !urn.eq_ignore_ascii_case(resource.core_urn()) => {
            let attrs = resource
                .attrs_of(urn)
                .ok_or_else(|| ScimError::invalid_path(format!("unknown schema '{urn}'")))?;
            let attr = schema::find(attrs, &path.attr).ok_or_else(unknown)?;
            let key = resource
                .extensions()
                .iter()
                .find(|(u, _)| u.eq_ignore_ascii_case(urn))
                .map_or(urn.as_str(), |(u, _)| u);
            let ext = root.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
            let ext = ext
                .as_object_mut()
                .ok_or_else(|| ScimError::internal("extension is not an object"))?;
            Ok((ext, attr))
        }
        _ => {
            if let Some(attr) = resource.top(&path.attr) {
                return Ok((root, attr));
            }
            // Unqualified names of extension attributes (e.g. `employeeNumber`).
            for (urn, attrs) in resource.extensions() {
                if let Some(attr) = schema::find(attrs, &path.attr) {
                    let ext = root
                        .entry((*urn).to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    let ext = ext
                        .as_object_mut()
                        .ok_or_else(|| ScimError::internal("extension is not an object"))?;
                    return Ok((ext, attr));
                }
            }
            Err(unknown())
        }
    }
}

fn check_writable(attr: &Attr, removing: bool) -> Result<(), ScimError> {
    match attr.mutability {
        Mutability::ReadOnly => Err(ScimError::mutability(format!("'{}' is read-only", attr.name))),
        Mutability::Immutable => Err(ScimError::mutability(format!("'{}' is immutable", attr.name))),
        _ if removing && attr.required => Err(ScimError::invalid_value(format!("'{}' is required", attr.name))),
        _ => Ok(()),
    }
}

/// add/replace of a whole attribute.
fn set_attr(container: &mut Map<String, Value>, attr: &Attr, value: Value, op: Op) -> Result<(), ScimError> {
    check_writable(attr, value.is_null())?;
    if value.is_null() {
        container.remove(attr.name);
        return Ok(());
    }
    match (attr.multi, attr.kind, op) {
        (true, _, Op::Add) => {
            let slot = container.entry(attr.name).or_insert_with(|| Value::Array(Vec::new()));
            if let (Value::Array(existing), Value::Array(new)) = (slot, value) {
                for item in new {
                    if !existing.contains(&item) {
                        if item.get("primary").and_then(Value::as_bool) == Some(true) {
                            clear_primary(existing);
                        }
                        existing.push(item);
                    }
                }
            }
        }
        (false, Kind::Complex, _) => {
            // Sub-attributes given replace or add; others stay (RFC 7644 §3.5.2.3).
            let slot = container.entry(attr.name).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let (Some(existing), Value::Object(new)) = (slot.as_object_mut(), value) {
                for (k, v) in new {
                    existing.insert(k, v);
                }
            }
        }
        _ => {
            container.insert(attr.name.to_string(), value);
        }
    }
    Ok(())
}

fn clear_primary(items: &mut [Value]) {
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        if item.contains_key("primary") {
            item.insert("primary".into(), Value::Bool(false));
        }
    }
}

fn set_sub(obj: &mut Map<String, Value>, sub: &Attr, op: &Operation) -> Result<(), ScimError> {
    match op.op {
        Op::Remove => {
            obj.remove(sub.name);
        }
        _ => {
            let v = coerce(sub, op.value.as_ref().unwrap_or(&Value::Null))?;
            if v.is_null() {
                obj.remove(sub.name);
            } else {
                obj.insert(sub.name.to_string(), v);
            }
        }
    }
    Ok(())
}

/// Operations on the elements of a multi-valued attribute that match a filter.
fn filtered(
    container: &mut Map<String, Value>,
    attr: &'static Attr,
    f: &Filter,
    sub: Option<&str>,
    op: &Operation,
) -> Result<(), ScimError> {
    let sub_attr = match sub {
        Some(s) => Some(
            schema::find(attr.sub, s)
                .ok_or_else(|| ScimError::invalid_path(format!("'{}' has no sub-attribute '{s}'", attr.name)))?,
        ),
        None => None,
    };
    let items = container.entry(attr.name).or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = items else {
        return Err(ScimError::internal("multi-valued attribute is not an array"));
    };
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches(i, f))
        .map(|(n, _)| n)
        .collect();
    match (op.op, sub_attr) {
        (Op::Remove, None) => {
            // Removing what is not there leaves the resource as asked: no error.
            let mut n = 0;
            items.retain(|_| {
                let keep = !hits.contains(&n);
                n += 1;
                keep
            });
        }
        (Op::Remove, Some(s)) => {
            for &n in &hits {
                if let Some(o) = items.get_mut(n).and_then(Value::as_object_mut) {
                    o.remove(s.name);
                }
            }
        }
        (_, Some(s)) => {
            let v = coerce(s, op.value.as_ref().unwrap_or(&Value::Null))?;
            if hits.is_empty() {
                // Entra ID replaces `emails[type eq "work"].value` on users without a work
                // email and expects one to be made: build it from the filter's equalities.
                let mut element = equalities(f)
                    .ok_or_else(|| ScimError::no_target(format!("no value of '{}' matches the filter", attr.name)))?;
                element.insert(s.name.to_string(), v);
                items.push(Value::Object(element));
                return Ok(());
            }
            for &n in &hits {
                if let Some(o) = items.get_mut(n).and_then(Value::as_object_mut) {
                    o.insert(s.name.to_string(), v.clone());
                }
            }
        }
        (_, None) => {
            let v = coerce(
                &Attr { multi: false, ..*attr },
                op.value.as_ref().unwrap_or(&Value::Null),
            )?;
            let Value::Object(new) = v else {
                return Err(ScimError::invalid_value(format!(
                    "a value of '{}' must be an object",
                    attr.name
                )));
            };
            if hits.is_empty() {
                return Err(ScimError::no_target(format!(
                    "no value of '{}' matches the filter",
                    attr.name
                )));
            }
            for &n in &hits {
                if let Some(o) = items.get_mut(n).and_then(Value::as_object_mut) {
                    for (k, val) in &new {
                        o.insert(k.clone(), val.clone());
                    }
                }
            }
        }
    }
    if items.is_empty() {
        container.remove(attr.name);
    }
    Ok(())
}

/// `type eq "work" and primary eq true` → {"type": "work", "primary": true}; None
/// when the filter is anything else.
fn equalities(f: &Filter) -> Option<Map<String, Value>> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub_attr.is_none() => {
            let mut m = Map::new();
            m.insert(path.attr.clone(), comp_to_json(value));
            Some(m)
        }
        Filter::And(a, b) => {
            let mut m = equalities(a)?;
            m.extend(equalities(b)?);
            Some(m)
        }
        _ => None,
    }
}

fn comp_to_json(v: &CompValue) -> Value {
    match v {
        CompValue::Str(s) => Value::String(s.clone()),
        CompValue::Num(n) => Value::Number(n.clone()),
        CompValue::Bool(b) => Value::Bool(*b),
        CompValue::Null => Value::Null,
    }
}

/// Evaluates a value filter on one element of a multi-valued attribute.
pub fn matches(element: &Value, f: &Filter) -> bool {
    match f {
        Filter::And(a, b) => matches(element, a) && matches(element, b),
        Filter::Or(a, b) => matches(element, a) || matches(element, b),
        Filter::Not(x) => !matches(element, x),
        Filter::Present(p) => get(element, &p.attr).is_some_and(|v| !v.is_null() && v != &Value::String(String::new())),
        Filter::Compare { path, op, value } => get(element, &path.attr).is_some_and(|v| compare(v, *op, value)),
        Filter::ValuePath { .. } => false,
    }
}

fn get<'a>(element: &'a Value, name: &str) -> Option<&'a Value> {
    element.as_object().and_then(|o| field(o, name))
}

fn compare(actual: &Value, op: CompareOp, expected: &CompValue) -> bool {
    match (actual, expected) {
        (Value::String(a), CompValue::Str(e)) => {
            let (a, e) = (a.to_lowercase(), e.to_lowercase());
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Co => a.contains(&e),
                CompareOp::Sw => a.starts_with(&e),
                CompareOp::Ew => a.ends_with(&e),
                CompareOp::Gt => a > e,
                CompareOp::Ge => a >= e,
                CompareOp::Lt => a < e,
                CompareOp::Le => a <= e,
            }
        }
        (Value::Bool(a), CompValue::Bool(e)) => match op {
            CompareOp::Eq => a == e,
            CompareOp::Ne => a != e,
            _ => false,
        },
        (Value::Number(a), CompValue::Num(e)) => {
            let (Some(a), Some(e)) = (a.as_f64(), e.as_f64()) else {
                return false;
            };
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Gt => a > e,
                CompareOp::Ge => a >= e,
                CompareOp::Lt => a < e,
                CompareOp::Le => a <= e,
                _ => false,
            }
        }
        (_, CompValue::Null) => matches!(op, CompareOp::Eq) && actual.is_null(),
        _ => matches!(op, CompareOp::Ne),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: Value, ops: Value) -> Result<Value, ScimError> {
        let mut doc = doc;
        let ops = parse_request(&json!({"schemas": [schema::PATCH_OP], "Operations": ops}))?;
        apply(Resource::User, &mut doc, &ops)?;
        Ok(doc)
    }

    #[test]
    fn entra_style_replace_without_path() {
        let doc = run(
            json!({"userName": "a", "active": true, "name": {"givenName": "A", "familyName": "B"}}),
            json!([{"op": "Replace", "value": {"active": "False", "name.givenName": "Z", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ward 3"}}]),
        )
        .expect("patch");
        assert_eq!(doc["active"], false);
        assert_eq!(doc["name"], json!({"givenName": "Z", "familyName": "B"}));
        assert_eq!(doc[schema::ENTERPRISE]["department"], "Ward 3");
    }

    #[test]
    fn value_filter_paths() {
        let base = json!({"userName": "a", "emails": [{"type": "work", "value": "a@x.org", "primary": true}, {"type": "home", "value": "a@home.org"}]});
        let doc = run(
            base.clone(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"}]),
        )
        .expect("patch");
        assert_eq!(doc["emails"][0]["value"], "new@x.org");
        let doc = run(
            base.clone(),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        )
        .expect("patch");
        assert_eq!(doc["emails"].as_array().map(Vec::len), Some(1));
        let doc = run(
            json!({"userName": "a"}),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@x.org"}]),
        )
        .expect("patch");
        assert_eq!(doc["emails"], json!([{"type": "work", "value": "w@x.org"}]));
        let err = run(base, json!([{"op": "replace", "path": "emails[type co \"w\"]", "value": {"display": "d"}}, {"op": "replace", "path": "emails[type eq \"other\"]", "value": {"display": "d"}}])).expect_err("noTarget");
        assert_eq!(err.scim_type, Some("noTarget"));
    }

    #[test]
    fn read_only_and_required_attributes_are_protected() {
        let err = run(
            json!({"userName": "a"}),
            json!([{"op": "replace", "path": "id", "value": "x"}]),
        )
        .expect_err("ro");
        assert_eq!(err.scim_type, Some("mutability"));
        let err = run(json!({"userName": "a"}), json!([{"op": "remove", "path": "userName"}])).expect_err("required");
        assert_eq!(err.scim_type, Some("invalidValue"));
        let err = run(
            json!({"userName": "a"}),
            json!([{"op": "replace", "path": "nosuch", "value": "x"}]),
        )
        .expect_err("unknown");
        assert_eq!(err.scim_type, Some("invalidPath"));
    }

    #[test]
    fn add_to_multi_valued_appends_without_duplicates() {
        let doc = run(
            json!({"userName": "a", "phoneNumbers": [{"value": "1", "type": "work"}]}),
            json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": "1", "type": "work"}, {"value": "2", "type": "mobile"}]}]),
        )
        .expect("patch");
        assert_eq!(doc["phoneNumbers"].as_array().map(Vec::len), Some(2));
    }
}
