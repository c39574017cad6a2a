//! `/account` as its owner uses it: the password changed with the current one first
//! (every other sign-in ends), the authenticator app set up and removed and recovery
//! codes renewed, asking for the password again once the sign-in is five minutes old.
use crate::on_each_backend;
use crate::support::oidc::{self, User};
use crate::support::second_factor::{code_for, post_page, text_between};
use crate::support::{Backend, TestServer};
use chrono::Duration;

on_each_backend!(
    the_password_is_changed_with_the_current_one_first,
    the_authenticator_app_is_managed_from_the_account_page,
    other_sessions_are_listed_and_can_be_ended,
);

const NEW_PASSWORD: &str = "juniper anchor willow frost";

/// A browser signed in as `user`, and its account page.
async fn at_account(s: &TestServer, user: &User) -> (reqwest::Client, String) {
    let client = oidc::create_client(s, &format!("app {}", oidc::random()), &[]).await;
    let browser = oidc::browser();
    oidc::login(s, &browser, &client, user, "openid").await;
    let res = browser.get(s.url("/account")).send().await.expect("account");
    assert_eq!(res.status(), 200);
    (browser, res.text().await.expect("page"))
}

/// Posts the account page's form whose action is `action`, with `fields`.
async fn submit(
    s: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = oidc::hidden_inputs(page)
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
        .expect("csrf");
    let mut form = vec![("csrf".to_string(), csrf)];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    browser.post(s.url(action)).form(&form).send().await.expect("post")
}

/// The page a 303 leads to, in the same browser.
async fn follow(s: &TestServer, browser: &reqwest::Client, res: reqwest::Response) -> String {
    let to = res.headers()["location"].to_str().expect("location").to_string();
    browser
        .get(s.url(&to))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page")
}

async fn account(s: &TestServer, browser: &reqwest::Client) -> String {
    browser
        .get(s.url("/account"))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("page")
}

