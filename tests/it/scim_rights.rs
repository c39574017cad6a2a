//! What a SCIM client may do beyond provisioning ordinary staff: nothing to a user who
//! holds admin rights unless registered with --manage-admins, no passwords unless
//! registered with --set-passwords; and what a scoped client may see.
use crate::on_each_backend;
use crate::scim_support::{Scim, nurse};
use crate::support::oidc::{self, AuthRequest, PASSWORD, Pkce};
use crate::support::{Backend, TestServer};
use serde_json::{Value, json};

on_each_backend!(
    a_scoped_client_cannot_take_over_an_admin_of_its_group,
    group_admins_are_protected_like_admins,
    passwords_need_a_client_registered_to_set_them,
    a_client_registered_to_manage_admins_may,
    a_scoped_client_sees_only_its_groups,
    scim_audit_events_carry_the_source_address,
    a_group_admins_membership_cannot_be_ended_to_get_round_it,
    clients_limited_to_deleted_groups_reach_no_one,
);

const NEW_PASSWORD: &str = "a fresh and rather long pass phrase";

/// Group G with admin4 (the admin role) and nurse5 (a member) in it.
async fn clinic(s: &TestServer) -> (String, String) {
    oidc::cli_ok(s, &["group", "create", "G"], None).await;
    let admin = oidc::cli_ok(
        s,
        &[
            "user",
            "create",
            "--username",
            "admin4",
            "--email",
            "admin4@clinic.example",
            "--admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    let nurse = oidc::create_user(s, "nurse5").await;
    oidc::cli_ok(s, &["group", "add-member", "G", "admin4"], None).await;
    oidc::cli_ok(s, &["group", "add-member", "G", "nurse5"], None).await;
    (oidc::str_of(&admin, "id"), nurse.id)
}

async fn refused_events(s: &TestServer) -> Vec<Value> {
    let all = oidc::cli_ok(s, &["audit", "list", "--limit", "200"], None).await;
    all["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "scim.refused")
        .cloned()
        .collect()
}

/// Every change to an admin's password, state, sign-in names or existence is a 403.
async fn assert_admin_untouchable(s: &TestServer, scim: &Scim<'_>, admin_id: &str) {
    let path = format!("/Users/{admin_id}");
    let attempts = [
        json!([{"op": "replace", "path": "password", "value": NEW_PASSWORD}]),
        json!([{"op": "replace", "value": {"password": NEW_PASSWORD}}]),
        json!([{"op": "replace", "path": "active", "value": false}]),
        json!([{"op": "replace", "path": "userName", "value": "someone.else"}]),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "attacker@evil.example"}]),
    ];
    for ops in attempts {
        let r = scim.patch(&path, ops.clone()).await;
        assert_eq!(r.status, 403, "{ops}: {}", r.body);
        assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    }
    let mut doc = scim.get(&path).await.body;
    doc["active"] = json!(false);
    assert_eq!(scim.put(&path, doc).await.status, 403, "PUT active:false");
    assert_eq!(scim.delete(&path).await.status, 403, "DELETE");
    let still = scim.get(&path).await;
    assert_eq!(still.status, 200, "the admin is still there");
    assert_eq!(still.body["active"], true);
    // Their profile is the feed's to keep up to date.
    let r = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "title", "value": "Practice Manager"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let _ = s;
}

async fn a_scoped_client_cannot_take_over_an_admin_of_its_group(backend: Backend) {
    // The admin signs in with the password alone here: this is about SCIM's reach.
    let s = oidc::start_with(backend, |c| c.admins_require_2fa = false).await;
    let (admin_id, _) = clinic(&s).await;
    // Even a client allowed to set passwords may not set an admin's.
    let scim = Scim::register_with(&s, "clinic G feed", &["--group", "G", "--set-passwords"]).await;
    assert_admin_untouchable(&s, &scim, &admin_id).await;

    // The admin still signs in with their own password, and not with the attacker's.
    let client = oidc::create_client(&s, "portal", &[]).await;
    let admin = oidc::User {
        id: admin_id.clone(),
        username: "admin4".into(),
        email: "admin4@clinic.example".into(),
        password: PASSWORD.into(),
    };
    oidc::login(&s, &oidc::browser(), &client, &admin, "openid").await;

    let refused = refused_events(&s).await;
    assert!(refused.len() >= 7, "every refusal is audited: {refused:?}");
    assert!(
        refused
            .iter()
            .all(|e| e["outcome"] == "failure" && e["target_id"] == admin_id.as_str()),
        "{refused:?}"
    );
    s.stop().await;
}

