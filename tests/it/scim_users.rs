use crate::on_each_backend;
use crate::scim_support::{ENTERPRISE, Scim, USER, nurse};
use crate::support::{Backend, TestServer, json_of};
use serde_json::{Value, json};

on_each_backend!(
    scim_requires_a_valid_bearer_token,
    discovery_describes_what_is_supported,
    users_are_created_read_replaced_and_deleted,
    etags_guard_changes_and_spare_reads,
    bad_input_gets_scim_errors,
    requests_are_logged_per_client,
    a_user_made_by_hand_keeps_its_email_through_scim,
);

async fn scim_requires_a_valid_bearer_token(backend: Backend) {
    let s = TestServer::start(backend).await;
    let res = s.client.get(s.url("/scim/v2/Users")).send().await.expect("get");
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .expect("h")
            .starts_with("Bearer")
    );
    assert_eq!(res.headers()["content-type"], "application/scim+json");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert_eq!(body["status"], "401");

    let scim = Scim::register(&s, "HR feed", &[]).await;
    assert_eq!(scim.get("/Users").await.status, 200);
    let wrong = Scim {
        s: &s,
        token: format!("{}x", scim.token),
    };
    assert_eq!(wrong.get("/Users").await.status, 401);

    let out = s.cli(&["scim-client", "revoke", "hr feed"], None).await;
    assert!(out.status.success());
    assert!(json_of(&out)["revoked_at"].is_string());
    assert_eq!(
        scim.get("/Users").await.status,
        401,
        "a revoked token stops working at once"
    );
    s.stop().await;
}

async fn discovery_describes_what_is_supported(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "Entra", &[]).await;
    let spc = scim.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, 200);
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["filter"]["supported"], true);
    assert_eq!(spc.body["etag"]["supported"], true);
    assert_eq!(spc.body["bulk"]["supported"], true);
    assert_eq!(spc.body["bulk"]["maxOperations"], 1000);
    assert_eq!(spc.body["bulk"]["maxPayloadSize"], 1_048_576);
    assert_eq!(spc.body["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let types = scim.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(
        scim.get("/ResourceTypes/User").await.body["schemaExtensions"][0]["schema"],
        ENTERPRISE
    );
    let schemas = scim.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], 3);
    let user = scim.get(&format!("/Schemas/{USER}")).await;
    assert_eq!(user.status, 200);
    let attrs = user.body["attributes"].as_array().expect("attributes");
    let password = attrs.iter().find(|a| a["name"] == "password").expect("password");
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
    let user_name = attrs.iter().find(|a| a["name"] == "userName").expect("userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(scim.get("/Schemas/urn:nope").await.status, 404);
    s.stop().await;
}

async fn users_are_created_read_replaced_and_deleted(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register_with(&s, "HR feed", &["--set-passwords"]).await;
    let created = scim.post("/Users", nurse("camilles", "cnurse@email.xyz")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        created.headers["location"],
        s.svc.config.base_url() + "/scim/v2/Users/" + &id
    );
    assert_eq!(created.headers["etag"], "W/\"1\"");
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(created.body[ENTERPRISE]["department"], "Ward 3");
    assert!(created.body.get("password").is_none());

    let got = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["emails"][0]["value"], "cnurse@email.xyz");
    assert_eq!(got.body["phoneNumbers"][0]["type"], "mobile");
    assert_eq!(got.body["name"]["familyName"], "Nurse");

    // The domain sees the same person: primary email, names, active.
    let user = tessera::accounts::users::find(&s.svc, "camilles").await.expect("user");
    assert_eq!(user.email.as_deref(), Some("cnurse@email.xyz"));
    assert_eq!(user.state(s.svc.now()), tessera::accounts::UserState::Invited);

    let dup = scim.post("/Users", nurse("CAMILLES", "other@email.xyz")).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["scimType"], "uniqueness");

    let mut replacement = nurse("camille.s", "camille@clinic.org");
    replacement["title"] = json!("Ward Manager");
    replacement["password"] = json!("ember saddle ocean violin");
    let replaced = scim.call("PUT", &format!("/Users/{id}"), Some(replacement), &[]).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["userName"], "camille.s");
    assert_eq!(replaced.body["title"], "Ward Manager");
    assert_eq!(replaced.headers["etag"], "W/\"2\"");
    assert!(
        tessera::accounts::login::check_password(
            &s.svc,
            "camille.s",
            "ember saddle ocean violin",
            &tessera::accounts::devices::DeviceCookie::from_browser(None),
            None
        )
        .await
        .is_ok()
    );
    let weak = scim
        .call(
            "PUT",
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER], "userName": "camille.s", "password": "password1"})),
            &[],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert_eq!(weak.body["scimType"], "invalidValue");

    assert_eq!(
        scim.call("DELETE", &format!("/Users/{id}"), None, &[]).await.status,
        204
    );
    assert_eq!(scim.get(&format!("/Users/{id}")).await.status, 404);
    assert_eq!(
        scim.call("DELETE", &format!("/Users/{id}"), None, &[]).await.status,
        404
    );
    // userName and email are free again.
    scim.user(nurse("camille.s", "camille@clinic.org")).await;

    let events = tessera::audit::recent(s.svc.store.conn(), Some(&id), 20)
        .await
        .expect("audit");
    let by_scim: Vec<_> = events.iter().filter(|e| e.actor_kind == "scim").collect();
    let actions: Vec<&str> = by_scim.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        // A new active user with an address and no password is invited.
        [
            "user.delete",
            "user.replace",
            "user.password_set",
            "user.invite",
            "user.create"
        ]
    );
    assert!(by_scim.iter().all(|e| e.actor_label == "scim:HR feed"));
    s.stop().await;
}

