//! Password sign-in as its users meet it, through the hosted sign-in pages (identify,
//! then password): lockout after repeated failures, one answer for every refusal, and
//! outdated hashes replaced at sign-in. Users and clients are made with the CLI, and
//! the audit trail is read with `tessera audit list`.
use crate::on_each_backend;
use crate::support::oidc::{self, AuthRequest, Client, Flow, Pkce, REDIRECT_URI, Tokens, WRONG_CREDENTIALS};
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestServer, eventually};
use chrono::Duration;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

on_each_backend!(
    repeated_failures_lock_the_account_for_a_while,
    strangers_cannot_lock_the_browser_a_user_signs_in_with,
    unknown_disabled_and_passwordless_users_fail_alike,
    outdated_hashes_are_replaced_at_sign_in,
);

const PASSWORD: &str = "violet harbour stone kettle";
const WRONG: &str = "wrong guess here";

/// `tessera user create` for "camilles" (cnurse@email.xyz), with `password` or none; its id.
async fn nurse(s: &TestServer, password: Option<&str>) -> String {
    create_user(s, "camilles", "cnurse@email.xyz", password).await
}

async fn create_user(s: &TestServer, username: &str, email: &str, password: Option<&str>) -> String {
    let mut args = vec!["user", "create", "--username", username, "--email", email];
    if password.is_some() {
        args.push("--password-stdin");
    }
    let stdin = password.map(|p| format!("{p}\n"));
    let v = oidc::cli_ok(s, &args, stdin.as_deref()).await;
    let expected = if password.is_some() { "active" } else { "invited" };
    assert_eq!(v["state"], expected, "{v}");
    oidc::str_of(&v, "id")
}

/// A sign-in started afresh at /authorize: identify as `who`, then type `password`.
async fn sign_in(s: &TestServer, browser: &reqwest::Client, client: &Client, who: &str, password: &str) -> Attempt {
    let pkce = Pkce::generate();
    let req = AuthRequest::new(client, "openid").with_pkce(&pkce);
    let flow = oidc::sign_in(s, browser, &req, who, password).await;
    Attempt { req, pkce, flow }
}

struct Attempt {
    req: AuthRequest,
    pkce: Pkce,
    flow: Flow,
}

impl Attempt {
    /// Asserts the user was sent back to the password step with the generic message and
    /// the client got no answer.
    fn assert_refused(&self) {
        let flow = &self.flow;
        assert!(flow.location.is_none(), "no answer to the client: {:?}", flow.location);
        assert_eq!(
            flow.paths(),
            ["/signin/identify", "/signin/password", "/signin/password"],
            "identify, password, then the password step again"
        );
        let page = flow.last_page();
        assert_eq!(page.status, 200);
        assert_eq!(alert(&page.html), Some(WRONG_CREDENTIALS), "{}", page.html);
    }

    /// Asserts the browser reached the client's redirect_uri with a code and this
    /// request's state, and that the code is good for an ID token about `user_id`.
    async fn assert_admitted(&self, s: &TestServer, client: &Client, user_id: &str) {
        let flow = &self.flow;
        let location = flow.location.as_deref().unwrap_or_else(|| {
            panic!(
                "not admitted: pages {:?}, last page:\n{}",
                flow.paths(),
                flow.pages.last().map(|p| p.html.as_str()).unwrap_or("")
            )
        });
        assert!(location.starts_with(&format!("{REDIRECT_URI}?")), "{location}");
        assert_eq!(flow.param("state"), self.req.get("state"));
        assert_eq!(flow.error(), None, "{location}");
        let reply = oidc::exchange(s, client, &flow.code(), Some(&self.pkce.verifier)).await;
        let tokens = Tokens::of(&reply);
        assert_eq!(oidc::verify_jwt(s, tokens.id()).await["sub"], user_id);
    }

    /// What the user saw, page by page (step, status, policy, text), with what differs
    /// on every visit anyway (the CSRF token, the sign-in's handle) and the identifier
    /// they typed blanked out: two refusals alike give equal lists.
    fn seen(&self, identifier: &str) -> Vec<(String, u16, String, String)> {
        self.flow
            .pages
            .iter()
            .map(|page| {
                let mut html = page.html.clone();
                for (name, value) in oidc::hidden_inputs(&page.html) {
                    if (name == "csrf" || name == "r") && !value.is_empty() {
                        html = html.replace(&value, &format!("[{name}]"));
                    }
                }
                let html = html.replace(identifier, "[identifier]");
                (page.path.clone(), page.status, page.csp.clone(), html)
            })
            .collect()
    }
}