async fn group_admins_are_protected_like_admins(backend: Backend) {
    let s = oidc::start(backend).await;
    clinic(&s).await;
    oidc::cli_ok(&s, &["group", "create", "H"], None).await;
    let lead = oidc::create_user(&s, "ward.lead").await;
    oidc::cli_ok(&s, &["group", "add-member", "G", "ward.lead"], None).await;
    // An admin of another group, not of G: still an admin right.
    oidc::cli_ok(&s, &["group", "add-member", "H", "ward.lead", "--admin"], None).await;
    let scim = Scim::register_with(&s, "clinic G feed", &["--group", "G", "--set-passwords"]).await;
    assert_admin_untouchable(&s, &scim, &lead.id).await;
    s.stop().await;
}

async fn passwords_need_a_client_registered_to_set_them(backend: Backend) {
    let s = oidc::start(backend).await;
    let (_, nurse_id) = clinic(&s).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let path = format!("/Users/{nurse_id}");
    let r = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "password", "value": NEW_PASSWORD}]),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap_or("").contains("--set-passwords"),
        "{}",
        r.body
    );
    let mut body = nurse("new.starter", "new.starter@clinic.example");
    body["password"] = json!(NEW_PASSWORD);
    assert_eq!(scim.post("/Users", body).await.status, 403);
    assert!(
        scim.find("userName eq \"new.starter\"").await.is_empty(),
        "nothing is created"
    );
    // Ordinary provisioning of the same member still works, deprovisioning included.
    let r = scim
        .patch(&path, json!([{"op": "replace", "path": "active", "value": false}]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let sync = Scim::register_with(&s, "okta", &["--set-passwords"]).await;
    let r = sync
        .patch(&path, json!([{"op": "replace", "path": "active", "value": true}, {"op": "replace", "path": "password", "value": NEW_PASSWORD}]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!refused_events(&s).await.is_empty());
    s.stop().await;
}

async fn a_client_registered_to_manage_admins_may(backend: Backend) {
    let s = oidc::start(backend).await;
    let (admin_id, _) = clinic(&s).await;
    let scim = Scim::register_with(&s, "it directory", &["--manage-admins", "--set-passwords"]).await;
    let path = format!("/Users/{admin_id}");
    let r = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "password", "value": NEW_PASSWORD}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scim
        .patch(&path, json!([{"op": "replace", "path": "active", "value": false}]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(scim.delete(&path).await.status, 204);
    s.stop().await;
}

async fn a_scoped_client_sees_only_its_groups(backend: Backend) {
    let s = oidc::start(backend).await;
    let (_, nurse_id) = clinic(&s).await;
    oidc::cli_ok(&s, &["group", "create", "Secret Unit"], None).await;
    oidc::cli_ok(&s, &["group", "add-member", "Secret Unit", "nurse5"], None).await;
    let all = Scim::register(&s, "directory", &[]).await;
    let groups = all.get("/Groups").await.body;
    let id_of = |name: &str| {
        groups["Resources"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["displayName"] == name)
            .and_then(|g| g["id"].as_str())
            .expect("group")
            .to_string()
    };
    let (g, secret) = (id_of("G"), id_of("Secret Unit"));
    // The secret unit nested inside G, by a client that sees everything.
    let r = all
        .patch(
            &format!("/Groups/{g}"),
            json!([{"op": "add", "path": "members", "value": [{"value": secret}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let scoped = Scim::register(&s, "clinic G feed", &["G"]).await;
    let user = scoped.get(&format!("/Users/{nurse_id}")).await;
    assert_eq!(user.status, 200);
    let text = user.body.to_string();
    assert!(!text.contains("Secret Unit") && !text.contains(&secret), "{text}");
    assert_eq!(user.body["groups"].as_array().map(Vec::len), Some(1), "{text}");
    let listed = scoped
        .get("/Users?filter=userName%20eq%20%22nurse5%22")
        .await
        .body
        .to_string();
    assert!(!listed.contains("Secret Unit") && !listed.contains(&secret), "{listed}");
    let group = scoped.get(&format!("/Groups/{g}")).await;
    assert_eq!(group.status, 200);
    assert!(!group.body.to_string().contains(&secret), "{}", group.body);
    assert_eq!(scoped.get(&format!("/Groups/{secret}")).await.status, 404);
    // The unscoped client still sees it all.
    assert!(
        all.get(&format!("/Users/{nurse_id}"))
            .await
            .body
            .to_string()
            .contains("Secret Unit")
    );
    s.stop().await;
}

async fn scim_audit_events_carry_the_source_address(backend: Backend) {
    let s = oidc::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let id = scim.user(nurse("camille", "camille@clinic.example")).await;
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "title", "value": "Sister"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    let events = oidc::cli_ok(&s, &["audit", "list", "--target", &id], None).await;
    let events = events["events"].as_array().expect("events").clone();
    assert!(events.len() >= 2, "{events:?}");
    for e in &events {
        assert_eq!(e["source_ip"], "127.0.0.1", "{e}");
    }
    s.stop().await;
}

async fn a_group_admins_membership_cannot_be_ended_to_get_round_it(backend: Backend) {
    let s = oidc::start(backend).await;
    let (_, nurse_id) = clinic(&s).await;
    let lead = oidc::create_user(&s, "ward.lead").await;
    oidc::cli_ok(&s, &["group", "add-member", "G", "ward.lead", "--admin"], None).await;
    let scoped = Scim::register_with(&s, "clinic G feed", &["--group", "G", "--set-passwords"]).await;
    let found = scoped.get("/Groups?filter=displayName%20eq%20%22G%22").await;
    let g = found.body["Resources"][0]["id"].as_str().expect("group G").to_string();
    let path = format!("/Groups/{g}");
    let only_nurse = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": nurse_id}]});
    assert_eq!(
        scoped.put(&path, only_nurse).await.status,
        403,
        "PUT dropping the group admin"
    );
    for ops in [
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", lead.id)}]),
        json!([{"op": "remove", "path": "members"}]),
        json!([{"op": "replace", "path": "members", "value": [{"value": nurse_id}]}]),
    ] {
        let r = scoped.patch(&path, ops.clone()).await;
        assert_eq!(r.status, 403, "{ops}: {}", r.body);
    }
    // Naming the admin again keeps the membership, admin flag and all.
    let both = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G",
        "members": [{"value": nurse_id}, {"value": lead.id}]});
    let r = scoped.put(&path, both).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = scoped
        .patch(
            &format!("/Users/{}", lead.id),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, 403, "still an admin of G: {}", r.body);

    let unscoped = Scim::register(&s, "directory", &[]).await;
    assert_eq!(
        unscoped.delete(&path).await.status,
        403,
        "deleting the group would end the admin's rights"
    );
    let it = Scim::register_with(&s, "it directory", &["--manage-admins"]).await;
    let r = it
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", lead.id)}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(refused_events(&s).await.len() >= 5);
    s.stop().await;
}

/// A limit to groups that have all been deleted limits to nothing, never to everything.
async fn clients_limited_to_deleted_groups_reach_no_one(backend: Backend) {
    let s = oidc::start(backend).await;
    let (_, nurse_id) = clinic(&s).await;
    let scoped = Scim::register(&s, "clinic G feed", &["G"]).await;
    let app = oidc::create_client(&s, "clinic G rota", &["--group", "G"]).await;
    assert_eq!(scoped.get(&format!("/Users/{nurse_id}")).await.status, 200);
    // Entra deletes a group that leaves its provisioning scope (admin4 is no group admin).
    let directory = Scim::register(&s, "directory", &[]).await;
    let found = directory.get("/Groups?filter=displayName%20eq%20%22G%22").await;
    let g = found.body["Resources"][0]["id"].as_str().expect("group G").to_string();
    assert_eq!(directory.delete(&format!("/Groups/{g}")).await.status, 204);

    let listed = scoped.get("/Users").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["totalResults"], 0, "{}", listed.body);
    assert_eq!(scoped.get(&format!("/Users/{nurse_id}")).await.status, 404);
    let r = scoped
        .patch(
            &format!("/Users/{nurse_id}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(scoped.get("/Groups").await.body["totalResults"], 0);

    let nurse = oidc::User {
        id: nurse_id,
        username: "nurse5".into(),
        email: "nurse5@clinic.example".into(),
        password: PASSWORD.into(),
    };
    let req = AuthRequest::new(&app, "openid").with_pkce(&Pkce::generate());
    let refused = oidc::sign_in(&s, &oidc::browser(), &req, &nurse.username, &nurse.password).await;
    assert_eq!(refused.error(), Some("access_denied"), "{refused:?}");
    assert_eq!(refused.param("code"), None);
    s.stop().await;
}
