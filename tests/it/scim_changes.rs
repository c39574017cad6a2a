use crate::on_each_backend;
use crate::scim_support::{ENTERPRISE, Scim, nurse};
use crate::support::{Backend, TestServer};
use serde_json::json;
use tessera::accounts::login::{self, LoginError};

on_each_backend!(
    patch_accepts_what_entra_and_okta_send,
    deprovisioning_takes_effect_at_once,
    scim_delete_is_the_same_delete_as_everywhere,
    groups_and_their_members,
    a_client_limited_to_a_group_sees_only_that_group,
);

async fn patch_accepts_what_entra_and_okta_send(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "Entra", &[]).await;
    let id = scim.user(nurse("camilles", "c@clinic.org")).await;
    let path = format!("/Users/{id}");
    let manager = scim.user(nurse("boss", "boss@clinic.org")).await;

    let r = scim
        .patch(&path, json!([
            {"op": "Replace", "value": {"name.givenName": "Cam", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "ICU", "displayName": "Cam N"}},
            {"op": "Add", "path": "phoneNumbers", "value": [{"value": "555", "type": "work"}]},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "cam@clinic.org"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": manager},
            {"op": "remove", "path": "phoneNumbers[type eq \"mobile\"]"},
            {"op": "replace", "path": "name.familyName", "value": "Nurse-Smith"},
            {"op": "add", "path": "emails[type eq \"home\"].value", "value": "cam@home.net"},
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = &r.body;
    assert_eq!(u["name"]["givenName"], "Cam");
    assert_eq!(u["name"]["familyName"], "Nurse-Smith");
    assert_eq!(u["displayName"], "Cam N");
    assert_eq!(u[ENTERPRISE]["department"], "ICU");
    assert_eq!(u[ENTERPRISE]["manager"]["value"], manager);
    assert_eq!(u["phoneNumbers"], json!([{"value": "555", "type": "work"}]));
    assert_eq!(u["emails"][0]["value"], "cam@clinic.org");
    assert_eq!(u["emails"][1], json!({"type": "home", "value": "cam@home.net"}));
    assert_eq!(
        tessera::accounts::users::find(&s.svc, "camilles")
            .await
            .expect("user")
            .email
            .as_deref(),
        Some("cam@clinic.org"),
        "the primary email is the one Tessera mails"
    );

    // PATCH answers with the resource, projected as asked.
    let r = scim
        .call(
            "PATCH",
            &format!("{path}?attributes=title"),
            Some(json!({"schemas": [crate::scim_support::PATCH], "Operations": [{"op": "remove", "path": "title"}]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("title").is_none() && r.body.get("userName").is_none());

    for (ops, scim_type) in [
        (json!([{"op": "replace", "path": "id", "value": "x"}]), "mutability"),
        (json!([{"op": "replace", "path": "groups", "value": []}]), "mutability"),
        (
            json!([{"op": "replace", "path": "nosuch", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
            "invalidPath",
        ),
        (json!([{"op": "remove", "path": "userName"}]), "invalidValue"),
        (json!([{"op": "explode", "path": "title"}]), "invalidSyntax"),
        (
            json!([{"op": "replace", "path": "emails[type eq \"pager\"]", "value": {"display": "x"}}]),
            "noTarget",
        ),
    ] {
        let r = scim.patch(&path, ops.clone()).await;
        assert_eq!(r.status, 400, "{ops}: {}", r.body);
        assert_eq!(r.body["scimType"], scim_type, "{ops}");
    }
    // A failed PATCH changes nothing, even when earlier operations were fine.
    let before = scim.get(&path).await.body;
    let r = scim.patch(&path, json!([{"op": "replace", "path": "title", "value": "Changed"}, {"op": "replace", "path": "id", "value": "x"}])).await;
    assert_eq!(r.status, 400);
    assert_eq!(scim.get(&path).await.body, before);
    s.stop().await;
}

async fn deprovisioning_takes_effect_at_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    // Okta-style: a client that syncs passwords.
    let scim = Scim::register_with(&s, "Okta", &["--set-passwords"]).await;
    let mut body = nurse("marcus", "m@clinic.org");
    body["password"] = json!("granite willow parcel tune");
    let id = scim.user(body).await;
    assert!(
        login::check_password(
            &s.svc,
            "marcus",
            "granite willow parcel tune",
            &tessera::accounts::devices::DeviceCookie::from_browser(None),
            None
        )
        .await
        .is_ok()
    );

    // Mail queued to the user before deprovisioning must not go out.
    let mail = queue_mail_to(&s, "marcus").await;

    let r = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["active"], false);
    let err = login::check_password(
        &s.svc,
        "marcus",
        "granite willow parcel tune",
        &tessera::accounts::devices::DeviceCookie::from_browser(None),
        None,
    )
    .await
    .expect_err("refused");
    assert!(matches!(err, LoginError::InvalidCredentials));
    let stored = tessera::mail::find(&s.svc, mail.id).await.expect("read").expect("mail");
    assert_eq!(stored.status, tessera::mail::MailStatus::Cancelled);

    // Reactivation restores access without a new password.
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {"active": true}}]),
        )
        .await;
    assert_eq!(r.body["active"], true);
    assert!(
        login::check_password(
            &s.svc,
            "marcus",
            "granite willow parcel tune",
            &tessera::accounts::devices::DeviceCookie::from_browser(None),
            None
        )
        .await
        .is_ok()
    );

    let events = tessera::audit::recent(s.svc.store.conn(), Some(&id), 20)
        .await
        .expect("audit");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"user.disable") && actions.contains(&"user.enable"),
        "{actions:?}"
    );
    s.stop().await;
}

