//! Passkeys through the pages' own endpoints, with a software authenticator playing the
//! browser's part: added on the account page, then signing in alone from the identify
//! step or as the second factor after the password; and the refusals: a replayed or
//! foreign answer, a cloned key's counter, a disabled user, a removed key.
use crate::on_each_backend;
use crate::support::oidc::{self, AuthRequest, Client, Pkce, Tokens, User};
use crate::support::passkey::Authenticator;
use crate::support::{Backend, TestServer};
use base64::Engine;
use serde_json::Value;

on_each_backend!(
    a_passkey_added_on_the_account_page_signs_in_alone,
    a_passkey_is_the_second_factor_after_the_password,
    answers_that_must_not_sign_in_are_refused,
    a_cloned_key_going_back_in_its_count_is_refused_and_audited,
    passkeys_are_renamed_and_removed_by_their_owner_only,
);

/// The server with its issuer at `http://localhost:PORT`: passkeys need a host name.
async fn start(backend: Backend) -> TestServer {
    oidc::start_with(backend, |c| {
        let port = c.listen.port();
        c.issuer = format!("http://localhost:{port}").parse().expect("issuer");
    })
    .await
}

fn origin(s: &TestServer) -> String {
    s.svc.config.issuer_id().to_string()
}

fn field(html: &str, name: &str) -> String {
    oidc::hidden_inputs(html)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} on the page:\n{html}"))
}

/// The CSRF token of the page's forms (the same in each).
fn csrf(html: &str) -> String {
    field(html, "csrf")
}

async fn post(s: &TestServer, browser: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    browser.post(s.url(path)).form(form).send().await.expect("post")
}

/// A browser signed in with the password, at its account page.
async fn at_account(s: &TestServer, user: &User) -> (reqwest::Client, String) {
    let client = oidc::create_client(s, &format!("app {}", oidc::random()), &[]).await;
    let browser = oidc::browser();
    oidc::login(s, &browser, &client, user, "openid").await;
    let page = account(s, &browser).await;
    (browser, page)
}

async fn account(s: &TestServer, browser: &reqwest::Client) -> String {
    page_at(s, browser, "/account").await
}

