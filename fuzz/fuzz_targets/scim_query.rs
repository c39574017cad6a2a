//! A SCIM list query string (`filter`, `sortBy`, `attributes`, ...): parsed, then
//! used to project a user. Nothing may panic, whatever the text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use tessera::scim::list::{self, ListParams};
use tessera::scim::schema::Resource;

fuzz_target!(|data: &[u8]| {
    let mut get = |name: &str| {
        url::form_urlencoded::parse(data)
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    };
    let (filter, sort_by, sort_order) = (get("filter"), get("sortBy"), get("sortOrder"));
    let (attributes, excluded) = (get("attributes"), get("excludedAttributes"));
    let Ok(params) = ListParams::parse(
        filter.as_deref(),
        sort_by.as_deref(),
        sort_order.as_deref(),
        get("startIndex").and_then(|v| v.parse().ok()),
        get("count").and_then(|v| v.parse().ok()),
        attributes.as_deref(),
        excluded.as_deref(),
    ) else {
        return;
    };
    let doc = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "0190c2d4-0000-7000-8000-000000000000",
        "userName": "camille",
        "emails": [{"value": "c@clinic.example", "type": "work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ward 3"},
    });
    let _ = list::project(Resource::User, doc, &params.attributes, &params.excluded);
});