async fn groups_and_their_members(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "Entra", &[]).await;
    let a = scim.user(nurse("amy", "amy@clinic.org")).await;
    let b = scim.user(nurse("bob", "bob@clinic.org")).await;
    let c = scim.user(nurse("cara", "cara@clinic.org")).await;
    let g = scim
        .post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "North Clinic", "externalId": "site-1", "members": [{"value": a}]}))
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = g.body["id"].as_str().expect("id").to_string();
    let path = format!("/Groups/{gid}");
    assert_eq!(g.body["members"][0]["value"], a.as_str());
    assert_eq!(g.body["members"][0]["type"], "User");

    let dup = scim
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "north clinic"}),
        )
        .await;
    assert_eq!(dup.status, 409);

    let r = scim
        .patch(
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}, {"value": c}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["members"].as_array().map(Vec::len),
        Some(3),
        "adding an existing member is a no-op"
    );
    let r = scim
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
        )
        .await;
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(2));
    // Entra ID's way: remove by listing values.
    let r = scim
        .patch(
            &path,
            json!([{"op": "Remove", "path": "members", "value": [{"value": c}]}]),
        )
        .await;
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1));
    let r = scim
        .patch(
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": "00000000-0000-0000-0000-000000000000"}, {"value": "null"}]}]),
        )
        .await;
    // References to nothing cannot be members: skipped, and the client's log says so.
    assert_eq!(r.status, 200);
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1));
    let log = crate::support::json_of(&s.cli(&["scim-client", "log", "Entra", "--limit", "1"], None).await);
    let summary = log["requests"][0]["summary"].as_str().expect("summary");
    assert!(
        summary.contains("ignored unknown members: 00000000-0000-0000-0000-000000000000, null"),
        "{summary}"
    );
    let r = scim
        .patch(
            &path,
            json!([{"op": "replace", "value": {"displayName": "North Clinic (Main)"}}]),
        )
        .await;
    assert_eq!(r.body["displayName"], "North Clinic (Main)");

    // The user's read-only groups attribute, and filters on membership.
    assert_eq!(
        scim.get(&format!("/Users/{a}")).await.body["groups"][0]["value"],
        gid.as_str()
    );
    assert_eq!(scim.find(&format!("groups.value eq \"{gid}\"")).await, ["amy"]);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &format!("members.value eq \"{a}\""))
        .finish();
    assert_eq!(scim.get(&format!("/Groups?{q}")).await.body["totalResults"], 1);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", "displayName eq \"north clinic (main)\"")
        .finish();
    assert_eq!(scim.get(&format!("/Groups?{q}")).await.body["totalResults"], 1);
    let lean = scim.get(&format!("{path}?excludedAttributes=members")).await;
    assert!(lean.body.get("members").is_none());

    let put = scim
        .call("PUT", &path, Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "North", "members": [{"value": b}]})), &[])
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(put.body["members"][0]["value"], b.as_str());
    assert_eq!(scim.call("DELETE", &path, None, &[]).await.status, 204);
    assert_eq!(scim.get(&path).await.status, 404);
    assert!(scim.get(&format!("/Users/{b}")).await.body.get("groups").is_none());
    s.stop().await;
}