/// Adds a passkey named `name` from the account page, the current password typed first;
/// the page after.
async fn add_passkey(s: &TestServer, browser: &reqwest::Client, key: &mut Authenticator, name: &str) -> String {
    let page = account(s, browser).await;
    assert!(page.contains(r#"data-passkey="create""#), "{page}");
    assert!(page.contains(r#"<script src="/static/passkey.js" defer></script>"#));
    let token = csrf(&page);
    let password = oidc::PASSWORD;
    let form = [("csrf", token.as_str()), ("current_password", password)];
    let res = post(s, browser, "/account/passkeys/options", &form).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/json")
    );
    let options = res.text().await.expect("options");
    let v: Value = serde_json::from_str(&options).expect("json");
    // Discoverable where the authenticator can, so it can sign in alone.
    assert_eq!(
        v["publicKey"]["authenticatorSelection"]["residentKey"], "preferred",
        "{v}"
    );
    assert_eq!(
        v["publicKey"]["authenticatorSelection"]["userVerification"], "required",
        "{v}"
    );
    let answer = key.create(&options);
    let res = post(
        s,
        browser,
        "/account/passkeys",
        &[("csrf", &token), ("name", name), ("credential", &answer)],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap_or_default());
    assert_eq!(res.headers()["location"], "/account?done=passkey-added");
    page_at(s, browser, "/account?done=passkey-added").await
}

async fn page_at(s: &TestServer, browser: &reqwest::Client, path: &str) -> String {
    let res = browser.get(s.url(path)).send().await.expect("page");
    assert_eq!(res.status(), 200);
    res.text().await.expect("page")
}

/// A fresh browser's sign-in request, at the identify page.
async fn at_identify(s: &TestServer, client: &Client) -> (reqwest::Client, Pkce, String) {
    let browser = oidc::browser();
    let pkce = Pkce::generate();
    let req = AuthRequest::new(client, "openid").with_pkce(&pkce);
    let res = browser.get(req.url(s)).send().await.expect("authorize");
    assert_eq!(res.status(), 200);
    (browser, pkce, res.text().await.expect("identify page"))
}

/// The options for the passkey prompt at the sign-in step of `page`.
async fn sign_in_options(s: &TestServer, browser: &reqwest::Client, page: &str) -> reqwest::Response {
    let (token, r) = (csrf(page), field(page, "r"));
    post(s, browser, "/signin/passkey/options", &[("csrf", &token), ("r", &r)]).await
}

async fn answer_step(
    s: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    path: &str,
    credential: &str,
) -> reqwest::Response {
    let (token, r) = (csrf(page), field(page, "r"));
    post(
        s,
        browser,
        path,
        &[("csrf", &token), ("r", &r), ("credential", credential)],
    )
    .await
}

/// The id token's claims after the sign-in redirected back with a code.
async fn id_token_after(s: &TestServer, client: &Client, res: reqwest::Response, pkce: &Pkce) -> Value {
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().expect("location").to_string();
    let code = url::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    let tokens = Tokens::of(&oidc::exchange(s, client, &code, Some(&pkce.verifier)).await);
    oidc::decode_jwt(tokens.id()).1
}

/// Creation options as an attacker would make them up for `user` (a challenge the
/// server never gave).
fn forged_creation_options(s: &TestServer, user: &User) -> String {
    let id = uuid::Uuid::parse_str(&user.id).expect("user id");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    let user_id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes());
    serde_json::json!({"publicKey": {
        "rp": {"name": "x", "id": s.svc.config.issuer.host_str()},
        "user": {"id": user_id, "name": user.username, "displayName": user.username},
        "challenge": challenge,
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "attestation": "none",
        "authenticatorSelection": {"residentKey": "preferred", "requireResidentKey": false, "userVerification": "required"},
    }})
    .to_string()
}

async fn audit_actions(s: &TestServer, user: &User) -> Vec<String> {
    let v = oidc::cli_ok(s, &["audit", "list", "--target", &user.id, "--limit", "200"], None).await;
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

async fn a_passkey_added_on_the_account_page_signs_in_alone(backend: Backend) {
    let s = start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let (browser, _) = at_account(&s, &user).await;
    let mut key = Authenticator::new(&origin(&s));
    let page = add_passkey(&s, &browser, &mut key, "Work phone").await;
    assert!(page.contains("The passkey is added"), "{page}");
    assert!(page.contains("Work phone") && page.contains("not used yet"), "{page}");
    assert!(audit_actions(&s, &user).await.contains(&"user.passkey_add".to_string()));
    let mail = crate::support::mailbox::mail_of(&s, &user.username).await;
    assert!(mail.iter().any(|m| m["purpose"] == "sign_in_method_added"), "{mail:?}");

    // Another browser: "Sign in with a passkey" on the identify page, no username typed.
    let (other, pkce, identify) = at_identify(&s, &client).await;
    assert!(identify.contains("Sign in with a passkey"), "{identify}");
    let res = sign_in_options(&s, &other, &identify).await;
    assert_eq!(res.status(), 200);
    let options = res.text().await.expect("options");
    let v: Value = serde_json::from_str(&options).expect("json");
    assert!(
        v["publicKey"]["allowCredentials"].as_array().is_none_or(Vec::is_empty),
        "{v}"
    );
    assert!(
        v.get("mediation").is_none_or(Value::is_null),
        "a button's prompt, not autofill: {v}"
    );
    let answer = key.get(&options);
    let res = answer_step(&s, &other, &identify, "/signin/passkey", &answer).await;
    let claims = id_token_after(&s, &client, res, &pkce).await;
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["acr"], "mfa", "{claims}");
    assert_eq!(claims["amr"], serde_json::json!(["hwk", "mfa"]), "{claims}");
    assert!(audit_actions(&s, &user).await.contains(&"login.passkey".to_string()));
    let page = account(&s, &browser).await;
    assert!(page.contains("last used"), "{page}");
    s.stop().await;
}

async fn a_passkey_is_the_second_factor_after_the_password(backend: Backend) {
    let s = start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let (browser, _) = at_account(&s, &user).await;
    let mut key = Authenticator::new(&origin(&s));
    add_passkey(&s, &browser, &mut key, "").await;
    let page = account(&s, &browser).await;
    assert!(page.contains("Passkey 1"), "an unnamed passkey gets a name: {page}");

    // The password alone no longer finishes a sign-in: the passkey is asked for.
    let other = oidc::browser();
    let pkce = Pkce::generate();
    let req = AuthRequest::new(&client, "openid").with_pkce(&pkce);
    let flow = oidc::sign_in(&s, &other, &req, &user.username, &user.password).await;
    let step = flow.last_page();
    assert!(
        step.html.contains("Use your passkey"),
        "{:?}\n{}",
        flow.paths(),
        step.html
    );
    assert!(
        !step.html.contains(r#"name="code""#),
        "no app, so no code field: {}",
        step.html
    );
    let res = sign_in_options(&s, &other, &step.html).await;
    assert_eq!(res.status(), 200);
    let options = res.text().await.expect("options");
    let v: Value = serde_json::from_str(&options).expect("json");
    assert_eq!(
        v["publicKey"]["allowCredentials"].as_array().map(Vec::len),
        Some(1),
        "{v}"
    );
    let answer = key.get(&options);
    let res = answer_step(&s, &other, &step.html, "/signin/second-factor/passkey", &answer).await;
    let claims = id_token_after(&s, &client, res, &pkce).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "mfa");
    s.stop().await;
}

async fn answers_that_must_not_sign_in_are_refused(backend: Backend) {
    let s = start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let other_user = oidc::create_user(&s, "bruno.diaz").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let (browser, _) = at_account(&s, &user).await;
    let mut key = Authenticator::new(&origin(&s));
    add_passkey(&s, &browser, &mut key, "Work phone").await;

    // Adding a passkey takes the current password, even right after signing in: without
    // it no prompt is given, and an answer then adds nothing.
    let page = account(&s, &browser).await;
    let token = csrf(&page);
    let res = post(&s, &browser, "/account/passkeys/options", &[("csrf", &token)]).await;
    assert_eq!(res.status(), 400);
    let v: Value = res.json().await.expect("json");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("current password")),
        "{v}"
    );
    let form = [("csrf", token.as_str()), ("current_password", "not my password")];
    let res = post(&s, &browser, "/account/passkeys/options", &form).await;
    assert_eq!(res.status(), 400);
    let mut stranger = Authenticator::new(&origin(&s));
    let made = stranger.create(&forged_creation_options(&s, &user));
    let form = [
        ("csrf", token.as_str()),
        ("name", "mine now"),
        ("credential", made.as_str()),
    ];
    let res = post(&s, &browser, "/account/passkeys", &form).await;
    assert_eq!(res.status(), 400, "no ceremony, no passkey");
    assert!(!account(&s, &browser).await.contains("mine now"));

    // Not JSON, and an answer with no prompt behind it: the page again, with a message.
    let (b, _, identify) = at_identify(&s, &client).await;
    let res = answer_step(&s, &b, &identify, "/signin/passkey", "{not json").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("page").contains("was not accepted"));
    let (b, _, identify) = at_identify(&s, &client).await;
    let res = sign_in_options(&s, &b, &identify).await;
    let answer = key.get(&res.text().await.expect("options"));
    let (b2, _, identify2) = at_identify(&s, &client).await;
    let res = answer_step(&s, &b2, &identify2, "/signin/passkey", &answer).await;
    assert!(
        res.text().await.expect("page").contains("was not accepted"),
        "an answer to another sign-in's prompt"
    );

    // The answer is good once: replayed, its challenge is gone.
    let res = answer_step(&s, &b, &identify, "/signin/passkey", &answer).await;
    assert_eq!(res.status(), 303, "the first time it signs in");
    let (b3, _, identify3) = at_identify(&s, &client).await;
    sign_in_options(&s, &b3, &identify3).await;
    let res = answer_step(&s, &b3, &identify3, "/signin/passkey", &answer).await;
    assert!(res.text().await.expect("page").contains("was not accepted"), "a replay");

    // Someone else's passkey at the second-factor step of this user's sign-in.
    let (other_browser, _) = at_account(&s, &other_user).await;
    let mut other_key = Authenticator::new(&origin(&s));
    add_passkey(&s, &other_browser, &mut other_key, "Bruno's key").await;
    let b4 = oidc::browser();
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(&s, &b4, &req, &user.username, &user.password).await;
    let step = flow.last_page().html.clone();
    let options = sign_in_options(&s, &b4, &step).await.text().await.expect("options");
    let mut forged: Value = serde_json::from_str(&options).expect("json");
    forged["publicKey"]["allowCredentials"] = serde_json::json!([]);
    let answer = other_key.get(&forged.to_string());
    let res = answer_step(&s, &b4, &step, "/signin/second-factor/passkey", &answer).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("page").contains("was not accepted"));

    // A disabled user's passkey signs no one in.
    oidc::cli_ok(&s, &["user", "disable", &user.username], None).await;
    let (b5, _, identify5) = at_identify(&s, &client).await;
    let options = sign_in_options(&s, &b5, &identify5)
        .await
        .text()
        .await
        .expect("options");
    let res = answer_step(&s, &b5, &identify5, "/signin/passkey", &key.get(&options)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("page").contains("was not accepted"));

    // The options endpoint checks the form's CSRF token.
    let (b6, _, identify6) = at_identify(&s, &client).await;
    let r = field(&identify6, "r");
    let res = post(&s, &b6, "/signin/passkey/options", &[("csrf", "forged"), ("r", &r)]).await;
    assert_eq!(res.status(), 403);
    s.stop().await;
}

