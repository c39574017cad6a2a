//! Bulk (RFC 7644 §3.7): operations applied in order, each in its own transaction,
//! with `bulkId` references to resources created earlier in the same request and
//! `failOnErrors` to stop early. The advertised limits are enforced.
use super::list::ListParams;
use super::schema::{BULK_REQUEST, BULK_RESPONSE, ERROR};
use super::{ScimClient, ScimError, groups, users};
use crate::json::JsonFields;
use crate::services::Services;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub const MAX_OPERATIONS: usize = 1000;
pub const MAX_PAYLOAD: usize = 1024 * 1024;

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// Replaces every "bulkId:X" string (a path segment or a value) with X's new id.
fn resolve_refs(value: &mut Value, created: &HashMap<String, String>) -> Result<(), String> {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                *s = created
                    .get(id)
                    .cloned()
                    .ok_or_else(|| format!("bulkId '{id}' was not created earlier in this request"))?;
            }
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| resolve_refs(v, created))?,
        Value::Object(map) => map.values_mut().try_for_each(|v| resolve_refs(v, created))?,
        _ => {}
    }
    Ok(())
}

fn resolve_path(path: &str, created: &HashMap<String, String>) -> Result<String, String> {
    path.split('/')
        .map(|seg| match seg.strip_prefix("bulkId:") {
            Some(id) => created
                .get(id)
                .cloned()
                .ok_or_else(|| format!("bulkId '{id}' was not created earlier in this request")),
            None => Ok(seg.to_string()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|s| s.join("/"))
}

fn error_body(e: &ScimError) -> Value {
    if e.status >= 500 {
        tracing::error!(error = %e.detail, "SCIM bulk operation failed");
    }
    let mut body = json!({"schemas": [ERROR], "status": e.status.to_string(), "detail": e.client_detail()});
    if let Some(t) = e.scim_type {
        body.set("scimType", json!(t));
    }
    body
}

pub async fn run(svc: &Services, client: &ScimClient, body: &Value, payload_len: usize) -> Result<Value, ScimError> {
    if payload_len > MAX_PAYLOAD {
        return Err(ScimError::payload_too_large(format!(
            "the request is {payload_len} bytes; maxPayloadSize is {MAX_PAYLOAD}"
        )));
    }
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a BulkRequest must be an object"))?;
    let schemas_ok = field(obj, "schemas").and_then(Value::as_array).is_some_and(|s| {
        s.iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST)))
    });
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must contain {BULK_REQUEST}"
        )));
    }
    let ops = field(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be an array"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::payload_too_large(format!(
            "{} operations; maxOperations is {MAX_OPERATIONS}",
            ops.len()
        )));
    }
    let fail_on_errors = match field(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ScimError::invalid_value("failOnErrors must be a positive whole number"))?,
        ),
    };
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results = Vec::with_capacity(ops.len());
    let mut errors = 0u64;
    for op in ops {
        if fail_on_errors.is_some_and(|limit| errors >= limit) {
            break;
        }
        let result = one(svc, client, op, &mut created).await;
        if result
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.starts_with('2'))
        {
            errors += 1;
        }
        results.push(result);
    }
    Ok(json!({"schemas": [BULK_RESPONSE], "Operations": results}))
}

/// Runs one operation and describes its outcome as a BulkResponse operation.
async fn one(svc: &Services, client: &ScimClient, op: &Value, created: &mut HashMap<String, String>) -> Value {
    let empty = Map::new();
    let o = op.as_object().unwrap_or(&empty);
    let method = field(o, "method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let bulk_id = field(o, "bulkId").and_then(Value::as_str).map(str::to_string);
    let raw_path = field(o, "path").and_then(Value::as_str).unwrap_or("").to_string();
    let version = field(o, "version").and_then(Value::as_str).map(str::to_string);
    let mut out = json!({"method": method});
    if let Some(b) = &bulk_id {
        out.set("bulkId", json!(b));
    }
    let outcome = async {
        if method == "POST" && bulk_id.is_none() {
            return Err(ScimError::invalid_syntax("a POST in a bulk request needs a bulkId"));
        }
        let path = resolve_path(&raw_path, created).map_err(ScimError::invalid_value)?;
        let mut data = field(o, "data").cloned().unwrap_or(Value::Null);
        resolve_refs(&mut data, created).map_err(ScimError::invalid_value)?;
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let params = ListParams::default();
        let if_match = version.as_deref();
        match (method.as_str(), segments.as_slice()) {
            ("POST", [r]) if r.eq_ignore_ascii_case("Users") => {
                users::create(svc, client, &data).await.map(|d| (201, Some(d)))
            }
            ("POST", [r]) if r.eq_ignore_ascii_case("Groups") => {
                groups::create(svc, client, &data).await.map(|d| (201, Some(d.0)))
            }
            ("PUT", [r, id]) if r.eq_ignore_ascii_case("Users") => users::replace(svc, client, id, &data, if_match)
                .await
                .map(|d| (200, Some(d))),
            ("PUT", [r, id]) if r.eq_ignore_ascii_case("Groups") => groups::replace(svc, client, id, &data, if_match)
                .await
                .map(|d| (200, Some(d.0))),
            ("PATCH", [r, id]) if r.eq_ignore_ascii_case("Users") => users::patch(svc, client, id, &data, if_match)
                .await
                .map(|d| (200, Some(d))),
            ("PATCH", [r, id]) if r.eq_ignore_ascii_case("Groups") => {
                groups::patch(svc, client, id, &data, if_match, &params)
                    .await
                    .map(|d| (200, Some(d.0)))
            }
            ("DELETE", [r, id]) if r.eq_ignore_ascii_case("Users") => {
                users::delete(svc, client, id, if_match).await.map(|()| (204, None))
            }
            ("DELETE", [r, id]) if r.eq_ignore_ascii_case("Groups") => {
                groups::delete(svc, client, id, if_match).await.map(|()| (204, None))
            }
            _ => Err(ScimError::invalid_syntax(format!(
                "unsupported bulk operation {method} {raw_path}"
            ))),
        }
    }
    .await;
    match outcome {
        Ok((status, doc)) => {
            out.set("status", json!(status.to_string()));
            if let Some(doc) = doc {
                if let (Some(b), Some(id)) = (&bulk_id, doc.get("id").and_then(Value::as_str)) {
                    created.insert(b.clone(), id.to_string());
                }
                if let Some(l) = doc.pointer("/meta/location") {
                    out.set("location", l.clone());
                }
                if let Some(v) = doc.pointer("/meta/version") {
                    out.set("version", v.clone());
                }
            }
        }
        Err(e) => {
            out.set("status", json!(e.status.to_string()));
            out.set("response", error_body(&e));
        }
    }
    out
}
