//! Turns what clients send into one canonical JSON shape: attribute names as the
//! schema spells them, extension attributes under their URN, dotted and
//! URN-qualified keys nested, "True"/"False" strings as booleans, a lone object
//! for a multi-valued attribute wrapped in an array. Unknown attributes are dropped.
use super::ScimError;
use super::schema::{Attr, COMMON_ATTRS, Kind, Resource, find};
use serde_json::{Map, Value};

pub fn canonicalize(resource: Resource, input: &Value) -> Result<Value, ScimError> {
    let obj = input
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
    let mut out = Map::new();
    for (key, value) in obj {
        put(resource, &mut out, key, value)?;
    }
    Ok(Value::Object(out))
}

/// Places one `key: value` of a resource (or of a path-less PATCH value) into `out`.
pub fn put(resource: Resource, out: &mut Map<String, Value>, key: &str, value: &Value) -> Result<(), ScimError> {
    if key.eq_ignore_ascii_case("schemas") {
        out.insert("schemas".into(), value.clone());
        return Ok(());
    }
    if key.len() > 4 && key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        // A whole extension object, or an attribute qualified by its schema URN.
        if let Some(attrs) = resource.attrs_of(key) {
            let urn = canonical_urn(resource, key);
            if value.is_null() {
                out.insert(urn, Value::Null);
                return Ok(());
            }
            let inner = value
                .as_object()
                .ok_or_else(|| ScimError::invalid_value(format!("'{urn}' must be an object")))?;
            if urn == resource.core_urn() {
                for (k, v) in inner {
                    put(resource, out, k, v)?;
                }
                return Ok(());
            }
            let slot = out.entry(urn).or_insert_with(|| Value::Object(Map::new()));
            if let Some(target) = slot.as_object_mut() {
                for (k, v) in inner {
                    put_attr(attrs, target, k, v)?;
                }
            }
            return Ok(());
        }
        let Some((urn, rest)) = key.rsplit_once(':') else {
            return Ok(());
        };
        let Some(attrs) = resource.attrs_of(urn) else {
            return Err(ScimError::invalid_path(format!("unknown schema '{urn}'")));
        };
        let urn = canonical_urn(resource, urn);
        if urn == resource.core_urn() {
            return put_attr(resource.core_attrs(), out, rest, value);
        }
        let slot = out.entry(urn).or_insert_with(|| Value::Object(Map::new()));
        if let Some(target) = slot.as_object_mut() {
            put_attr(attrs, target, rest, value)?;
        }
        return Ok(());
    }
    let attrs = if find(COMMON_ATTRS, key.split('.').next().unwrap_or(key)).is_some() {
        COMMON_ATTRS
    } else {
        resource.core_attrs()
    };
    put_attr(attrs, out, key, value)
}

fn canonical_urn(resource: Resource, urn: &str) -> String {
    if urn.eq_ignore_ascii_case(resource.core_urn()) {
        return resource.core_urn().to_string();
    }
    resource
        .extensions()
        .iter()
        .find(|(u, _)| u.eq_ignore_ascii_case(urn))
        .map_or_else(|| urn.to_string(), |(u, _)| (*u).to_string())
}

/// `key` may be dotted (`name.givenName`): the value goes into the parent object.
fn put_attr(attrs: &[Attr], out: &mut Map<String, Value>, key: &str, value: &Value) -> Result<(), ScimError> {
    let (head, tail) = match key.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (key, None),
    };
    let Some(attr) = find(attrs, head) else {
        return Ok(()); // unknown attributes are ignored (RFC 7644 §3.3 lets servers do so)
    };
    match tail {
        Some(sub_key) if attr.kind == Kind::Complex && !attr.multi => {
            let slot = out.entry(attr.name).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Some(target) = slot.as_object_mut() {
                put_attr(attr.sub, target, sub_key, value)?;
            }
            Ok(())
        }
        Some(_) => Err(ScimError::invalid_path(format!(
            "'{key}' does not name a sub-attribute"
        ))),
        None => {
            out.insert(attr.name.to_string(), coerce(attr, value)?);
            Ok(())
        }
    }
}

/// Coerces a value to the attribute's type, tolerating what provisioning clients send.
pub fn coerce(attr: &Attr, value: &Value) -> Result<Value, ScimError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if attr.multi {
        let items = match value {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        let single = Attr { multi: false, ..*attr };
        return items
            .iter()
            .map(|v| coerce(&single, v))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    match attr.kind {
        Kind::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(ScimError::invalid_value(format!(
                "'{}' must be true or false",
                attr.name
            ))),
        },
        // Entra ID sends the enterprise manager as a bare id: read it as {"value": id}.
        Kind::Complex if value.is_string() && attr.name == "manager" => {
            let mut out = Map::new();
            out.insert("value".into(), value.clone());
            Ok(Value::Object(out))
        }
        Kind::Complex => {
            let obj = value
                .as_object()
                .ok_or_else(|| ScimError::invalid_value(format!("'{}' must be an object", attr.name)))?;
            let mut out = Map::new();
            for (k, v) in obj {
                put_attr(attr.sub, &mut out, k, v)?;
            }
            Ok(Value::Object(out))
        }
        Kind::String | Kind::Reference | Kind::Binary | Kind::DateTime => match value {
            Value::String(text) => check_text(attr, text).map(|()| value.clone()),
            _ => Err(ScimError::invalid_value(format!("'{}' must be a string", attr.name))),
        },
    }
}

/// Characters a string attribute may hold: at most `MAX_STRING` (binary values
/// `MAX_BINARY`), and no control characters but tab and line breaks.
pub const MAX_STRING: usize = 2048;
pub const MAX_BINARY: usize = 16 * 1024;

fn check_text(attr: &Attr, text: &str) -> Result<(), ScimError> {
    let max = if attr.kind == Kind::Binary {
        MAX_BINARY
    } else {
        MAX_STRING
    };
    if text.chars().count() > max {
        return Err(ScimError::invalid_value(format!(
            "'{}' is longer than {max} characters",
            attr.name
        )));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(ScimError::invalid_value(format!(
            "'{}' contains a control character",
            attr.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_canonical_and_values_coerced() {
        let got = canonicalize(
            Resource::User,
            &json!({
                "UserName": "Camille",
                "ACTIVE": "False",
                "name.givenName": "Camille",
                "Emails": {"Value": "c@x.org", "Primary": "true"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "Ward 3"},
                "unknownThing": 1,
            }),
        )
        .expect("canonical");
        assert_eq!(
            got,
            json!({
                "userName": "Camille",
                "active": false,
                "name": {"givenName": "Camille"},
                "emails": [{"value": "c@x.org", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "42", "department": "Ward 3"},
            })
        );
    }

    #[test]
    fn wrong_types_are_invalid_values() {
        assert!(canonicalize(Resource::User, &json!({"active": "maybe"})).is_err());
        assert!(canonicalize(Resource::User, &json!({"name": "x"})).is_err());
        assert!(canonicalize(Resource::User, &json!([1])).is_err());
        for bad in [
            json!({"password": 12345678}),
            json!({"displayName": true}),
            json!({"emails": "a@b.c"}),
            json!({"displayName": "a\u{0}b"}),
            json!({"displayName": "x".repeat(MAX_STRING + 1)}),
            json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "Ward 3"}),
            json!({"urn:x\u{e9}:y": 2}),
        ] {
            assert!(canonicalize(Resource::User, &bad).is_err(), "{bad}");
        }
        // Non-ASCII keys are unknown attributes, not a reason to panic.
        assert!(canonicalize(Resource::User, &json!({"aaa\u{e9}": 1})).is_ok());
    }
}
