use crate::on_each_backend;
use crate::support::{Backend, TestServer};
use chrono::Duration;
use tessera::accounts::setup;
use tessera::audit;

on_each_backend!(
    first_admin_is_created_once_through_the_setup_link,
    setup_link_expires_after_an_hour,
    weak_or_mismatched_passwords_keep_the_link_usable,
    setup_form_requires_the_csrf_token,
    a_new_setup_link_voids_the_old_one,
    an_admin_made_elsewhere_voids_the_setup_link,
);

const GOOD_PASSWORD: &str = "tidal marble lantern orchard";

/// Opens the setup page and returns the form's csrf value.
async fn open_form(s: &TestServer) -> String {
    let res = s.client.get(s.url(&s.setup_path())).send().await.expect("get setup");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    let cookie = res.headers()["set-cookie"].to_str().expect("cookie").to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let html = res.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="username""#));
    assert!(html.contains(r#"autocomplete="new-password""#));
    let at = html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().expect("value").to_string()
}

fn token_of(s: &TestServer) -> String {
    s.setup_path().split("token=").nth(1).expect("token").to_string()
}

async fn submit(s: &TestServer, csrf: &str, password: &str, confirm: &str) -> (u16, String) {
    let token = token_of(s);
    let form = [
        ("token", token.as_str()),
        ("csrf", csrf),
        ("username", "practice.admin"),
        ("email", "admin@clinic.example"),
        ("given_name", "Hannah"),
        ("family_name", "Provider"),
        ("password", password),
        ("password_confirm", confirm),
    ];
    let res = s.client.post(s.url("/setup")).form(&form).send().await.expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

async fn first_admin_is_created_once_through_the_setup_link(backend: Backend) {
    let s = TestServer::start(backend).await;
    let csrf = open_form(&s).await;
    let (status, html) = submit(&s, &csrf, GOOD_PASSWORD, GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("practice.admin"));

    let list = crate::support::json_of(&s.cli(&["user", "list"], None).await);
    let users = list["users"].as_array().expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[0]["state"], "active");
    assert_eq!(users[0]["email"], "admin@clinic.example");

    // Single use: the form and the link are both dead now.
    let (again, _) = submit(&s, &csrf, GOOD_PASSWORD, GOOD_PASSWORD).await;
    assert_eq!(again, 400);
    let page = s.client.get(s.url(&s.setup_path())).send().await.expect("get");
    assert_eq!(page.status(), 400);
    // With an admin who can sign in, no new link is offered.
    assert!(setup::offer_if_needed(&s.svc).await.expect("offer").is_none());

    let events = audit::recent(s.svc.store.conn(), None, 20).await.expect("audit");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"setup.complete"), "{actions:?}");
    assert!(actions.contains(&"user.create"), "{actions:?}");
    assert!(actions.contains(&"setup.link_issued"), "{actions:?}");
    let complete = events.iter().find(|e| e.action == "setup.complete").expect("event");
    assert_eq!(complete.source_ip.as_deref(), Some("127.0.0.1"));
    s.stop().await;
}

async fn setup_link_expires_after_an_hour(backend: Backend) {
    let s = TestServer::start(backend).await;
    let csrf = open_form(&s).await;
    s.clock.advance(Duration::minutes(61));
    let page = s.client.get(s.url(&s.setup_path())).send().await.expect("get");
    assert_eq!(page.status(), 400);
    assert!(page.text().await.expect("html").contains("expired"));
    let (status, _) = submit(&s, &csrf, GOOD_PASSWORD, GOOD_PASSWORD).await;
    assert_eq!(status, 400);
    assert!(
        crate::support::json_of(&s.cli(&["user", "list"], None).await)["users"]
            .as_array()
            .expect("users")
            .is_empty()
    );
    s.stop().await;
}

async fn weak_or_mismatched_passwords_keep_the_link_usable(backend: Backend) {
    let s = TestServer::start(backend).await;
    let csrf = open_form(&s).await;
    let (status, html) = submit(&s, &csrf, GOOD_PASSWORD, "something else entirely").await;
    assert_eq!(status, 400);
    assert!(html.contains("not the same"));
    assert!(html.contains("admin@clinic.example"), "entered values are kept");

    let (status, html) = submit(&s, &csrf, "password1234", "password1234").await;
    assert_eq!(status, 400);
    assert!(html.contains("too common"), "{html}");

    let (status, html) = submit(&s, &csrf, "short", "short").await;
    assert_eq!(status, 400);
    assert!(html.contains("at least 12 characters"));

    let (status, _) = submit(&s, &csrf, GOOD_PASSWORD, GOOD_PASSWORD).await;
    assert_eq!(status, 200);
    s.stop().await;
}

async fn setup_form_requires_the_csrf_token(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _ = open_form(&s).await;
    let (status, html) = submit(&s, "forged", GOOD_PASSWORD, GOOD_PASSWORD).await;
    assert_eq!(status, 403);
    assert!(html.contains("Not allowed"));

    // A fresh client has no CSRF cookie at all.
    let bare = reqwest::Client::new();
    let token = token_of(&s);
    let res = bare
        .post(s.url("/setup"))
        .form(&[
            ("token", token.as_str()),
            ("csrf", "x"),
            ("username", "a"),
            ("email", "a@b.org"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    s.stop().await;
}

async fn a_new_setup_link_voids_the_old_one(backend: Backend) {
    let s = TestServer::start(backend).await;
    let old = token_of(&s);
    let newer = setup::offer_if_needed(&s.svc).await.expect("offer").expect("link");
    assert!(!setup::is_valid(&s.svc, &old).await.expect("check"));
    let newer_token = newer.split("token=").nth(1).expect("token");
    assert!(setup::is_valid(&s.svc, newer_token).await.expect("check"));
    s.stop().await;
}

async fn an_admin_made_elsewhere_voids_the_setup_link(backend: Backend) {
    let s = TestServer::start(backend).await;
    let csrf = open_form(&s).await;
    let out = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "it.admin",
                "--email",
                "it@clinic.example",
                "--admin",
                "--password-stdin",
            ],
            Some(&format!("{GOOD_PASSWORD}\n")),
        )
        .await;
    assert!(out.status.success(), "{}", crate::support::stderr_of(&out));
    // The page and the form both refuse now: the link made the first admin's chance only.
    let page = s.client.get(s.url(&s.setup_path())).send().await.expect("get");
    assert_eq!(page.status(), 400);
    let (status, _) = submit(&s, &csrf, GOOD_PASSWORD, GOOD_PASSWORD).await;
    assert_eq!(status, 400);
    let list = crate::support::json_of(&s.cli(&["user", "list"], None).await);
    let users = list["users"].as_array().expect("users");
    assert_eq!(users.len(), 1, "no second admin: {users:?}");
    assert_eq!(users[0]["username"], "it.admin");
    s.stop().await;
}