/// The text of the page's alert (`<p class="error" role="alert">`), if it has one.
fn alert(html: &str) -> Option<&str> {
    const OPEN: &str = r#"<p class="error" role="alert">"#;
    let at = html.find(OPEN)? + OPEN.len();
    html[at..].split("</p>").next().map(str::trim)
}

/// The state `tessera user list` gives the user (by the real clock, not the server's).
async fn state_of(s: &TestServer, username: &str) -> String {
    let v = oidc::cli_ok(s, &["user", "list"], None).await;
    let user = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("no {username} in {v}"));
    oidc::str_of(user, "state")
}

/// `tessera audit list`, about `target` when given, oldest first.
async fn audit(s: &TestServer, target: Option<&str>) -> Vec<Value> {
    let mut args = vec!["audit", "list", "--limit", "500"];
    if let Some(id) = target {
        args.extend(["--target", id]);
    }
    let v = oidc::cli_ok(s, &args, None).await;
    let mut events = v["events"].as_array().expect("events").clone();
    events.reverse();
    events
}

/// The password sign-ins among `events`: (outcome, reason of a refusal, source address).
fn password_logins(events: &[Value]) -> Vec<(String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    events
        .iter()
        .filter(|e| e["action"] == "login.password")
        .map(|e| (text(&e["outcome"]), text(&e["detail"]["reason"]), text(&e["source_ip"])))
        .collect()
}

async fn repeated_failures_lock_the_account_for_a_while(backend: Backend) {
    // Behind a trusted proxy, so the guesser has an address of its own in the audit trail.
    let s = oidc::start_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
    })
    .await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let id = nurse(&s, Some(PASSWORD)).await;
    // The guesser never signs in, so its browser never holds a session that would
    // let it past the password step.
    let guesser = oidc::browser_from("10.0.0.9");
    let threshold = s.svc.config.lockout_threshold as usize;
    assert_eq!(threshold, 5, "the default");

    for _ in 1..threshold {
        sign_in(&s, &guesser, &client, "camilles", WRONG).await.assert_refused();
    }
    assert_eq!(
        state_of(&s, "camilles").await,
        "active",
        "one failure short locks nothing"
    );
    let last = sign_in(&s, &guesser, &client, "camilles", WRONG).await;
    last.assert_refused();
    let wrong = last.seen("camilles");
    assert_eq!(state_of(&s, "camilles").await, "locked");

    // Even the right password is refused while locked, from anywhere, with the page a
    // wrong password gets: nothing tells a guesser that the lock is what stops them.
    let locked = sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD).await;
    locked.assert_refused();
    assert_eq!(locked.seen("camilles"), wrong);
    s.clock.advance(s.svc.config.lockout_duration - Duration::seconds(1));
    sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD)
        .await
        .assert_refused();

    // Once the lock time has passed, the right password admits again (by email too).
    s.clock.advance(Duration::seconds(2));
    sign_in(&s, &oidc::browser(), &client, "CNurse@Email.xyz", PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;
    assert_eq!(state_of(&s, "camilles").await, "active");

    // That sign-in started the count again: one guess short of the threshold locks nothing.
    for _ in 1..threshold {
        sign_in(&s, &guesser, &client, "camilles", WRONG).await.assert_refused();
    }
    sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;

    let events = audit(&s, Some(&id)).await;
    let locks = events.iter().filter(|e| e["action"] == "user.lock").count();
    assert_eq!(locks, 1, "{events:?}");
    let failure = |reason: &str, from: &str| ("failure".to_string(), reason.to_string(), from.to_string());
    let success = ("success".to_string(), String::new(), "127.0.0.1".to_string());
    let mut expected = vec![failure("wrong password", "10.0.0.9"); threshold];
    expected.extend(vec![failure("locked", "127.0.0.1"); 2]);
    expected.push(success.clone());
    expected.extend(vec![failure("wrong password", "10.0.0.9"); threshold - 1]);
    expected.push(success);
    assert_eq!(password_logins(&events), expected);
    s.stop().await;
}

