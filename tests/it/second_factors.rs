//! Second factors through the hosted sign-in pages: a group (or the admin role, or the
//! application's `acr_values`) requiring one makes a user set up an authenticator app
//! during sign-in; its codes (computed here from the key on the page, on the server's
//! clock) and recovery codes then admit, each once; tokens say what was used.
use crate::on_each_backend;
use crate::support::oidc::{self, AuthRequest, Client, Credentials, Flow, Pkce, Tokens, User};
use crate::support::second_factor::{code_for, post_page, text_between};
use crate::support::{Backend, TestServer};
use chrono::Duration;
use serde_json::Value;

on_each_backend!(
    a_group_requiring_2fa_has_its_members_set_up_an_app,
    codes_and_recovery_codes_admit_once_each,
    wrong_codes_count_towards_the_lockout,
    an_application_asking_for_a_second_factor_gets_one,
    admins_need_a_second_factor_unless_turned_off,
    a_key_seen_in_another_sign_in_is_never_the_one_confirmed,
    a_sign_in_waiting_for_its_code_ends_with_the_password,
);

async fn require_2fa_for(s: &TestServer, user: &User) {
    let v = oidc::cli_ok(s, &["group", "create", "Ward 4", "--require-2fa"], None).await;
    assert_eq!(v["require_2fa"], true, "{v}");
    oidc::cli_ok(s, &["group", "add-member", "Ward 4", &user.username], None).await;
}

struct Enrolled {
    key: String,
    recovery_codes: Vec<String>,
}

