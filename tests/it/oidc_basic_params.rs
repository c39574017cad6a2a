//! The Basic OP plan's authorization-request parameter modules: display, prompt, max_age,
//! id_token_hint, login_hint, locales, acr_values and parameters the server does not know.
//!
//! What the plan's tests share (the server, the suite's client without PKCE, a user, the
//! code flow) is in `support::oidc::basic_plan`.
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::oidc::basic_plan::{setup, signed_in};
use crate::support::oidc::{self, AuthRequest, Tokens, check_id_token, verify_jwt};
use chrono::Duration;
use serde_json::Value;

on_each_backend!(
    oidcc_display_page,
    oidcc_display_popup,
    oidcc_prompt_login,
    oidcc_prompt_none_not_logged_in,
    oidcc_prompt_none_logged_in,
    oidcc_max_age_1,
    oidcc_max_age_10000,
    oidcc_ensure_request_with_unknown_parameter_succeeds,
    oidcc_id_token_hint,
    oidcc_login_hint,
    oidcc_ui_locales,
    oidcc_claims_locales,
    oidcc_ensure_request_with_acr_values_succeeds,
);

fn auth_time(claims: &Value) -> i64 {
    claims["auth_time"]
        .as_i64()
        .unwrap_or_else(|| panic!("no auth_time in {claims}"))
}

async fn display_is_accepted(backend: Backend, display: &str) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("display", display);
    signed_in(&s, &client, &user, &req).await;
    s.stop().await;
}

async fn oidcc_display_page(backend: Backend) {
    display_is_accepted(backend, "page").await;
}

async fn oidcc_display_popup(backend: Backend) {
    display_is_accepted(backend, "popup").await;
}

async fn oidcc_prompt_login(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (_, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    s.clock.advance(Duration::seconds(2));

    let req = AuthRequest::new(&client, "openid").set("prompt", "login");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert!(
        flow.saw("/signin/password"),
        "prompt=login asks again: {:?}",
        flow.paths()
    );
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    let second = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &second, &client, &user);
    assert!(auth_time(&second) > auth_time(&first), "{first} then {second}");
    s.stop().await;
}

async fn oidcc_prompt_none_not_logged_in(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("prompt", "none");
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    let error = answer.redirected_with("error");
    assert!(["login_required", "interaction_required"].contains(&error), "{error}");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

async fn oidcc_prompt_none_logged_in(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;

    let req = AuthRequest::new(&client, "openid").set("prompt", "none");
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    assert_eq!(answer.param("state"), req.get("state"));
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    assert_eq!(claims["nonce"].as_str(), req.get("nonce"));
    s.stop().await;
}

async fn oidcc_max_age_1(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (_, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    s.clock.advance(Duration::seconds(2));

    let req = AuthRequest::new(&client, "openid").set("max_age", "1");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert!(
        flow.saw("/signin/password"),
        "a sign-in older than max_age is redone: {:?}",
        flow.paths()
    );
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    let second = verify_jwt(&s, tokens.id()).await;
    assert!(auth_time(&second) > auth_time(&first), "{first} then {second}");
    s.stop().await;
}

async fn oidcc_max_age_10000(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (_, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    s.clock.advance(Duration::seconds(2));

    let req = AuthRequest::new(&client, "openid").set("max_age", "10000");
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    let second = verify_jwt(&s, tokens.id()).await;
    assert_eq!(auth_time(&second), auth_time(&first), "no new sign-in");
    s.stop().await;
}

async fn oidcc_ensure_request_with_unknown_parameter_succeeds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("extra", "foobar");
    signed_in(&s, &client, &user, &req).await;
    s.stop().await;
}

async fn oidcc_id_token_hint(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (first, _) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;

    let req = AuthRequest::new(&client, "openid")
        .set("prompt", "none")
        .set("id_token_hint", first.id());
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    s.stop().await;
}

async fn oidcc_login_hint(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("login_hint", &user.username);
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    let identify = flow.page("/signin/identify");
    assert!(
        identify.html.contains(&format!(r#"value="{}""#, user.username)),
        "login_hint pre-fills the username:\n{}",
        identify.html
    );
    Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    s.stop().await;
}

async fn oidcc_ui_locales(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("ui_locales", "se");
    signed_in(&s, &client, &user, &req).await;
    s.stop().await;
}

async fn oidcc_claims_locales(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid profile").set("claims_locales", "se");
    let (tokens, _) = signed_in(&s, &client, &user, &req).await;
    assert_eq!(oidc::userinfo(&s, tokens.access()).await.status, 200);
    s.stop().await;
}

async fn oidcc_ensure_request_with_acr_values_succeeds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    // What the suite sends: values the server need not know.
    let req = AuthRequest::new(&client, "openid").set("acr_values", "1 2");
    let (_, claims) = signed_in(&s, &client, &user, &req).await;
    assert_eq!(claims["acr"], "pwd");
    s.stop().await;
}
