//! Values are checked against the published schema: wrong types, oversize values and
//! too many elements are SCIM 400 invalidValue, never a 500, a panic or silence.
use crate::on_each_backend;
use crate::scim_support::{Scim, USER, nurse};
use crate::support::{Backend, TestServer};
use serde_json::{Value, json};

on_each_backend!(
    wrong_types_are_invalid_values,
    large_multi_valued_attributes_are_refused_plainly,
    odd_keys_and_paths_get_scim_errors_not_panics,
    database_errors_do_not_reach_the_client,
);

fn assert_invalid(r: &crate::scim_support::Reply, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.body);
    assert_eq!(r.body["scimType"], "invalidValue", "{what}: {}", r.body);
}

async fn wrong_types_are_invalid_values(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register_with(&s, "okta", &["--set-passwords"]).await;
    let id = scim.user(nurse("camille", "camille@clinic.example")).await;
    let path = format!("/Users/{id}");
    for value in [json!(12345678), json!(true), json!(null), json!({"x": 1})] {
        let r = scim
            .patch(&path, json!([{"op": "replace", "path": "password", "value": value}]))
            .await;
        assert_invalid(&r, &format!("PATCH password {value}"));
    }
    let with = |key: &str, value: Value| {
        let mut body = nurse("new.one", "new.one@clinic.example");
        body[key] = value;
        body
    };
    let bad_bodies = [
        ("password as a number", with("password", json!(1234567890123_i64))),
        ("emails as a string", with("emails", json!("a@b.c"))),
        ("an empty email", with("emails", json!([{}]))),
        (
            "a huge email",
            with("emails", json!([{"value": format!("{}@x.org", "a".repeat(200_000))}])),
        ),
        (
            "displayName with a NUL",
            with("displayName", json!("Camille\u{0}Nurse")),
        ),
        // manager.value is a string in the published schema (Microsoft's own SCIM
        // validator sends a name there), but never a number or an object.
        (
            "a manager value that is a number",
            with(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!({"manager": {"value": 42}}),
            ),
        ),
        (
            "a manager that is a number",
            with(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!({"manager": 42}),
            ),
        ),
        (
            "an extension as a string",
            with(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!("Ward 3"),
            ),
        ),
        ("active as a word", with("active", json!("perhaps"))),
    ];
    for (what, body) in bad_bodies {
        assert_invalid(&scim.post("/Users", body).await, what);
    }
    assert!(
        scim.find("userName eq \"new.one\"").await.is_empty(),
        "nothing half-made"
    );
    // What clients really send stays accepted: "True" for true, a bare manager id (Entra).
    let mut ok = with("active", json!("True"));
    ok["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"manager": id});
    let r = scim.post("/Users", ok).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["active"], true);
    s.stop().await;
}

async fn large_multi_valued_attributes_are_refused_plainly(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let many = |attr: &str, n: usize| {
        let mut body = nurse("many", "many@clinic.example");
        body[attr] = Value::Array(
            (0..n)
                .map(|i| json!({"value": format!("v{i}@clinic.example"), "type": "work"}))
                .collect(),
        );
        body
    };
    for (attr, n) in [("emails", 3500), ("phoneNumbers", 4000), ("emails", 101)] {
        let r = scim.post("/Users", many(attr, n)).await;
        assert_invalid(&r, &format!("{n} {attr}"));
        assert!(
            r.body["detail"].as_str().unwrap_or("").contains("at most 100"),
            "{}",
            r.body
        );
    }
    let id = scim.user(many("emails", 100)).await;
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "add", "path": "emails", "value": [{"value": "one.more@clinic.example"}]}]),
        )
        .await;
    assert_invalid(&r, "the 101st email by PATCH");
    assert_eq!(
        scim.get(&format!("/Users/{id}")).await.body["emails"]
            .as_array()
            .map(Vec::len),
        Some(100)
    );
    // And through /Bulk.
    let bulk = scim
        .post(
            "/Bulk",
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a", "data": many("emails", 3500)}],
            }),
        )
        .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let op = &bulk.body["Operations"][0];
    assert_eq!(op["status"], "400", "{op}");
    assert!(!op.to_string().to_lowercase().contains("sql"), "{op}");
    s.stop().await;
}

async fn odd_keys_and_paths_get_scim_errors_not_panics(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let mut body = nurse("keys", "keys@clinic.example");
    body["aaa\u{e9}"] = json!("ignored");
    body["\u{e9}\u{e9}\u{e9}\u{e9}:x"] = json!(1);
    let r = scim.post("/Users", body).await;
    assert!(r.status == 201 || r.status == 400, "{}", r.body);
    for query in [
        "attributes=aaa%C3%A9:x",
        "attributes=%C3%A9%C3%A9%C3%A9",
        "excludedAttributes=urn%C3%A9:x",
        "sortBy=%C3%A9%C3%A9%C3%A9%C3%A9",
        "filter=userName%20eq%20%22%C3%A9%22",
    ] {
        let r = scim.get(&format!("/Users?{query}")).await;
        assert!(r.status == 200 || r.status == 400, "{query}: {} {}", r.status, r.body);
        assert_eq!(r.headers["content-type"], "application/scim+json", "{query}");
    }
    let r = scim.get("/Us%C3%A9rs").await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = scim.get("/Users/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9").await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = scim
        .post("/Users", json!({"schemas": [USER], "userName": "x", "urn:\u{e9}": {}}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    s.stop().await;
}

async fn database_errors_do_not_reach_the_client(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    // 100 addresses of 2,000 characters each: within every limit, and stored whole.
    let mut body = nurse("long", "long@clinic.example");
    body["addresses"] = Value::Array(
        (0..100)
            .map(|i| json!({"formatted": format!("{i} {}", "Infirmary Street ".repeat(100)), "type": "work"}))
            .collect(),
    );
    let r = scim.post("/Users", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["addresses"].as_array().map(Vec::len), Some(100));
    s.stop().await;
}
