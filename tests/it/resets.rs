//! Getting back in (seeds 001–003) through the real interfaces: "Forgot your
//! password?" and the mailed link, an admin's temporary password and reset link, and
//! what each implies (sessions and tokens end, the lock is lifted, a mail tells).
use crate::on_each_backend;
use crate::scim_support::Scim;
use crate::support::mailbox::{ORGANISATION, catch_up, cli, decoded, link_path, mail_of};
use crate::support::oidc::{self, AuthRequest, Client, Pkce, User};
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestServer, eventually, json_of, stderr_of};
use chrono::Duration;
use serde_json::{Value, json};

on_each_backend!(
    a_forgotten_password_is_reset_through_the_mailed_link,
    the_forgot_form_answers_alike_whoever_is_named,
    only_the_newest_unexpired_link_works,
    an_admin_gives_a_temporary_password_that_must_be_changed,
    a_temporary_password_expires_unused,
    reset_links_are_few_a_day_and_die_with_the_address,
);

const NEW_PASSWORD: &str = "saffron glacier pencil orbit";

async fn start(backend: Backend) -> (TestServer, SmtpSink, Client, User) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let s = oidc::start_with(backend, |c| {
        c.smtp_url = Some(url);
        c.organisation_name = ORGANISATION.into();
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
    })
    .await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    (s, sink, client, user)
}

fn csrf_of(html: &str) -> String {
    oidc::hidden_inputs(html)
        .into_iter()
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no csrf field in\n{html}"))
}

/// Asks for a reset link through the form, as `browser`; the answer's status and page.
async fn forgot(s: &TestServer, browser: &reqwest::Client, identifier: &str) -> (u16, String) {
    let page = browser.get(s.url("/forgot")).send().await.expect("forgot page");
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().await.expect("page"));
    let res = browser
        .post(s.url("/forgot"))
        .form(&[("csrf", csrf.as_str()), ("r", ""), ("username", identifier)])
        .send()
        .await
        .expect("post forgot");
    (res.status().as_u16(), res.text().await.expect("answer"))
}

/// Opens a reset link and chooses `password` (typed twice as `confirm`).
async fn reset(s: &TestServer, path: &str, password: &str, confirm: &str) -> (u16, String) {
    let browser = oidc::browser();
    let page = browser.get(s.url(path)).send().await.expect("reset page");
    let status = page.status().as_u16();
    let html = page.text().await.expect("page");
    if status != 200 {
        return (status, html);
    }
    let token = path.split("token=").nth(1).expect("token");
    let form = [
        ("token", token),
        ("csrf", &csrf_of(&html)),
        ("password", password),
        ("password_confirm", confirm),
    ];
    let res = browser
        .post(s.url("/reset"))
        .form(&form)
        .send()
        .await
        .expect("post reset");
    (res.status().as_u16(), res.text().await.expect("answer"))
}

fn subject_of(sink: &SmtpSink, n: usize) -> String {
    let data = decoded(&sink.messages()[n].data);
    data.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string()
}

async fn cli_json(s: &TestServer, args: &[&str]) -> Value {
    let out = cli(s, args, None).await;
    assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    catch_up(s);
    json_of(&out)
}

async fn audit_actions(s: &TestServer, user: &User) -> Vec<(String, String, Value)> {
    let v = cli_json(s, &["audit", "list", "--target", &user.id, "--limit", "200"]).await;
    let mut events: Vec<(String, String, Value)> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (text("action"), text("outcome"), e["detail"].clone())
        })
        .collect();
    events.reverse();
    events
}

fn with_password(user: &User, password: &str) -> User {
    User {
        password: password.to_string(),
        ..user.clone()
    }
}