/// A sign-in that asks for the password again even where a session exists.
async fn sign_in_again(s: &TestServer, browser: &reqwest::Client, client: &Client, password: &str) -> Attempt {
    let pkce = Pkce::generate();
    let req = AuthRequest::new(client, "openid")
        .with_pkce(&pkce)
        .set("prompt", "login");
    let flow = oidc::sign_in(s, browser, &req, "camilles", password).await;
    Attempt { req, pkce, flow }
}

async fn strangers_cannot_lock_the_browser_a_user_signs_in_with(backend: Backend) {
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let s = oidc::start_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
        c.smtp_url = Some(smtp);
    })
    .await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let id = nurse(&s, Some(PASSWORD)).await;
    let threshold = s.svc.config.lockout_threshold as usize;
    // The ward PC where she signs in every morning.
    let ward_pc = oidc::browser();
    sign_in(&s, &ward_pc, &client, "camilles", PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;

    // A stranger guesses until the account locks, for browsers it was never used in.
    let guesser = oidc::browser_from("10.0.0.9");
    for _ in 0..threshold {
        sign_in(&s, &guesser, &client, "camilles", WRONG).await.assert_refused();
    }
    assert_eq!(state_of(&s, "camilles").await, "locked");
    sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD)
        .await
        .assert_refused();
    // The ward PC is not locked by that, and she hears of the stranger's guesses.
    sign_in_again(&s, &ward_pc, &client, PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;
    eventually("the lock mail", || async { !sink.messages().is_empty() }).await;
    let mail = sink.messages()[0].data.replace("=\r\n", "");
    assert!(mail.contains("paused") && mail.contains("still work"), "{mail}");

    // Her own wrong passwords on the ward PC lock only the ward PC, and there she is
    // told so, and until when.
    for _ in 0..threshold {
        sign_in_again(&s, &ward_pc, &client, WRONG).await;
    }
    let locked_here = sign_in_again(&s, &ward_pc, &client, PASSWORD).await;
    assert!(locked_here.flow.location.is_none());
    let told = alert(&locked_here.flow.last_page().html)
        .unwrap_or_default()
        .to_string();
    assert!(told.contains("paused until"), "{told}");
    assert_eq!(sink.messages().len(), 1, "no mail for a lock she saw herself");

    // The stranger's lock grows: a second one in a row lasts twice as long.
    s.clock.advance(s.svc.config.lockout_duration + Duration::seconds(1));
    for _ in 0..threshold {
        sign_in(&s, &guesser, &client, "camilles", WRONG).await.assert_refused();
    }
    let locks: Vec<(i64, String)> = audit(&s, Some(&id))
        .await
        .iter()
        .filter(|e| e["action"] == "user.lock")
        .map(|e| {
            let until: chrono::DateTime<chrono::Utc> =
                e["detail"]["until"].as_str().expect("until").parse().expect("time");
            let at: chrono::DateTime<chrono::Utc> = e["at"].as_str().expect("at").parse().expect("time");
            ((until - at).num_minutes(), oidc::str_of(&e["detail"], "for"))
        })
        .collect();
    assert_eq!(
        locks,
        [
            (15, "unknown browsers".to_string()),
            (15, "this browser".to_string()),
            (30, "unknown browsers".to_string()),
        ]
    );

    // An admin's unlock ends every lock at once.
    let v = oidc::cli_ok(&s, &["user", "unlock", "camilles"], None).await;
    assert_eq!(v["state"], "active", "{v}");
    sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;
    sign_in_again(&s, &ward_pc, &client, PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;
    let actions: Vec<Value> = audit(&s, Some(&id))
        .await
        .into_iter()
        .map(|e| e["action"].clone())
        .collect();
    assert!(actions.contains(&Value::from("user.unlock")), "{actions:?}");
    s.stop().await;
}

async fn unknown_disabled_and_passwordless_users_fail_alike(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let _ = nurse(&s, None).await;
    let marcus = create_user(&s, "marcus", "m@clinic.org", Some(PASSWORD)).await;

    // What a wrong password looks like; every other refusal must look the same.
    let wrong = sign_in(&s, &oidc::browser(), &client, "marcus", WRONG).await;
    wrong.assert_refused();
    let wrong = wrong.seen("marcus");

    let unknown = sign_in(&s, &oidc::browser(), &client, "nobody", PASSWORD).await;
    unknown.assert_refused();
    assert_eq!(unknown.seen("nobody"), wrong, "an unknown user");
    let passwordless = sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD).await;
    passwordless.assert_refused();
    assert_eq!(passwordless.seen("camilles"), wrong, "a user without a password");

    oidc::cli_ok(&s, &["user", "disable", "marcus"], None).await;
    let disabled = sign_in(&s, &oidc::browser(), &client, "marcus", PASSWORD).await;
    disabled.assert_refused();
    assert_eq!(disabled.seen("marcus"), wrong, "a disabled user");

    // Enabled again, the user signs in with the password they had.
    oidc::cli_ok(&s, &["user", "enable", "marcus"], None).await;
    sign_in(&s, &oidc::browser(), &client, "marcus", PASSWORD)
        .await
        .assert_admitted(&s, &client, &marcus)
        .await;

    // Alike to the user, but each refused for its own reason.
    let reasons: Vec<(String, String)> = password_logins(&audit(&s, None).await)
        .into_iter()
        .map(|(outcome, reason, _)| (outcome, reason))
        .collect();
    let pair = |outcome: &str, reason: &str| (outcome.to_string(), reason.to_string());
    assert_eq!(
        reasons,
        [
            pair("failure", "wrong password"),
            pair("failure", "unknown user"),
            pair("failure", "no password set"),
            pair("failure", "disabled"),
            pair("success", ""),
        ]
    );
    s.stop().await;
}

