//! The Basic OP plan's userinfo and scope modules: userinfo by GET, by POST with the
//! token in the header or the body, the claims each scope brings, and essential claims.
//!
//! What the plan's tests share (the server, the suite's client without PKCE, a user, the
//! code flow) is in `support::oidc::basic_plan`.
use crate::on_each_backend;
use crate::support::oidc::basic_plan::{code_flow, setup, signed_in};
use crate::support::oidc::{self, AuthRequest, Client, User};
use crate::support::{Backend, TestServer};
use serde_json::{Value, json};

on_each_backend!(
    oidcc_userinfo_get,
    oidcc_userinfo_post_header,
    oidcc_userinfo_post_body,
    oidcc_scope_profile,
    oidcc_scope_email,
    oidcc_scope_address,
    oidcc_scope_phone,
    oidcc_scope_all,
    oidcc_claims_essential,
);

/// The claims a scope brings, from the ID token and userinfo together.
async fn claims_for_scope(s: &TestServer, client: &Client, user: &User, scope: &str) -> Value {
    let (tokens, mut claims) = signed_in(s, client, user, &AuthRequest::new(client, scope)).await;
    let info = oidc::userinfo(s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());
    for (k, v) in info.body.as_object().expect("userinfo is a JSON object") {
        claims[k] = v.clone();
    }
    claims
}

async fn oidcc_userinfo_get(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid email")).await;
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert!(info.header("content-type").starts_with("application/json"));
    assert_eq!(info.body["sub"], user.id.as_str());
    assert_eq!(info.body["email"], user.email.as_str());

    let bare = oidc::Reply::of(oidc::api().get(s.url("/userinfo")).send().await.expect("get")).await;
    assert_eq!(bare.status, 401, "no token, no userinfo");
    s.stop().await;
}

async fn oidcc_userinfo_post_header(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    let res = oidc::api()
        .post(s.url("/userinfo"))
        .bearer_auth(tokens.access())
        .send()
        .await
        .expect("post");
    let info = oidc::Reply::of(res).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());
    s.stop().await;
}

async fn oidcc_userinfo_post_body(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    let res = oidc::api()
        .post(s.url("/userinfo"))
        .form(&[("access_token", tokens.access())])
        .send()
        .await
        .expect("post");
    let info = oidc::Reply::of(res).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());

    let wrong = oidc::api()
        .post(s.url("/userinfo"))
        .form(&[("access_token", "not-a-token")])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 401);
    s.stop().await;
}

async fn oidcc_scope_profile(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let c = claims_for_scope(&s, &client, &user, "openid profile").await;
    assert_eq!(c["given_name"], "Camille", "{c}");
    assert_eq!(c["family_name"], "Okafor", "{c}");
    assert_eq!(c["preferred_username"], user.username.as_str(), "{c}");
    assert!(c["name"].is_string(), "{c}");
    assert!(c.get("email").is_none(), "email needs the email scope: {c}");
    s.stop().await;
}

async fn oidcc_scope_email(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let c = claims_for_scope(&s, &client, &user, "openid email").await;
    assert_eq!(c["email"], user.email.as_str(), "{c}");
    assert!(c["email_verified"].is_boolean(), "{c}");
    assert!(c.get("family_name").is_none(), "names need the profile scope: {c}");
    s.stop().await;
}

fn assert_address(c: &Value) {
    let a = &c["address"];
    assert_eq!(a["street_address"], "12 Infirmary Street", "{c}");
    assert_eq!(a["locality"], "Leeds", "{c}");
    assert_eq!(a["postal_code"], "LS1 2DS", "{c}");
    assert_eq!(a["country"], "GB", "{c}");
}

fn assert_phone(c: &Value) {
    assert_eq!(c["phone_number"], oidc::PHONE, "{c}");
    assert!(c["phone_number_verified"].is_boolean(), "{c}");
}

async fn oidcc_scope_address(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::add_phone_and_address(&s, &user).await;
    let c = claims_for_scope(&s, &client, &user, "openid address").await;
    assert_address(&c);
    assert!(c.get("phone_number").is_none(), "{c}");
    s.stop().await;
}

async fn oidcc_scope_phone(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::add_phone_and_address(&s, &user).await;
    let c = claims_for_scope(&s, &client, &user, "openid phone").await;
    assert_phone(&c);
    assert!(c.get("address").is_none(), "{c}");
    s.stop().await;
}

async fn oidcc_scope_all(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::add_phone_and_address(&s, &user).await;
    let c = claims_for_scope(&s, &client, &user, "openid profile email address phone").await;
    assert_eq!(c["given_name"], "Camille", "{c}");
    assert_eq!(c["preferred_username"], user.username.as_str(), "{c}");
    assert_eq!(c["email"], user.email.as_str(), "{c}");
    assert_address(&c);
    assert_phone(&c);
    s.stop().await;
}

async fn oidcc_claims_essential(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let claims = json!({"userinfo": {"name": {"essential": true}}}).to_string();
    let req = AuthRequest::new(&client, "openid").set("claims", &claims);
    let (tokens, _) = signed_in(&s, &client, &user, &req).await;
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert!(
        info.body["name"].is_string(),
        "the essential claim is honoured: {:?}",
        info.body
    );
    s.stop().await;
}