async fn the_password_is_changed_with_the_current_one_first(backend: Backend) {
    let s = oidc::start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    // Signed in on another device too.
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let (browser, page) = at_account(&s, &user).await;
    assert!(page.contains("Change password"), "{page}");

    let change = |current: &'static str, new: &'static str, again: &'static str| {
        let (s, browser, page) = (&s, &browser, page.clone());
        async move {
            let fields = [
                ("current_password", current),
                ("password", new),
                ("password_confirm", again),
            ];
            submit(s, browser, &page, "/account/password", &fields).await
        }
    };
    let res = change("not my password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.expect("page").contains("not your current password"));
    assert_eq!(
        change(oidc::PASSWORD, NEW_PASSWORD, "juniper anchor").await.status(),
        400
    );
    assert_eq!(change(oidc::PASSWORD, "password123", "password123").await.status(), 400);
    assert_eq!(
        change(oidc::PASSWORD, oidc::PASSWORD, oidc::PASSWORD).await.status(),
        400,
        "not the same one again"
    );
    // A form from elsewhere (no CSRF token of this browser's) changes nothing.
    let res = oidc::browser()
        .post(s.url("/account/password"))
        .form(&[
            ("csrf", "forged"),
            ("current_password", oidc::PASSWORD),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);

    let res = change(oidc::PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account?done=password");
    let page = follow(&s, &browser, res).await;
    assert!(
        page.contains("Your password is changed"),
        "this browser stays signed in: {page}"
    );
    oidc::assert_access_ended(&s, &client, &tokens).await;
    let renewed = User {
        password: NEW_PASSWORD.into(),
        ..user
    };
    oidc::login(&s, &oidc::browser(), &client, &renewed, "openid").await;
    s.stop().await;
}

async fn the_authenticator_app_is_managed_from_the_account_page(backend: Backend) {
    let s = oidc::start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let (browser, page) = at_account(&s, &user).await;
    assert!(page.contains("Set up an authenticator app"), "{page}");

    let setup = browser
        .get(s.url("/account/totp"))
        .send()
        .await
        .expect("totp page")
        .text()
        .await
        .expect("page");
    let key = text_between(&setup, r#"<code class="key">"#, "</code>")[0].to_string();
    let res = post_page(&s, &browser, &setup, &[("code", &code_for(&s, &key))]).await;
    assert_eq!(res.status(), 200);
    let codes = res.text().await.expect("page");
    assert_eq!(text_between(&codes, "<li><code>", "</code>").len(), 10, "{codes}");
    let page = account(&s, &browser).await;
    assert!(page.contains("10 unused recovery codes"), "{page}");

    // Five minutes on, the security forms ask for the password again.
    s.clock.advance(Duration::minutes(6));
    let page = account(&s, &browser).await;
    assert!(page.contains(r#"id="current_password_codes""#), "{page}");
    let res = submit(&s, &browser, &page, "/account/recovery-codes", &[]).await;
    assert_eq!(res.status(), 403);
    let res = submit(
        &s,
        &browser,
        &page,
        "/account/recovery-codes",
        &[("current_password", oidc::PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 200);
    let renewed = res.text().await.expect("page");
    let new_codes = text_between(&renewed, "<li><code>", "</code>");
    assert_eq!(new_codes.len(), 10);
    assert!(!codes.contains(new_codes[0]), "a new set");

    let res = submit(
        &s,
        &browser,
        &page,
        "/account/totp/remove",
        &[("current_password", "wrong")],
    )
    .await;
    assert_eq!(res.status(), 403);
    assert!(
        account(&s, &browser).await.contains("Remove authenticator app"),
        "still on"
    );
    let res = submit(
        &s,
        &browser,
        &page,
        "/account/totp/remove",
        &[("current_password", oidc::PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = follow(&s, &browser, res).await;
    assert!(page.contains("The authenticator app is removed"), "{page}");
    assert!(page.contains("Set up an authenticator app"), "{page}");
    let events = oidc::cli_ok(&s, &["audit", "list", "--target", &user.id], None)
        .await
        .to_string();
    for action in ["user.totp_enrol", "user.recovery_codes_regenerate", "user.totp_remove"] {
        assert!(events.contains(action), "{action}: {events}");
    }
    s.stop().await;
}

fn browser_as(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .expect("client")
}

async fn other_sessions_are_listed_and_can_be_ended(backend: Backend) {
    let s = oidc::start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let other = oidc::create_user(&s, "someone.else").await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let desk = browser_as("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0");
    let phone = browser_as(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    );
    oidc::login(&s, &desk, &client, &user, "openid").await;
    let phone_tokens = oidc::login(&s, &phone, &client, &user, "openid").await;
    let strangers = browser_as("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36");
    oidc::login(&s, &strangers, &client, &other, "openid").await;

    let page = account(&s, &desk).await;
    assert!(
        page.contains("Firefox on Windows <strong>(this browser)</strong>"),
        "{page}"
    );
    assert!(page.contains("Safari on iPhone"), "{page}");
    assert!(!page.contains("Chrome on Linux"), "only her own sessions: {page}");
    let ids = text_between(&page, r#"name="session" value=""#, "\"");
    let phone_session = ids
        .iter()
        .find(|id| **id != "others")
        .expect("the phone's session")
        .to_string();

    // Someone else's session cannot be ended from her page, nor hers from theirs.
    let theirs = account(&s, &strangers).await;
    let res = submit(
        &s,
        &strangers,
        &theirs,
        "/account/sessions/end",
        &[("session", &phone_session)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/account?done=no-session");
    assert_eq!(phone.get(s.url("/account")).send().await.expect("get").status(), 200);

    let res = submit(
        &s,
        &desk,
        &page,
        "/account/sessions/end",
        &[("session", &phone_session)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/account?done=sessions-ended");
    assert_eq!(
        phone.get(s.url("/account")).send().await.expect("get").status(),
        401,
        "the phone is signed out"
    );
    oidc::refresh(&s, &client, phone_tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    let page = account(&s, &desk).await;
    assert!(!page.contains("Safari on iPhone"), "{page}");
    assert!(page.contains("Firefox on Windows"), "this browser stays signed in");
    s.stop().await;
}