/// A connection of the test's own to its database, for what no interface does: planting
/// an old hash and reading the stored one back.
async fn users_table(s: &TestServer) -> sea_orm::DatabaseConnection {
    Database::connect(s.db.url.as_str())
        .await
        .expect("connect to the test database")
}

/// The password hash stored for `username`.
async fn stored_hash(s: &TestServer, username: &str) -> String {
    let db = users_table(s).await;
    let select = Query::select()
        .column(Alias::new("password_hash"))
        .from(Alias::new("users"))
        .and_where(Expr::col(Alias::new("username")).eq(username))
        .to_owned();
    let row = db.query_one(&select).await.expect("read the hash").expect("the user");
    let hash = row.try_get::<Option<String>>("", "password_hash").expect("column");
    db.close().await.ok();
    hash.expect("a stored hash")
}

async fn outdated_hashes_are_replaced_at_sign_in(backend: Backend) {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let id = nurse(&s, None).await;
    let old_params = argon2::Params::new(4096, 1, 1, None).expect("params");
    let old = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, old_params)
        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    // Planted as an older release would have stored it: no interface writes such a hash.
    let update = Query::update()
        .table(Alias::new("users"))
        .value(Alias::new("password_hash"), old.clone())
        .and_where(Expr::col(Alias::new("username")).eq("camilles"))
        .to_owned();
    let db = users_table(&s).await;
    let changed = db.execute(&update).await.expect("set").rows_affected();
    db.close().await.ok();
    assert_eq!(changed, 1);
    assert_eq!(stored_hash(&s, "camilles").await, old);

    sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;
    let stored = stored_hash(&s, "camilles").await;
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");

    // The new hash is the same password's: it admits, refuses a wrong one, and is current,
    // so it is kept as it is.
    sign_in(&s, &oidc::browser(), &client, "camilles", PASSWORD)
        .await
        .assert_admitted(&s, &client, &id)
        .await;
    sign_in(&s, &oidc::browser(), &client, "camilles", WRONG)
        .await
        .assert_refused();
    assert_eq!(stored_hash(&s, "camilles").await, stored);

    let rehashed: Vec<Value> = audit(&s, Some(&id))
        .await
        .iter()
        .filter(|e| e["action"] == "login.password" && e["outcome"] == "success")
        .map(|e| e["detail"]["rehashed"].clone())
        .collect();
    assert_eq!(
        rehashed,
        [Value::Bool(true), Value::Bool(false)],
        "rehashed once, at the first sign-in"
    );
    s.stop().await;
}