/// Signs in afresh; whether the client got a code.
async fn admitted(s: &TestServer, client: &Client, user: &User) -> bool {
    let req = AuthRequest::new(client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(s, &oidc::browser(), &req, &user.username, &user.password).await;
    flow.location.is_some() && flow.error().is_none()
}

async fn a_forgotten_password_is_reset_through_the_mailed_link(backend: Backend) {
    let (s, sink, client, user) = start(backend).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;

    // The link is on both sign-in steps.
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let identify = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert!(identify.body.contains("Forgot your password?"), "{}", identify.body);

    let (status, page) = forgot(&s, &oidc::browser(), "Camille.Okafor@clinic.example").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Check your mail"), "{page}");
    let path = link_path(&sink, 0, "/reset?token=").await;
    assert_eq!(sink.messages()[0].to, std::slice::from_ref(&user.email));
    assert!(subject_of(&sink, 0).contains("choose a new password"));
    assert!(decoded(&sink.messages()[0].data).contains(ORGANISATION));

    // The policy holds, and the two must match.
    let (status, page) = reset(&s, &path, "password", "password").await;
    assert_eq!(status, 400);
    assert!(page.contains("too common") || page.contains("at least 12"), "{page}");
    let (status, page) = reset(&s, &path, NEW_PASSWORD, "saffron glacier pencil").await;
    assert_eq!(status, 400);
    assert!(page.contains("not the same"), "{page}");

    let (status, page) = reset(&s, &path, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your password is changed"), "{page}");
    // Every sign-in made before ends: session, access and refresh tokens.
    oidc::assert_access_ended(&s, &client, &tokens).await;
    eventually("the password-changed mail", || async { sink.messages().len() > 1 }).await;
    assert!(subject_of(&sink, 1).contains("your password was changed"));

    // The link worked once; the new password works, the old does not.
    let (status, page) = reset(&s, &path, "another fine password", "another fine password").await;
    assert_eq!(status, 400);
    assert!(page.contains("no longer works"), "{page}");
    assert!(admitted(&s, &client, &with_password(&user, NEW_PASSWORD)).await);
    assert!(!admitted(&s, &client, &user).await);

    let mails = mail_of(&s, &user.username).await;
    let reset_mail = mails.iter().find(|m| m["purpose"] == "reset").expect("the reset mail");
    assert_eq!(reset_mail["link"]["state"], "accepted", "{reset_mail}");
    let actions: Vec<String> = audit_actions(&s, &user).await.into_iter().map(|(a, _, _)| a).collect();
    for expected in ["user.reset_link", "user.password_reset"] {
        assert!(actions.contains(&expected.to_string()), "{actions:?}");
    }
    s.stop().await;
}

async fn the_forgot_form_answers_alike_whoever_is_named(backend: Backend) {
    let (s, sink, _client, user) = start(backend).await;
    let disabled = oidc::create_user(&s, "left.in.march").await;
    cli_json(&s, &["user", "disable", &disabled.username]).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let r = scim
        .post(
            "/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "no.address"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let blank = |page: &str, who: &str| page.replace(who, "[who]");
    let (status, real) = forgot(&s, &oidc::browser(), &user.username).await;
    assert_eq!(status, 200);
    let real = blank(&real, &user.username);
    for who in ["nobody.here", "left.in.march", "no.address"] {
        let (status, page) = forgot(&s, &oidc::browser(), who).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(blank(&page, who), real, "{who} gets the page a real account gets");
    }
    // Asking again moments later sends nothing more: no one can fill a mailbox.
    let (status, _) = forgot(&s, &oidc::browser(), &user.email).await;
    assert_eq!(status, 200);

    // Each request was looked at (the audit trail says why no mail went), yet only the
    // real account's one mail went out.
    eventually("every request handled", || async {
        let v = cli_json(&s, &["audit", "list", "--limit", "100"]).await;
        let refused = v["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["action"] == "user.reset_link" && e["outcome"] == "failure")
            .count();
        refused == 4
    })
    .await;
    link_path(&sink, 0, "/reset?token=").await;
    assert_eq!(sink.messages().len(), 1);

    // Past its budget, one address is told to wait.
    let guesser = oidc::browser_from("10.0.0.7");
    let mut statuses = Vec::new();
    for i in 0..21 {
        statuses.push(forgot(&s, &guesser, &format!("someone.{i}")).await.0);
    }
    assert_eq!(statuses[..20], [200; 20]);
    assert_eq!(statuses[20], 429);
    s.stop().await;
}

async fn only_the_newest_unexpired_link_works(backend: Backend) {
    let (s, sink, _client, user) = start(backend).await;
    forgot(&s, &oidc::browser(), &user.username).await;
    let first = link_path(&sink, 0, "/reset?token=").await;
    // An admin sends one too (a few minutes later): the first stops working.
    s.clock.advance(Duration::minutes(3));
    let sent = cli_json(&s, &["user", "reset-password", &user.username, "--link"]).await;
    assert_eq!(sent["reset_link"]["to"], user.email.as_str(), "{sent}");
    let second = link_path(&sink, 1, "/reset?token=").await;
    let (status, page) = reset(&s, &first, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 400);
    assert!(page.contains("no longer works") && page.contains("/forgot"), "{page}");
    assert_eq!(mail_of(&s, &user.username).await[1]["link"]["state"], "voided");

    // The newer one expires unused after 72 hours.
    s.clock.advance(Duration::hours(72) + Duration::minutes(1));
    let (status, _) = reset(&s, &second, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 400);
    // By the server's clock (the CLI's is the real one, 72 hours behind).
    let id = user.id.parse().expect("uuid");
    let history = tessera::mail::history(&s.svc, id, 10).await.expect("history");
    assert_eq!(json!(history)[0]["link"]["state"], "expired", "{history:?}");

    // Links go only to active users with an address: the admin is told why not.
    cli_json(&s, &["user", "disable", &user.username]).await;
    let out = cli(&s, &["user", "reset-password", &user.username, "--link"], None).await;
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("disabled"), "{}", stderr_of(&out));
    s.stop().await;
}

async fn an_admin_gives_a_temporary_password_that_must_be_changed(backend: Backend) {
    let (s, sink, client, user) = start(backend).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    // One of the two ways is required, and --mail only goes with --temporary.
    for args in [
        vec!["user", "reset-password", "camille.okafor"],
        vec!["user", "reset-password", "camille.okafor", "--link", "--mail"],
    ] {
        let out = cli(&s, &args, None).await;
        assert!(!out.status.success(), "{args:?}");
    }

    let v = cli_json(&s, &["user", "reset-password", &user.username, "--temporary", "--mail"]).await;
    let temporary = oidc::str_of(&v, "temporary_password");
    assert_eq!(v["must_change_password"], true, "{v}");
    oidc::assert_access_ended(&s, &client, &tokens).await;

    // The access information arrives, and its body is not kept once sent.
    eventually("the access mail", || async { !sink.messages().is_empty() }).await;
    let text = decoded(&sink.messages()[0].data);
    assert!(text.contains(&temporary) && text.contains(&user.username), "{text}");
    eventually("the body is scrubbed", || async {
        let mails = mail_of(&s, &user.username).await;
        mails[0]["status"] == "sent"
    })
    .await;
    let out = cli(&s, &["user", "show", &user.username], None).await;
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&temporary));

    // Signing in with it leads to the forced change, which will not take it again.
    let temp_user = with_password(&user, &temporary);
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let answers = oidc::Credentials {
        new_password: Some(&temporary),
        ..oidc::Credentials::new(&user.username, &temporary)
    };
    let flow = oidc::drive(&s, &oidc::browser(), &req, &answers).await;
    assert_eq!(flow.last_page().path, "/signin/change-password", "{:?}", flow.paths());
    assert!(flow.last_page().html.contains("different"), "{}", flow.last_page().html);
    let answers = oidc::Credentials {
        new_password: Some(NEW_PASSWORD),
        ..oidc::Credentials::new(&user.username, &temporary)
    };
    let flow = oidc::drive(&s, &oidc::browser(), &req, &answers).await;
    assert!(flow.location.is_some(), "{:?}", flow.paths());
    assert!(
        !admitted(&s, &client, &temp_user).await,
        "the temporary password is spent"
    );
    assert!(admitted(&s, &client, &with_password(&user, NEW_PASSWORD)).await);
    s.stop().await;
}

async fn a_temporary_password_expires_unused(backend: Backend) {
    let (s, _sink, client, user) = start(backend).await;
    let v = cli_json(&s, &["user", "reset-password", &user.username, "--temporary"]).await;
    let temporary = with_password(&user, &oidc::str_of(&v, "temporary_password"));
    s.clock.advance(Duration::hours(72) + Duration::seconds(1));
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &temporary.username, &temporary.password).await;
    assert!(flow.location.is_none());
    let page = &flow.last_page().html;
    assert!(page.contains("temporary password has expired"), "{page}");
    // A wrong password still gets the usual answer.
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, "not the password").await;
    assert!(flow.last_page().html.contains(oidc::WRONG_CREDENTIALS));
    s.stop().await;
}

async fn reset_links_are_few_a_day_and_die_with_the_address(backend: Backend) {
    let (s, sink, _client, user) = start(backend).await;
    for n in 0..6 {
        forgot(&s, &oidc::browser(), &user.username).await;
        if n < 5 {
            link_path(&sink, n, "/reset?token=").await;
        }
        s.clock.advance(Duration::minutes(3));
    }
    eventually("the sixth request handled", || async {
        let v = cli_json(&s, &["audit", "list", "--target", &user.id, "--limit", "50"]).await;
        v.to_string().contains("the day's reset links were sent")
    })
    .await;
    assert_eq!(sink.messages().len(), 5, "five a day at most");

    // A day on, a link goes out; HR then corrects her address: the link sent to the old
    // one stops working.
    s.clock.advance(Duration::days(1));
    forgot(&s, &oidc::browser(), &user.username).await;
    let path = link_path(&sink, 5, "/reset?token=").await;
    let scim = Scim::register(&s, "HR", &[]).await;
    let r = scim
        .patch(
            &format!("/Users/{}", user.id),
            json!([{"op": "replace", "path": "emails", "value": [{"value": "camille@new.example", "primary": true}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, _) = reset(&s, &path, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 400);
    s.stop().await;
}