async fn a_cloned_key_going_back_in_its_count_is_refused_and_audited(backend: Backend) {
    let s = start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let (browser, _) = at_account(&s, &user).await;
    let mut key = Authenticator::new(&origin(&s));
    add_passkey(&s, &browser, &mut key, "Work phone").await;

    // Two prompts answered by the same key; the later count is used first, as a copy of
    // the key used elsewhere in between would make it.
    let (first, _, first_page) = at_identify(&s, &client).await;
    let first_answer = key.get(
        &sign_in_options(&s, &first, &first_page)
            .await
            .text()
            .await
            .expect("options"),
    );
    let (second, _, second_page) = at_identify(&s, &client).await;
    let second_answer = key.get(
        &sign_in_options(&s, &second, &second_page)
            .await
            .text()
            .await
            .expect("options"),
    );
    let res = answer_step(&s, &second, &second_page, "/signin/passkey", &second_answer).await;
    assert_eq!(res.status(), 303);
    let res = answer_step(&s, &first, &first_page, "/signin/passkey", &first_answer).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("page").contains("was not accepted"));
    assert!(
        audit_actions(&s, &user)
            .await
            .contains(&"user.passkey_counter_regression".to_string())
    );
    s.stop().await;
}

async fn passkeys_are_renamed_and_removed_by_their_owner_only(backend: Backend) {
    let s = start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let intruder = oidc::create_user(&s, "bruno.diaz").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let (browser, _) = at_account(&s, &user).await;
    let mut key = Authenticator::new(&origin(&s));
    let page = add_passkey(&s, &browser, &mut key, "Work phone").await;
    let id = field(
        &page[page.find("/account/passkeys/rename").expect("rename form")..],
        "passkey",
    );

    // Someone else cannot rename or remove it.
    let (theirs, their_page) = at_account(&s, &intruder).await;
    let token = csrf(&their_page);
    let res = post(
        &s,
        &theirs,
        "/account/passkeys/rename",
        &[("csrf", &token), ("passkey", &id), ("name", "x")],
    )
    .await;
    assert_eq!(res.status(), 400);
    let res = post(
        &s,
        &theirs,
        "/account/passkeys/remove",
        &[("csrf", &token), ("passkey", &id)],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(account(&s, &browser).await.contains("Work phone"));

    let token = csrf(&page);
    let long = "x".repeat(65);
    let res = post(
        &s,
        &browser,
        "/account/passkeys/rename",
        &[("csrf", &token), ("passkey", &id), ("name", &long)],
    )
    .await;
    assert_eq!(res.status(), 400, "names are bounded");
    let res = post(
        &s,
        &browser,
        "/account/passkeys/rename",
        &[("csrf", &token), ("passkey", &id), ("name", "Ward PC key")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(account(&s, &browser).await.contains("Ward PC key"));

    let res = post(
        &s,
        &browser,
        "/account/passkeys/remove",
        &[("csrf", &token), ("passkey", &id)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account?done=passkey-removed");
    let page = page_at(&s, &browser, "/account?done=passkey-removed").await;
    assert!(
        page.contains("The passkey is removed") && !page.contains("Ward PC key"),
        "{page}"
    );
    let actions = audit_actions(&s, &user).await;
    for action in ["user.passkey_rename", "user.passkey_remove"] {
        assert!(actions.contains(&action.to_string()), "{action}: {actions:?}");
    }
    let mail = crate::support::mailbox::mail_of(&s, &user.username).await;
    assert!(
        mail.iter().any(|m| m["purpose"] == "sign_in_method_removed"),
        "{mail:?}"
    );

    // A removed passkey signs no one in.
    let (b, _, identify) = at_identify(&s, &client).await;
    let options = sign_in_options(&s, &b, &identify).await.text().await.expect("options");
    let res = answer_step(&s, &b, &identify, "/signin/passkey", &key.get(&options)).await;
    assert!(res.text().await.expect("page").contains("was not accepted"));

    // An administrator's second-factor reset removes every passkey.
    add_passkey(&s, &browser, &mut Authenticator::new(&origin(&s)), "New phone").await;
    let v = oidc::cli_ok(&s, &["user", "reset-2fa", &user.username], None).await;
    assert_eq!(v["passkeys_removed"], 1, "{v}");
    assert!(!account(&s, &browser).await.contains("New phone"));
    s.stop().await;
}