/// Signs in with the password, sets up the app on the page it is sent to, saves the
/// recovery codes and comes back to the client; checks the tokens say "mfa".
async fn enrol(s: &TestServer, client: &Client, user: &User) -> Enrolled {
    let browser = oidc::browser();
    let pkce = Pkce::generate();
    let req = AuthRequest::new(client, "openid").with_pkce(&pkce);
    let flow = oidc::sign_in(s, &browser, &req, &user.username, &user.password).await;
    let page = flow.last_page();
    assert_eq!(page.path, "/signin/enrol-totp", "{:?}", flow.paths());
    assert!(page.html.contains("<svg"), "a QR code is on the page");
    assert!(page.html.contains(r#"autocomplete="one-time-code""#) && page.html.contains(r#"inputmode="numeric""#));
    let key = text_between(&page.html, r#"<code class="key">"#, "</code>")[0].to_string();

    // A wrong code does not turn it on.
    let res = post_page(s, &browser, &page.html, &[("code", "000000")]).await;
    let html = res.text().await.expect("page");
    assert!(html.contains("not right"), "{html}");

    let res = post_page(s, &browser, &html, &[("code", &code_for(s, &key))]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("page");
    let recovery_codes: Vec<String> = text_between(&html, "<li><code>", "</code>")
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(recovery_codes.len(), 10, "{html}");
    let res = post_page(s, &browser, &html, &[]).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("location").to_string();
    let code = url::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code for the client");
    let tokens = Tokens::of(&oidc::exchange(s, client, &code, Some(&pkce.verifier)).await);
    assert_second_factor(&oidc::verify_jwt(s, tokens.id()).await);
    Enrolled { key, recovery_codes }
}

fn assert_second_factor(id_token: &Value) {
    assert_eq!(id_token["acr"], "mfa", "{id_token}");
    assert_eq!(id_token["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{id_token}");
}

/// A fresh browser's sign-in up to the second-factor step, answering it with `code`.
async fn sign_in_with_code(s: &TestServer, client: &Client, user: &User, code: Option<&str>) -> (Flow, Pkce) {
    let pkce = Pkce::generate();
    let req = AuthRequest::new(client, "openid").with_pkce(&pkce);
    let answers = Credentials {
        code,
        ..Credentials::new(&user.username, &user.password)
    };
    (oidc::drive(s, &oidc::browser(), &req, &answers).await, pkce)
}

/// A fresh browser's sign-in answering the second-factor step with a recovery code;
/// the page that follows.
async fn use_recovery(s: &TestServer, client: &Client, user: &User, code: &str) -> String {
    let browser = oidc::browser();
    let req = AuthRequest::new(client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(s, &browser, &req, &user.username, &user.password).await;
    let r = oidc::sign_in_handle(&flow.last_page().html).expect("handle");
    let page = browser
        .get(s.url(&format!("/signin/second-factor?r={r}&recovery=1")))
        .send()
        .await
        .expect("recovery page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Recovery code"), "{page}");
    let res = post_page(s, &browser, &page, &[("code", code)]).await;
    res.text().await.expect("answer")
}

async fn a_group_requiring_2fa_has_its_members_set_up_an_app(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    // Before the group requires it, the password is enough.
    let tokens = oidc::login(&s, &oidc::browser(), &client, &user, "openid").await;
    let claims = oidc::verify_jwt(&s, tokens.id()).await;
    assert_eq!(
        (claims["acr"].as_str(), claims["amr"].clone()),
        (Some("pwd"), serde_json::json!(["pwd"]))
    );

    require_2fa_for(&s, &user).await;
    enrol(&s, &client, &user).await;
    let events = oidc::cli_ok(&s, &["audit", "list", "--target", &user.id], None).await;
    assert!(events.to_string().contains("user.totp_enrol"), "{events}");
    s.stop().await;
}

async fn codes_and_recovery_codes_admit_once_each(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    require_2fa_for(&s, &user).await;
    let enrolled = enrol(&s, &client, &user).await;

    // The code that confirmed the app is spent: the same step is not accepted again.
    let same = code_for(&s, &enrolled.key);
    let (flow, _) = sign_in_with_code(&s, &client, &user, Some(&same)).await;
    assert_eq!(
        flow.paths(),
        [
            "/signin/identify",
            "/signin/password",
            "/signin/second-factor",
            "/signin/second-factor"
        ]
    );
    assert!(flow.last_page().html.contains("not right"), "{}", flow.last_page().html);
    // The next one admits.
    s.clock.advance(Duration::seconds(30));
    let (flow, pkce) = sign_in_with_code(&s, &client, &user, Some(&code_for(&s, &enrolled.key))).await;
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), Some(&pkce.verifier)).await);
    assert_second_factor(&oidc::verify_jwt(&s, tokens.id()).await);

    // A recovery code instead of the phone: it admits once, and says how many are left.
    let (flow, _) = sign_in_with_code(&s, &client, &user, None).await;
    assert_eq!(flow.last_page().path, "/signin/second-factor");
    let answer = use_recovery(&s, &client, &user, &enrolled.recovery_codes[0].to_uppercase()).await;
    assert!(answer.contains("9 unused recovery codes left"), "{answer}");
    let again = use_recovery(&s, &client, &user, &enrolled.recovery_codes[0]).await;
    assert!(again.contains("not one of your unused recovery codes"), "{again}");
    let events = oidc::cli_ok(&s, &["audit", "list", "--target", &user.id], None).await;
    assert!(events.to_string().contains("user.recovery_code_use"), "{events}");

    // An admin's reset (a lost phone) removes the app: the next sign-in sets one up.
    oidc::cli_ok(&s, &["user", "reset-2fa", &user.username], None).await;
    let (flow, _) = sign_in_with_code(&s, &client, &user, None).await;
    assert_eq!(flow.last_page().path, "/signin/enrol-totp", "{:?}", flow.paths());
    s.stop().await;
}

async fn wrong_codes_count_towards_the_lockout(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    require_2fa_for(&s, &user).await;
    let enrolled = enrol(&s, &client, &user).await;
    // Right codes do not add up towards it, however many sign-ins.
    for _ in 0..=s.svc.config.lockout_threshold {
        s.clock.advance(Duration::seconds(30));
        let (flow, _) = sign_in_with_code(&s, &client, &user, Some(&code_for(&s, &enrolled.key))).await;
        assert!(flow.location.is_some(), "{:?}", flow.paths());
    }
    for _ in 0..s.svc.config.lockout_threshold {
        let (flow, _) = sign_in_with_code(&s, &client, &user, Some("123456")).await;
        assert!(flow.location.is_none());
    }
    let list = oidc::cli_ok(&s, &["user", "list"], None).await;
    assert!(list.to_string().contains(r#""state":"locked""#), "{list}");
    // Even the right code does not get past the lock from an unknown browser.
    s.clock.advance(Duration::seconds(30));
    let (flow, _) = sign_in_with_code(&s, &client, &user, Some(&code_for(&s, &enrolled.key))).await;
    assert!(flow.location.is_none(), "{:?}", flow.paths());
    s.stop().await;
}

async fn an_application_asking_for_a_second_factor_gets_one(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "pharmacy", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let discovery = oidc::basic_plan::discovery(&s).await;
    assert_eq!(discovery["acr_values_supported"], serde_json::json!(["pwd", "mfa"]));

    // Signed in with the password alone, the session does not do for acr_values=mfa.
    let browser = oidc::browser();
    oidc::login(&s, &browser, &client, &user, "openid").await;
    let silent = AuthRequest::new(&client, "openid")
        .with_pkce(&Pkce::generate())
        .set("acr_values", "mfa")
        .set("prompt", "none");
    let answer = oidc::authorize(&s, &browser, &silent).await;
    assert_eq!(answer.redirected_with("error"), "login_required");

    // Asked for, it is set up (the user had none) and then used.
    let pkce = Pkce::generate();
    let req = AuthRequest::new(&client, "openid")
        .with_pkce(&pkce)
        .set("acr_values", "mfa");
    let flow = oidc::sign_in(&s, &browser, &req, &user.username, &user.password).await;
    assert_eq!(flow.last_page().path, "/signin/enrol-totp", "{:?}", flow.paths());
    s.stop().await;
}

async fn admins_need_a_second_factor_unless_turned_off(backend: Backend) {
    for required in [true, false] {
        let s = oidc::start_with(backend.clone(), |c| c.admins_require_2fa = required).await;
        let client = oidc::create_client(&s, "ward rota", &[]).await;
        let args = [
            "user",
            "create",
            "--username",
            "dr.admin",
            "--email",
            "admin@clinic.example",
            "--admin",
            "--password-stdin",
        ];
        oidc::cli_ok(&s, &args, Some(&format!("{}\n", oidc::PASSWORD))).await;
        let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
        let flow = oidc::sign_in(&s, &oidc::browser(), &req, "dr.admin", oidc::PASSWORD).await;
        if required {
            assert_eq!(flow.last_page().path, "/signin/enrol-totp", "{:?}", flow.paths());
        } else {
            assert!(flow.location.is_some(), "{:?}", flow.paths());
        }
        s.stop().await;
    }
}

async fn a_key_seen_in_another_sign_in_is_never_the_one_confirmed(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    require_2fa_for(&s, &user).await;
    // Someone with her password opens the set-up page and copies the key, then leaves.
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    let planted = text_between(&flow.last_page().html, r#"<code class="key">"#, "</code>")[0].to_string();
    // Her own sign-in later shows another key, and a code from the copied one is refused.
    let browser = oidc::browser();
    let flow = oidc::sign_in(&s, &browser, &req, &user.username, &user.password).await;
    let html = &flow.last_page().html;
    let hers = text_between(html, r#"<code class="key">"#, "</code>")[0].to_string();
    assert_ne!(hers, planted);
    let res = post_page(&s, &browser, html, &[("code", &code_for(&s, &planted))]).await;
    assert!(res.text().await.expect("page").contains("not right"));
    s.stop().await;
}

async fn a_sign_in_waiting_for_its_code_ends_with_the_password(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    require_2fa_for(&s, &user).await;
    let enrolled = enrol(&s, &client, &user).await;
    // A sign-in with her password waits at the code step...
    let browser = oidc::browser();
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(&s, &browser, &req, &user.username, &user.password).await;
    let waiting = flow.last_page().clone();
    assert_eq!(waiting.path, "/signin/second-factor");
    // ...when an admin gives her a new password: it can no longer finish.
    oidc::cli_ok(&s, &["user", "reset-password", &user.username, "--temporary"], None).await;
    s.clock.advance(Duration::seconds(30));
    let res = post_page(&s, &browser, &waiting.html, &[("code", &code_for(&s, &enrolled.key))]).await;
    let status = res.status().as_u16();
    let html = res.text().await.expect("page");
    assert!(status == 400 && html.contains("expired"), "{status}: {html}");
    s.stop().await;
}
