use crate::on_each_backend;
use crate::scim_support::{Scim, USER, nurse};
use crate::support::{Backend, TestServer};
use serde_json::{Value, json};

on_each_backend!(
    bulk_applies_operations_in_order_with_references,
    bulk_enforces_its_limits
);

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn bulk_applies_operations_in_order_with_references(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let r = scim
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "nina", "data": nurse("nina", "nina@clinic.org")},
                {"method": "POST", "path": "/Groups", "bulkId": "ward", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ward 3", "members": [{"value": "bulkId:nina"}]}},
                {"method": "PATCH", "path": "/Users/bulkId:nina", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "title", "value": "Sister"}]}},
                {"method": "DELETE", "path": "/Users/01a20000-0000-7000-8000-000000000000"},
                {"method": "POST", "path": "/Users", "bulkId": "dup", "data": nurse("NINA", "x@clinic.org")},
                {"method": "PATCH", "path": "/Users/bulkId:nobody", "data": {}},
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    let ops = r.body["Operations"].as_array().expect("ops");
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap_or("")).collect();
    assert_eq!(statuses, ["201", "201", "200", "404", "409", "400"]);
    assert_eq!(ops[0]["bulkId"], "nina");
    let location = ops[0]["location"].as_str().expect("location");
    assert_eq!(ops[4]["response"]["scimType"], "uniqueness");
    assert!(
        ops[5]["response"]["detail"]
            .as_str()
            .expect("detail")
            .contains("bulkId 'nobody'")
    );

    let nina_id = location.rsplit('/').next().expect("id");
    let nina = scim.get(&format!("/Users/{nina_id}")).await.body;
    assert_eq!(nina["title"], "Sister");
    assert_eq!(nina["groups"][0]["display"], "Ward 3");

    // failOnErrors: stop once that many operations failed.
    let r = scim
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "DELETE", "path": "/Users/01a20000-0000-7000-8000-000000000000"},
                {"method": "POST", "path": "/Users", "bulkId": "late", "data": nurse("late", "late@clinic.org")},
            ]}),
        )
        .await;
    assert_eq!(r.body["Operations"].as_array().map(Vec::len), Some(1));
    assert_eq!(scim.find("userName eq \"late\"").await, Vec::<String>::new());
    s.stop().await;
}

async fn bulk_enforces_its_limits(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let op = json!({"method": "DELETE", "path": "/Users/x"});
    let too_many = scim
        .post("/Bulk", json!({"schemas": [BULK], "Operations": vec![op; 1001]}))
        .await;
    assert_eq!(too_many.status, 413);
    assert_eq!(
        too_many.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );

    let big = "x".repeat(1_100_000);
    let too_big = scim
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": big}}]}))
        .await;
    assert_eq!(too_big.status, 413);
    assert!(
        too_big.body["detail"]
            .as_str()
            .expect("detail")
            .contains("maxPayloadSize")
    );

    let far_too_big = scim.post("/Bulk", Value::String("y".repeat(3_000_000))).await;
    assert_eq!(far_too_big.status, 413);
    assert_eq!(far_too_big.body["status"], "413");
    // Most of that body was never read: the connection must not be used again.
    assert_eq!(
        far_too_big.headers.get("connection").and_then(|v| v.to_str().ok()),
        Some("close")
    );

    let no_schema = scim.post("/Bulk", json!({"Operations": []})).await;
    assert_eq!(no_schema.status, 400);
    assert_eq!(no_schema.body["scimType"], "invalidSyntax");
    // Ordinary endpoints keep the smaller limit, still answering in SCIM's format.
    let huge_user = scim
        .post("/Users", json!({"schemas": [USER], "userName": "z".repeat(400_000)}))
        .await;
    assert_eq!(huge_user.status, 413);
    assert_eq!(huge_user.body["status"], "413");
    s.stop().await;
}
