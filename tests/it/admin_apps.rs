//! The console's organisation pages through HTTP: apps (OpenID Connect clients), SCIM
//! clients with their request log, signing keys, the audit log and its CSV export,
//! and a group admin refused all of them.
use crate::on_each_backend;
use crate::scim_support::{Scim, USER};
use crate::support::console::{admin, console, events, get, group, post, start};
use crate::support::oidc::{self, Auth, Client, PASSWORD, User};
use crate::support::{Backend, TestServer};
use serde_json::json;

on_each_backend!(
    an_admin_registers_edits_rotates_and_deletes_an_app,
    a_scim_clients_page_shows_its_requests_and_revokes_it,
    signing_keys_rotate_from_the_console,
    the_audit_log_filters_and_exports_csv,
    a_group_admin_is_refused_the_organisation_pages,
);

/// The text of `<code id="secret">…</code>` on a shown-once page.
fn shown_secret(page: &str) -> String {
    let start = page.find("<code id=\"secret\">").expect("a secret on the page") + "<code id=\"secret\">".len();
    let end = page[start..].find("</code>").expect("end of secret");
    page[start..start + end].to_string()
}

/// The first `/admin/clients/{id}` link's id.
fn client_id_on(page: &str, prefix: &str) -> String {
    let start = page.find(prefix).expect("a link") + prefix.len();
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

async fn client_credentials(s: &TestServer, id: &str, secret: &str) -> u16 {
    let client = Client {
        id: id.to_string(),
        secret: Some(secret.to_string()),
    };
    oidc::token(
        s,
        Auth::Basic(&client),
        &[("grant_type", "client_credentials"), ("scope", "rota.read")],
    )
    .await
    .status
}

async fn an_admin_registers_edits_rotates_and_deletes_an_app(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let ward = group(&s, "ward-a").await;
    let (browser, _) = console(&s, &boss).await;
    let (status, page) = get(&s, &browser, "/admin/clients").await;
    assert_eq!(status, 200);
    assert!(page.contains("No apps are registered yet"), "{page}");

    // A web app with an http redirect that is not loopback is refused, and says why.
    let fields = [
        ("name", "Rota"),
        ("kind", "web"),
        ("redirect_uris", "http://rota.clinic.example/cb"),
    ];
    let (status, refused) = post(&s, &browser, &page, "/admin/clients", &fields).await;
    assert_eq!(status, 422);
    assert!(refused.contains("must use https"), "{refused}");
    assert!(events(&s, "client.create").await.is_empty());

    // A service: its secret is shown once, and works for client_credentials.
    let fields = [("name", "Rota sync"), ("kind", "service"), ("scopes", "rota.read")];
    let (status, shown) = post(&s, &browser, &refused, "/admin/clients", &fields).await;
    assert_eq!(status, 200, "{shown}");
    let secret = shown_secret(&shown);
    let (_, list) = get(&s, &browser, "/admin/clients").await;
    let id = client_id_on(&list, "/admin/clients/");
    assert!(shown.contains(&id));
    assert_eq!(client_credentials(&s, &id, &secret).await, 200);
    // Never shown again.
    let (_, app) = get(&s, &browser, &format!("/admin/clients/{id}")).await;
    assert!(!app.contains(&secret));

    // A web app's redirect URIs and groups are edited; a bad URI changes nothing.
    let fields = [
        ("name", "Records"),
        ("kind", "web"),
        ("redirect_uris", "https://records.clinic.example/cb"),
    ];
    let (_, shown) = post(&s, &browser, &list, "/admin/clients", &fields).await;
    let (_, list) = get(&s, &browser, "/admin/clients").await;
    assert!(list.contains("Records"), "{list}");
    let records = oidc::str_of(
        &oidc::cli_ok(&s, &["client", "list"], None).await["clients"]
            .as_array()
            .expect("clients")
            .iter()
            .find(|c| c["name"] == "Records")
            .expect("Records")
            .clone(),
        "client_id",
    );
    assert!(shown.contains(&records));
    let path = format!("/admin/clients/{records}");
    let (_, app) = get(&s, &browser, &path).await;
    let (status, bad) = post(&s, &browser, &app, &path, &[("redirect_uris", "not a uri")]).await;
    assert_eq!(status, 422);
    assert!(bad.contains("is not an absolute URI"), "{bad}");
    let fields = [
        (
            "redirect_uris",
            "https://records.clinic.example/cb\nhttps://records.clinic.example/cb2",
        ),
        ("post_logout_uris", "https://records.clinic.example/bye"),
        ("group", ward.as_str()),
    ];
    let (status, saved) = post(&s, &browser, &app, &path, &fields).await;
    assert_eq!(status, 303, "{saved}");
    assert!(saved.contains("Saved."), "{saved}");
    assert!(saved.contains("https://records.clinic.example/cb2"));
    assert!(saved.contains("ward-a"));
    let update = events(&s, "client.update").await;
    assert_eq!(update.len(), 1, "{update:?}");
    // Later, where an app sends its codes asks for the admin's own password first.
    s.clock.advance(chrono::Duration::minutes(6));
    let (_, app) = get(&s, &browser, &path).await;
    let steal = [("redirect_uris", "https://attacker.example/cb")];
    let (status, asked) = post(&s, &browser, &app, &path, &steal).await;
    assert_eq!(status, 422);
    assert!(asked.contains("Your own password was not right"), "{asked}");
    assert_eq!(events(&s, "client.update").await.len(), 1);
    let fields = [
        ("redirect_uris", "https://records.clinic.example/cb"),
        ("current_password", PASSWORD),
    ];
    let (status, _) = post(&s, &browser, &app, &path, &fields).await;
    assert_eq!(status, 303);

    // Rotating the service's secret: the old one stops at once, the new one works.
    let path = format!("/admin/clients/{id}");
    let (_, app) = get(&s, &browser, &path).await;
    let pw = [("current_password", PASSWORD)];
    let (status, rotated) = post(&s, &browser, &app, &format!("{path}/rotate-secret"), &pw).await;
    assert_eq!(status, 200, "{rotated}");
    let fresh = shown_secret(&rotated);
    assert_ne!(fresh, secret);
    assert_eq!(client_credentials(&s, &id, &secret).await, 401);
    assert_eq!(client_credentials(&s, &id, &fresh).await, 200);
    assert_eq!(events(&s, "client.rotate_secret").await.len(), 1);

    // Delete asks for the name; then the secret no longer works.
    let (status, kept) = post(
        &s,
        &browser,
        &app,
        &format!("{path}/delete"),
        &[("confirm_name", "rota"), ("current_password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(kept.contains("type its name"), "{kept}");
    assert_eq!(client_credentials(&s, &id, &fresh).await, 200);
    let (status, gone) = post(
        &s,
        &browser,
        &app,
        &format!("{path}/delete"),
        &[("confirm_name", "Rota sync"), ("current_password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 303, "{gone}");
    assert!(gone.contains("The app is deleted"), "{gone}");
    assert_eq!(client_credentials(&s, &id, &fresh).await, 401);

    // The console's own client is not an app an admin can open.
    let (status, _) = get(&s, &browser, "/admin/clients/tessera-console").await;
    assert_eq!(status, 404);
}

/// After five minutes, secrets and tokens ask for the admin's own password.
async fn a_scim_clients_page_shows_its_requests_and_revokes_it(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let (browser, _) = console(&s, &boss).await;
    s.clock.advance(chrono::Duration::minutes(6));
    let (_, page) = get(&s, &browser, "/admin/scim").await;
    assert!(page.contains("Your own password"), "{page}");
    let (status, wrong) = post(
        &s,
        &browser,
        &page,
        "/admin/scim",
        &[("name", "HR feed"), ("current_password", "nope")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(wrong.contains("not right"), "{wrong}");
    let fields = [("name", "HR feed"), ("current_password", PASSWORD)];
    let (status, shown) = post(&s, &browser, &wrong, "/admin/scim", &fields).await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown.contains("/scim/v2"), "{shown}");
    let scim = Scim {
        s: &s,
        token: shown_secret(&shown),
    };
    let ok = scim
        .call(
            "POST",
            "/Users",
            Some(json!({ "schemas": [USER], "userName": "ada.nurse" })),
            &[],
        )
        .await;
    assert_eq!(ok.status, 201);
    let bad = scim
        .call("POST", "/Users", Some(json!({ "schemas": [USER] })), &[])
        .await;
    assert_eq!(bad.status, 400);

    let (_, list) = get(&s, &browser, "/admin/scim").await;
    assert!(list.contains("HR feed") && list.contains("last used"), "{list}");
    let start = list.find("/admin/scim/").expect("link") + "/admin/scim/".len();
    let id: String = list[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    let (_, log) = get(&s, &browser, &format!("/admin/scim/{id}")).await;
    assert!(log.contains("1 of the last 2 requests failed"), "{log}");
    assert!(log.contains("<li class=\"failed\">"), "{log}");
    assert!(log.contains("POST /Users"), "{log}");
    let (_, failures) = get(&s, &browser, &format!("/admin/scim/{id}?failures=1")).await;
    assert_eq!(failures.matches("<li class=\"failed\">").count(), 1);
    assert!(!failures.contains("<span class=\"badge\">201</span>"), "{failures}");

    let (status, revoked) = post(&s, &browser, &log, &format!("/admin/scim/{id}/revoke"), &[]).await;
    assert_eq!(status, 303);
    assert!(revoked.contains("Revoked"), "{revoked}");
    assert_eq!(scim.call("GET", "/Users", None, &[]).await.status, 401);
    assert_eq!(events(&s, "scim_client.revoke").await.len(), 1);
}

async fn signing_keys_rotate_from_the_console(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let (browser, _) = console(&s, &boss).await;
    let (_, page) = get(&s, &browser, "/admin/keys").await;
    assert_eq!(page.matches("Signs tokens").count(), 3, "{page}");
    // Keys old enough that every node has them: a rotation hands over.
    s.clock.advance(chrono::Duration::minutes(3));
    let (status, rotated) = post(&s, &browser, &page, "/admin/keys/rotate", &[]).await;
    assert_eq!(status, 303);
    assert!(rotated.contains("New keys are added"), "{rotated}");
    assert_eq!(
        rotated.matches("New: signs once every node publishes it").count(),
        3,
        "{rotated}"
    );
    assert_eq!(
        rotated.matches("Signs tokens until the new key takes over").count(),
        3,
        "{rotated}"
    );
    let rotations = events(&s, "keys.rotate").await;
    assert_eq!(rotations[0]["actor_label"], "olu.admin", "{rotations:?}");
    // A second rotation before every node has the new keys is refused.
    let (status, again) = post(&s, &browser, &rotated, "/admin/keys/rotate", &[]).await;
    assert_eq!(status, 400);
    assert!(again.contains("rotate again in two minutes"), "{again}");
    assert_eq!(events(&s, "keys.rotate").await.len(), 1);
    // The JWKS publishes old and new keys together.
    assert_eq!(oidc::jwks(&s).await["keys"].as_array().expect("keys").len(), 6);
}

async fn the_audit_log_filters_and_exports_csv(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let nurse: User = oidc::create_user(&s, "nia.nurse").await;
    oidc::cli_ok(&s, &["user", "disable", &nurse.username], None).await;
    let (browser, _) = console(&s, &boss).await;
    let (_, all) = get(&s, &browser, "/admin/audit").await;
    assert!(all.contains("Disabled: nia.nurse"), "{all}");
    assert!(all.contains("Created: olu.admin"), "{all}");
    let (_, disabled) = get(&s, &browser, "/admin/audit?action=user.disable").await;
    assert!(disabled.contains("Disabled: nia.nurse"));
    assert!(!disabled.contains("Created:"), "{disabled}");
    let (_, family) = get(&s, &browser, "/admin/audit?action=user.&target=NIA").await;
    assert!(family.contains("Created: nia.nurse") && family.contains("Disabled: nia.nurse"));
    assert!(!family.contains("Created: olu.admin"), "{family}");
    let (_, future) = get(&s, &browser, "/admin/audit?since=2999-01-01T00:00").await;
    assert!(future.contains("No events match"), "{future}");
    let (_, bad) = get(&s, &browser, "/admin/audit?since=yesterday").await;
    assert!(bad.contains("is not a date and time"), "{bad}");

    let res = browser
        .get(s.url("/admin/audit/export.csv?target=nia.nurse"))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("name")
            .contains(".csv")
    );
    let csv = res.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,at,actor_kind,actor_id,actor,action,"), "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains("user.disable") && lines[2].contains("user.create"),
        "{csv}"
    );
    let exported = events(&s, "audit.export").await;
    assert_eq!(exported[0]["detail"]["rows"], 2, "the export is audited: {exported:?}");
    let long = "x".repeat(201);
    let (_, refused) = get(&s, &browser, &format!("/admin/audit?actor={long}")).await;
    assert!(refused.contains("at most 200 characters"), "{refused}");
}

async fn a_group_admin_is_refused_the_organisation_pages(backend: Backend) {
    let s = start(backend).await;
    group(&s, "ward-a").await;
    let lead = oidc::create_user(&s, "gwen.lead").await;
    oidc::cli_ok(&s, &["group", "add-member", "ward-a", &lead.username, "--admin"], None).await;
    let (browser, page) = console(&s, &lead).await;
    assert!(!page.contains("/admin/clients"), "the nav shows no organisation pages");
    for path in [
        "/admin/clients",
        "/admin/scim",
        "/admin/keys",
        "/admin/audit",
        "/admin/settings",
    ] {
        let (status, body) = get(&s, &browser, path).await;
        assert_eq!(status, 403, "{path}");
        assert!(body.contains("for administrators of the whole organisation"), "{body}");
    }
    let (status, _) = get(&s, &browser, "/admin/audit/export.csv").await;
    assert_eq!(status, 403);
    for path in ["/admin/keys/rotate", "/admin/clients", "/admin/scim", "/admin/settings"] {
        let (status, _) = post(&s, &browser, &page, path, &[("name", "x")]).await;
        assert_eq!(status, 403, "{path}");
    }
    let refused = events(&s, "console.refused").await;
    assert_eq!(refused.len(), 10, "{refused:?}");
    assert!(refused.iter().all(|e| e["detail"]["reason"] == "admins_only"));
    assert!(events(&s, "keys.rotate").await.is_empty());
}
