//! Invites (seed 000) through the real interfaces: the CLI creates and re-invites, a
//! real SMTP server on loopback receives the mail, the link is taken from the received
//! message and followed over HTTP, and `tessera user show` tells what became of it.
use crate::on_each_backend;
use crate::scim_support::Scim;
use crate::support::mailbox::{ORGANISATION, cli, cli_ok, create, decoded, invite_path, mail_of, with_smtp};
use crate::support::{Backend, TestServer, eventually, json_of, stderr_of};
use chrono::Duration;

on_each_backend!(
    an_invite_is_mailed_and_its_link_sets_the_password,
    a_new_invite_voids_the_old_link,
    an_expired_invite_says_how_to_get_a_new_one,
    a_corrected_address_voids_the_invite_sent_to_the_old_one,
    invites_go_only_to_active_users_with_an_address,
    the_invite_page_enforces_the_password_policy,
    sign_out_everywhere_ends_every_session,
    scim_clients_invite_the_people_they_create_unless_registered_without,
);

const PASSWORD: &str = "copper meadow violin tundra";
fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let at = html.find(marker).expect("csrf field") + marker.len();
    html[at..].split('"').next().expect("value").to_string()
}

fn token_of(path: &str) -> &str {
    path.split("token=").nth(1).expect("token")
}

/// Opens the invite page; returns its status and body.
async fn open(s: &TestServer, client: &reqwest::Client, path: &str) -> (u16, String) {
    let res = client.get(s.url(path)).send().await.expect("get invite");
    (res.status().as_u16(), res.text().await.expect("body"))
}

