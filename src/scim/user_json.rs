//! The SCIM User representation, to and from Tessera's user record.
use super::ScimError;
use super::etag::etag;
use super::schema::{ENTERPRISE, USER, USER_MULTI_VALUED};
use crate::accounts::{MultiValue, Profile, User};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Elements one multi-valued attribute of a user may hold (documented in README).
pub const MAX_VALUES: usize = 100;

/// What a SCIM client may set on a user, read from a canonical document.
#[derive(Debug, Default)]
pub struct UserInput {
    pub user_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub profile: Profile,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    /// PATCH removed `active`.
    pub active_removed: bool,
    pub password: Option<String>,
    pub values: Vec<MultiValue>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn read(doc: &Value) -> Result<UserInput, ScimError> {
    let name = doc.get("name");
    let ent = doc.get(ENTERPRISE);
    let sub = |obj: Option<&Value>, key: &str| text(obj.and_then(|o| o.get(key)));
    let manager = ent.and_then(|e| e.get("manager"));
    let manager_id = match manager {
        Some(Value::String(id)) => Some(id.clone()),
        other => sub(other, "value"),
    };
    let mut values = Vec::new();
    for attr in USER_MULTI_VALUED.iter() {
        let Some(items) = doc.get(*attr).and_then(Value::as_array) else {
            continue;
        };
        if items.len() > MAX_VALUES {
            return Err(ScimError::invalid_value(format!(
                "a user has at most {MAX_VALUES} '{attr}'; this one would have {}",
                items.len()
            )));
        }
        let mut primary_seen = false;
        for item in items {
            let mut data = item.clone();
            if let Some(obj) = data.as_object_mut() {
                obj.retain(|_, v| !v.is_null());
            }
            if data.as_object().is_some_and(serde_json::Map::is_empty) {
                return Err(ScimError::invalid_value(format!("each of '{attr}' needs a value")));
            }
            let value = if *attr == "addresses" {
                sub(Some(item), "formatted")
            } else {
                sub(Some(item), "value")
            };
            // RFC 7643 §2.4: at most one primary; later ones lose the flag.
            let primary = item.get("primary").and_then(Value::as_bool).unwrap_or(false) && !primary_seen;
            primary_seen |= primary;
            if let Some(obj) = data.as_object_mut()
                && obj.contains_key("primary")
            {
                obj.insert("primary".into(), Value::Bool(primary));
            }
            values.push(MultiValue {
                attr: (*attr).to_string(),
                kind: sub(Some(item), "type"),
                value,
                display: sub(Some(item), "display"),
                primary,
                data,
            });
        }
    }
    Ok(UserInput {
        user_name: text(doc.get("userName")),
        given_name: sub(name, "givenName"),
        family_name: sub(name, "familyName"),
        display_name: text(doc.get("displayName")),
        profile: Profile {
            name_formatted: sub(name, "formatted"),
            middle_name: sub(name, "middleName"),
            honorific_prefix: sub(name, "honorificPrefix"),
            honorific_suffix: sub(name, "honorificSuffix"),
            nick_name: text(doc.get("nickName")),
            profile_url: text(doc.get("profileUrl")),
            title: text(doc.get("title")),
            user_type: text(doc.get("userType")),
            preferred_language: text(doc.get("preferredLanguage")),
            locale: text(doc.get("locale")),
            timezone: text(doc.get("timezone")),
            employee_number: sub(ent, "employeeNumber"),
            cost_center: sub(ent, "costCenter"),
            organization: sub(ent, "organization"),
            division: sub(ent, "division"),
            department: sub(ent, "department"),
            manager_id,
            active_unset: false,
        },
        external_id: text(doc.get("externalId")),
        active: doc.get("active").and_then(Value::as_bool),
        active_removed: false,
        password: doc.get("password").and_then(Value::as_str).map(str::to_string),
        values,
    })
}

/// The email Tessera mails: the primary one, else the first.
pub fn primary_email(values: &[MultiValue]) -> Option<String> {
    let emails = || values.iter().filter(|v| v.attr == "emails" && v.value.is_some());
    emails()
        .find(|v| v.primary)
        .or_else(|| emails().next())
        .and_then(|v| v.value.clone())
}

pub struct GroupRef {
    pub id: Uuid,
    pub name: String,
}

/// The full representation (every attribute that may be returned).
pub fn write(base: &str, user: &User, values: &[MultiValue], groups: &[GroupRef]) -> Value {
    let mut doc = Map::new();
    let mut schemas = vec![json!(USER)];
    doc.insert("id".into(), json!(user.id));
    if let Some(e) = &user.external_id {
        doc.insert("externalId".into(), json!(e));
    }
    doc.insert("userName".into(), json!(user.username));
    let p = &user.profile;
    let mut name = Map::new();
    for (k, v) in [
        ("formatted", &p.name_formatted),
        ("familyName", &user.family_name),
        ("givenName", &user.given_name),
        ("middleName", &p.middle_name),
        ("honorificPrefix", &p.honorific_prefix),
        ("honorificSuffix", &p.honorific_suffix),
    ] {
        if let Some(v) = v {
            name.insert(k.into(), json!(v));
        }
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    for (k, v) in [
        ("displayName", &user.display_name),
        ("nickName", &p.nick_name),
        ("profileUrl", &p.profile_url),
        ("title", &p.title),
        ("userType", &p.user_type),
        ("preferredLanguage", &p.preferred_language),
        ("locale", &p.locale),
        ("timezone", &p.timezone),
    ] {
        if let Some(v) = v {
            doc.insert(k.into(), json!(v));
        }
    }
    if !(user.profile.active_unset && user.active) {
        doc.insert("active".into(), json!(user.active));
    }
    for attr in USER_MULTI_VALUED.iter() {
        let items: Vec<Value> = values
            .iter()
            .filter(|v| v.attr == *attr)
            .map(|v| v.data.clone())
            .collect();
        if !items.is_empty() {
            doc.insert((*attr).into(), Value::Array(items));
        }
    }
    if !groups.is_empty() {
        let items: Vec<Value> = groups
            .iter()
            .map(|g| json!({"value": g.id, "$ref": format!("{base}/Groups/{}", g.id), "display": g.name, "type": "direct"}))
            .collect();
        doc.insert("groups".into(), Value::Array(items));
    }
    let mut ent = Map::new();
    for (k, v) in [
        ("employeeNumber", &p.employee_number),
        ("costCenter", &p.cost_center),
        ("organization", &p.organization),
        ("division", &p.division),
        ("department", &p.department),
    ] {
        if let Some(v) = v {
            ent.insert(k.into(), json!(v));
        }
    }
    if let Some(m) = &p.manager_id {
        // Returned as set: a derived $ref or displayName would differ from what the client wrote.
        ent.insert("manager".into(), json!({ "value": m }));
    }
    if !ent.is_empty() {
        schemas.push(json!(ENTERPRISE));
        doc.insert(ENTERPRISE.into(), Value::Object(ent));
    }
    doc.insert("schemas".into(), Value::Array(schemas));
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": user.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": user.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": format!("{base}/Users/{}", user.id),
            "version": etag(user.version),
        }),
    );
    Value::Object(doc)
}
