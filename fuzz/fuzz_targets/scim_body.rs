//! A SCIM request body: canonicalised as a User and a Group, read as a user, and as
//! a PATCH request applied to a stored user. Nothing may panic, whatever the JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tessera::scim::schema::Resource;
use tessera::scim::{canonical, patch, user_json};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for resource in [Resource::User, Resource::Group] {
        if let Ok(doc) = canonical::canonicalize(resource, &body)
            && resource == Resource::User
        {
            let _ = user_json::read(&doc);
        }
    }
    if let Ok(ops) = patch::parse_request(&body) {
        let mut doc = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "camille",
            "emails": [{"value": "c@clinic.example", "type": "work", "primary": true}],
            "name": {"givenName": "Camille"},
        });
        if patch::apply(Resource::User, &mut doc, &ops).is_ok() {
            let _ = user_json::read(&doc);
        }
    }
});