async fn a_client_limited_to_a_group_sees_only_that_group(backend: Backend) {
    let s = TestServer::start(backend).await;
    for g in ["North", "South"] {
        assert!(s.cli(&["group", "create", g], None).await.status.success());
    }
    let north = Scim::register(&s, "North HR", &["North"]).await;
    let south = Scim::register(&s, "South HR", &["South"]).await;
    let n = north.user(nurse("nina", "nina@clinic.org")).await;
    let x = south.user(nurse("sam", "sam@clinic.org")).await;
    assert_eq!(north.find("userName pr").await, ["nina"]);
    assert_eq!(south.find("userName pr").await, ["sam"]);
    assert_eq!(north.get(&format!("/Users/{x}")).await.status, 404);
    assert_eq!(
        north
            .patch(
                &format!("/Users/{x}"),
                json!([{"op": "replace", "path": "title", "value": "x"}])
            )
            .await
            .status,
        404
    );
    assert_eq!(
        north.call("DELETE", &format!("/Users/{x}"), None, &[]).await.status,
        404
    );
    assert_eq!(
        north.get(&format!("/Users/{n}")).await.body["groups"][0]["display"],
        "North"
    );
    let groups = north.get("/Groups").await;
    assert_eq!(groups.body["totalResults"], 1);
    let create = north
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "East"}),
        )
        .await;
    assert_eq!(create.status, 403);
    s.stop().await;
}

async fn scim_delete_is_the_same_delete_as_everywhere(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let id = scim.user(nurse("priya", "p@clinic.org")).await;
    let mail = queue_mail_to(&s, "priya").await;

    let r = scim.delete(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 204);
    // The reason says what happened: deleted, not disabled.
    let stored = tessera::mail::find(&s.svc, mail.id)
        .await
        .expect("read")
        .expect("the mail row outlives its user");
    assert_eq!(stored.status, tessera::mail::MailStatus::Cancelled);
    assert_eq!(stored.last_error.as_deref(), Some("user deleted"));
    let events = tessera::audit::recent(s.svc.store.conn(), Some(&id), 10)
        .await
        .expect("audit");
    let delete = events
        .iter()
        .find(|e| e.action == "user.delete")
        .expect("the delete is audited");
    assert_eq!(delete.detail.as_ref().expect("detail")["email"], "p@clinic.org");
    // The username is free again at once.
    scim.user(nurse("priya", "p@clinic.org")).await;
    s.stop().await;
}

/// A mail waiting in the outbox for a user (due in an hour, so it is still there).
async fn queue_mail_to(s: &TestServer, username: &str) -> tessera::mail::OutboxMail {
    let user = tessera::accounts::users::find(&s.svc, username).await.expect("user");
    let tx = s.svc.store.begin().await.expect("tx");
    let mail = tessera::mail::queue_for_user(
        &tx,
        s.svc.now() + chrono::Duration::hours(1),
        "invite",
        &user,
        tessera::mail::Rendered {
            subject: "x".into(),
            text: "x".into(),
            html: None,
        },
    )
    .await
    .expect("queue");
    tx.commit().await.expect("commit");
    mail
}