async fn etags_guard_changes_and_spare_reads(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let id = scim.user(nurse("hannah", "h@clinic.org")).await;
    let path = format!("/Users/{id}");
    let unchanged = scim.call("GET", &path, None, &[("if-none-match", "W/\"1\"")]).await;
    assert_eq!(unchanged.status, 304);
    let ops = json!({"schemas": [crate::scim_support::PATCH], "Operations": [{"op": "replace", "path": "title", "value": "GP"}]});
    let stale = scim
        .call("PATCH", &path, Some(ops.clone()), &[("if-match", "W/\"7\"")])
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.body["scimType"], "invalidVers");
    let fresh = scim.call("PATCH", &path, Some(ops), &[("if-match", "W/\"1\"")]).await;
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.headers["etag"], "W/\"2\"");
    assert_eq!(
        scim.call("GET", &path, None, &[("if-none-match", "W/\"1\"")])
            .await
            .status,
        200
    );
    assert_eq!(
        scim.call("DELETE", &path, None, &[("if-match", "W/\"1\"")])
            .await
            .status,
        412
    );
    s.stop().await;
}

async fn bad_input_gets_scim_errors(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let res = s
        .client
        .post(s.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["scimType"], "invalidSyntax");

    for (body, scim_type) in [
        (json!({"userName": "x"}), "invalidSyntax"),
        (
            json!({"schemas": [USER, "urn:example:unknown"], "userName": "x"}),
            "invalidSyntax",
        ),
        (json!({"schemas": [USER]}), "invalidValue"),
        (
            json!({"schemas": [USER], "userName": "x", "active": "perhaps"}),
            "invalidValue",
        ),
    ] {
        let r = scim.post("/Users", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["scimType"], scim_type, "{body}");
    }
    assert_eq!(scim.get("/Users/not-a-uuid").await.status, 404);
    assert_eq!(scim.get("/Users?count=abc").await.status, 400);
    assert_eq!(scim.get("/Nothing").await.status, 404);
    assert!(
        tessera::accounts::users::list(&s.svc).await.expect("list").is_empty(),
        "nothing half-written"
    );

    // An HR placeholder in emails is kept as sent, but is no address to mail.
    let placeholder = scim
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "temp1", "emails": [{"value": "emailName357", "primary": true}]}),
        )
        .await;
    assert_eq!(placeholder.status, 201);
    assert_eq!(placeholder.body["emails"][0]["value"], "emailName357");
    assert_eq!(
        tessera::accounts::users::find(&s.svc, "temp1")
            .await
            .expect("user")
            .email,
        None
    );
    // Several people may share an address through SCIM (RFC 7643: emails are not unique).
    assert_eq!(
        scim.post("/Users", crate::scim_support::nurse("a1", "desk@clinic.org"))
            .await
            .status,
        201
    );
    assert_eq!(
        scim.post("/Users", crate::scim_support::nurse("a2", "desk@clinic.org"))
            .await
            .status,
        201
    );
    s.stop().await;
}

async fn requests_are_logged_per_client(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "EHR", &[]).await;
    scim.user(nurse("marcus", "m@clinic.org")).await;
    let failed = scim.post("/Users", nurse("marcus", "other@clinic.org")).await;
    assert_eq!(failed.status, 409);
    let log = json_of(&s.cli(&["scim-client", "log", "EHR"], None).await);
    let requests = log["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["status"], 409);
    assert!(requests[0]["error"].as_str().expect("error").contains("already taken"));
    assert_eq!(requests[1]["status"], 201);
    assert_eq!(requests[1]["summary"], "created user marcus");
    assert_eq!(requests[1]["method"], "POST");
    let clients = json_of(&s.cli(&["scim-client", "list"], None).await);
    assert!(clients["clients"][0]["last_used_at"].is_string());
    s.stop().await;
}

async fn a_user_made_by_hand_keeps_its_email_through_scim(backend: Backend) {
    let s = TestServer::start(backend).await;
    let made = json_of(
        &s.cli(
            &["user", "create", "--username", "ines", "--email", "ines@clinic.org"],
            None,
        )
        .await,
    );
    let id = made["id"].as_str().expect("id").to_string();
    let scim = Scim::register(&s, "EHR", &[]).await;
    let read = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body["emails"],
        json!([{"value": "ines@clinic.org", "type": "work", "primary": true}])
    );
    assert_eq!(
        scim.find(r#"emails.value eq "ines@clinic.org""#).await,
        vec!["ines".to_string()]
    );
    let patched = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": "+44 1", "type": "work"}]}]),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["emails"][0]["value"], "ines@clinic.org");
    let listed = json_of(&s.cli(&["user", "list"], None).await);
    assert_eq!(listed["users"][0]["email"], "ines@clinic.org", "{listed}");
    s.stop().await;
}