async fn accept(
    s: &TestServer,
    client: &reqwest::Client,
    path: &str,
    password: &str,
    confirm: &str,
) -> reqwest::Response {
    let (status, html) = open(s, client, path).await;
    assert_eq!(status, 200, "{html}");
    let csrf = csrf_of(&html);
    let form = [
        ("token", token_of(path)),
        ("csrf", csrf.as_str()),
        ("password", password),
        ("password_confirm", confirm),
    ];
    client
        .post(s.url("/invite"))
        .form(&form)
        .send()
        .await
        .expect("post invite")
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn an_invite_is_mailed_and_its_link_sets_the_password(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    let created = create(&s, "nurse.camille", "cnurse@clinic.example").await;
    assert_eq!(created["state"], "invited");
    assert_eq!(created["invitation"]["to"], "cnurse@clinic.example");

    let path = invite_path(&sink, 0).await;
    let message = &sink.messages()[0];
    assert_eq!(message.to, ["cnurse@clinic.example"]);
    let text = decoded(&message.data);
    assert!(text.contains(ORGANISATION), "the organisation is named");
    assert!(text.contains("nurse.camille"), "the username is in the mail");
    assert!(
        text.contains("If you did not expect this mail"),
        "says what to do if unexpected"
    );
    assert!(text.contains("multipart/alternative"), "text and HTML");
    assert!(
        text.contains(&format!("{}/invite?token=", s.svc.config.base_url())),
        "links use the issuer URL"
    );
    eventually("the mail shows as sent", || async {
        mail_of(&s, "nurse.camille").await[0]["status"] == "sent"
    })
    .await;
    assert_eq!(mail_of(&s, "nurse.camille").await[0]["link"]["state"], "unopened");

    let client = browser();
    let (status, html) = open(&s, &client, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("nurse.camille"));
    assert!(
        html.contains("at least 12 characters"),
        "the rules are shown before typing"
    );
    assert_eq!(mail_of(&s, "nurse.camille").await[0]["link"]["state"], "opened");

    let res = accept(&s, &client, &path, PASSWORD, PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account?welcome=1");
    let res = client.get(s.url("/account?welcome=1")).send().await.expect("account");
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("page");
    assert!(page.contains("nurse.camille") && page.contains("Your password is set"));

    let history = mail_of(&s, "nurse.camille").await;
    assert_eq!(history[0]["link"]["state"], "accepted");
    let shown = cli_ok(&s, &["user", "show", "nurse.camille"]).await;
    assert_eq!(shown["state"], "active");
    // Used once: the same link now says so.
    let (status, html) = open(&s, &browser(), &path).await;
    assert_eq!(status, 400);
    assert!(html.contains("Ask your administrator to send you a new invitation"));
    s.stop().await;
}

async fn a_new_invite_voids_the_old_link(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    create(&s, "nurse.camille", "cnurse@clinic.example").await;
    let first = invite_path(&sink, 0).await;
    let again = cli_ok(&s, &["user", "invite", "nurse.camille"]).await;
    assert_eq!(again["to"], "cnurse@clinic.example");
    let second = invite_path(&sink, 1).await;
    assert_ne!(first, second);

    let (status, _) = open(&s, &browser(), &first).await;
    assert_eq!(status, 400, "the older link is void");
    let history = mail_of(&s, "nurse.camille").await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["link"]["state"], "voided");
    let res = accept(&s, &browser(), &second, PASSWORD, PASSWORD).await;
    assert_eq!(res.status(), 303);
    s.stop().await;
}

async fn an_expired_invite_says_how_to_get_a_new_one(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    create(&s, "nurse.camille", "cnurse@clinic.example").await;
    let path = invite_path(&sink, 0).await;
    s.clock.advance(Duration::days(7) + Duration::minutes(1));
    let (status, html) = open(&s, &browser(), &path).await;
    assert_eq!(status, 400);
    assert!(html.contains("has expired"));
    assert!(html.contains("Ask your administrator to send you a new invitation"));
    s.stop().await;
}

async fn invites_go_only_to_active_users_with_an_address(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    create(&s, "nurse.camille", "cnurse@clinic.example").await;
    let path = invite_path(&sink, 0).await;
    cli_ok(&s, &["user", "disable", "nurse.camille"]).await;
    let out = cli(&s, &["user", "invite", "nurse.camille"], None).await;
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("disabled"), "{}", stderr_of(&out));
    // The link sent before the user was disabled no longer works, not even once the
    // user is enabled again.
    let (status, _) = open(&s, &browser(), &path).await;
    assert_eq!(status, 400);
    cli_ok(&s, &["user", "enable", "nurse.camille"]).await;
    let (status, _) = open(&s, &browser(), &path).await;
    assert_eq!(status, 400, "re-enabling does not revive the old link");

    // A user who can sign in already gets no invite.
    let out = cli(
        &s,
        &[
            "user",
            "create",
            "--username",
            "dr.ade",
            "--email",
            "ade@clinic.example",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(json_of(&out).get("invitation").is_none());
    let out = cli(&s, &["user", "invite", "dr.ade"], None).await;
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("has a password already"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sink.messages().len(), 1, "only the first invite was mailed");
    s.stop().await;
}

async fn the_invite_page_enforces_the_password_policy(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    create(&s, "nurse.camille", "cnurse@clinic.example").await;
    let path = invite_path(&sink, 0).await;
    let client = browser();
    for (password, confirm, says) in [
        ("short", "short", "at least 12"),
        (PASSWORD, "copper meadow violin tundrA", "not the same"),
        ("nurse.camille-2026!", "nurse.camille-2026!", "username"),
    ] {
        let res = accept(&s, &client, &path, password, confirm).await;
        assert_eq!(res.status(), 400, "{password}");
        let html = res.text().await.expect("page");
        assert!(html.contains(says), "{says}: {html}");
    }
    // Refusals leave the link usable.
    let res = accept(&s, &client, &path, PASSWORD, PASSWORD).await;
    assert_eq!(res.status(), 303);

    // Without the form's CSRF token, nothing happens.
    let res = browser()
        .post(s.url("/invite"))
        .form(&[
            ("token", token_of(&path)),
            ("csrf", "x"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    s.stop().await;
}

async fn sign_out_everywhere_ends_every_session(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    create(&s, "nurse.camille", "cnurse@clinic.example").await;
    let path = invite_path(&sink, 0).await;
    let phone = browser();
    assert_eq!(accept(&s, &phone, &path, PASSWORD, PASSWORD).await.status(), 303);
    let res = phone.get(s.url("/account")).send().await.expect("account");
    assert_eq!(res.status(), 200);
    let csrf = csrf_of(&res.text().await.expect("page"));

    // A forged form (no CSRF token) ends nothing.
    let res = phone
        .post(s.url("/account/sign-out-everywhere"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(
        phone.get(s.url("/account")).send().await.expect("account").status(),
        200
    );

    let res = phone
        .post(s.url("/account/sign-out-everywhere"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("page").contains("signed out everywhere"));
    let res = phone.get(s.url("/account")).send().await.expect("account");
    assert_eq!(res.status(), 401, "the session has ended");
    let events = cli_ok(&s, &["audit", "list", "--limit", "5"]).await;
    assert!(
        events.to_string().contains("user.sign_out_everywhere"),
        "audited: {events}"
    );
    s.stop().await;
}

async fn a_corrected_address_voids_the_invite_sent_to_the_old_one(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    let created = create(&s, "nurse.camille", "cnurse@clinc.example").await;
    let path = invite_path(&sink, 0).await;
    // HR corrects the typo'd address over SCIM.
    let scim = Scim::register(&s, "HR", &[]).await;
    let id = created["id"].as_str().expect("id");
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            serde_json::json!([{"op": "replace", "path": "emails", "value": [{"value": "cnurse@clinic.example", "primary": true}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, _) = open(&s, &browser(), &path).await;
    assert_eq!(status, 400, "whoever has the old address cannot use the link");
    assert_eq!(mail_of(&s, "nurse.camille").await[0]["link"]["state"], "voided");
    // A new invite goes to the corrected address.
    cli_ok(&s, &["user", "invite", "nurse.camille"]).await;
    invite_path(&sink, 1).await;
    assert_eq!(sink.messages()[1].to, ["cnurse@clinic.example"]);
    s.stop().await;
}

async fn scim_clients_invite_the_people_they_create_unless_registered_without(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    let user = |name: &str, email: Option<&str>, active: bool| {
        let mut body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "active": active,
        });
        if let Some(e) = email {
            body["emails"] = serde_json::json!([{ "value": e, "primary": true }]);
        }
        body
    };
    let hr = Scim::register(&s, "HR", &[]).await;
    for body in [
        user("nurse.camille", Some("cnurse@clinic.example"), true),
        user("no.address", None, true),
        user("starts.next.month", Some("later@clinic.example"), false),
    ] {
        let r = hr.post("/Users", body).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    invite_path(&sink, 0).await;
    assert_eq!(sink.messages()[0].to, ["cnurse@clinic.example"]);
    assert_eq!(mail_of(&s, "nurse.camille").await[0]["purpose"], "invite");
    assert!(mail_of(&s, "no.address").await.is_empty());
    assert!(mail_of(&s, "starts.next.month").await.is_empty(), "not while inactive");

    // Entra ID's users sign in with Microsoft: Tessera writes them nothing.
    let entra = Scim::register_with(&s, "Entra", &["--no-invites"]).await;
    let r = entra
        .post("/Users", user("dr.ames", Some("ames@clinic.example"), true))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(mail_of(&s, "dr.ames").await.is_empty());
    s.stop().await;
}
