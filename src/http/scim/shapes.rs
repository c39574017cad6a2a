//! The answers Users and Groups share: a read with its If-None-Match check, and what
//! a create, replace, patch or delete sends back (status, ETag, Location, the line
//! for the client's request log).
use super::{Summary, resource};
use crate::scim::etag::version_of;
use crate::scim::list::{self, ListParams};
use crate::scim::schema::Resource;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// What a write did to a resource, as the request log says it.
#[derive(Clone, Copy)]
pub enum Change {
    Created,
    Replaced,
    Patched,
}

fn noun(kind: Resource) -> &'static str {
    match kind {
        Resource::User => "user",
        Resource::Group => "group",
    }
}

/// The name a person knows the resource by: a user's userName, a group's displayName.
fn label(kind: Resource, doc: &Value) -> String {
    let name = match kind {
        Resource::User => "userName",
        Resource::Group => "displayName",
    };
    doc.get(name).and_then(Value::as_str).unwrap_or("?").to_string()
}

/// A GET by id: 304 when If-None-Match is `*` or names the current version, else the
/// document as asked for (`attributes`, `excludedAttributes`) with its ETag.
pub fn read(kind: Resource, doc: Value, headers: &HeaderMap, p: &ListParams) -> Response {
    if let (Some(tags), Some(current)) = (
        super::request::if_none_match(headers),
        doc.pointer("/meta/version").and_then(Value::as_str),
    ) {
        let current = version_of(current);
        if tags.trim() == "*"
            || tags
                .split(',')
                .any(|t| version_of(t).is_some() && version_of(t) == current)
        {
            return StatusCode::NOT_MODIFIED.into_response();
        }
    }
    let doc = list::project(kind, doc, &p.attributes, &p.excluded);
    resource(StatusCode::OK, doc, None)
}

/// The resource after a write: 201 with Location when created, else 200; its ETag; and
/// "created user alice" (with the domain's note after a `;`, if any) for the log.
pub fn written(kind: Resource, change: Change, doc: Value, p: &ListParams, note: Option<String>) -> Response {
    let (status, verb) = match change {
        Change::Created => (StatusCode::CREATED, "created"),
        Change::Replaced => (StatusCode::OK, "replaced"),
        Change::Patched => (StatusCode::OK, "patched"),
    };
    let mut summary = format!("{verb} {} {}", noun(kind), label(kind, &doc));
    if let Some(note) = note {
        summary = format!("{summary}; {note}");
    }
    let doc = list::project(kind, doc, &p.attributes, &p.excluded);
    resource(status, doc, Some(summary))
}

/// 204, and "deleted user <id>" for the log.
pub fn deleted(kind: Resource, id: &str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .extensions_mut()
        .insert(Summary(format!("deleted {} {id}", noun(kind))));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::{ETAG, IF_NONE_MATCH, LOCATION};
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "id": "u1",
            "userName": "alice",
            "displayName": "Clinic A",
            "meta": { "version": "W/\"3\"", "location": "http://idp.test/scim/v2/Users/u1" },
        })
    }

    fn asking(tags: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, tags.parse().expect("header"));
        h
    }

    #[test]
    fn a_read_naming_the_current_version_is_not_modified() {
        for kind in [Resource::User, Resource::Group] {
            for tags in ["W/\"3\"", "\"3\"", "*", " * ", "W/\"1\", W/\"3\""] {
                let r = read(kind, doc(), &asking(tags), &ListParams::default());
                assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{tags}");
            }
            for tags in ["W/\"2\"", "junk", ""] {
                let r = read(kind, doc(), &asking(tags), &ListParams::default());
                assert_eq!(r.status(), StatusCode::OK, "{tags}");
                assert_eq!(r.headers()[ETAG], "W/\"3\"");
            }
            let r = read(kind, doc(), &HeaderMap::new(), &ListParams::default());
            assert_eq!(r.status(), StatusCode::OK);
        }
    }

    fn logged(r: &Response) -> String {
        r.extensions().get::<Summary>().map(|s| s.0.clone()).unwrap_or_default()
    }

    #[test]
    fn writes_answer_with_status_location_and_a_log_line() {
        let p = ListParams::default();
        let created = written(Resource::User, Change::Created, doc(), &p, None);
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(created.headers()[LOCATION], "http://idp.test/scim/v2/Users/u1");
        assert_eq!(logged(&created), "created user alice");

        let replaced = written(
            Resource::Group,
            Change::Replaced,
            doc(),
            &p,
            Some("2 members not found".into()),
        );
        assert_eq!(replaced.status(), StatusCode::OK);
        assert!(replaced.headers().get(LOCATION).is_none());
        assert_eq!(replaced.headers()[ETAG], "W/\"3\"");
        assert_eq!(logged(&replaced), "replaced group Clinic A; 2 members not found");

        let patched = written(Resource::User, Change::Patched, json!({}), &p, None);
        assert_eq!(logged(&patched), "patched user ?");

        let gone = deleted(Resource::Group, "g7");
        assert_eq!(gone.status(), StatusCode::NO_CONTENT);
        assert_eq!(logged(&gone), "deleted group g7");
    }
}
