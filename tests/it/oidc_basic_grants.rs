//! The Basic OP plan's code reuse and refresh modules: a code works once (a second use
//! revokes what the first issued), and refresh tokens rotate and stay bound to their client.
//!
//! What the plan's tests share (the server, the suite's client without PKCE, a user, the
//! code flow) is in `support::oidc::basic_plan`.
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::oidc::basic_plan::{setup, signed_in};
use crate::support::oidc::{self, AuthRequest, Tokens, verify_jwt};
use chrono::Duration;

on_each_backend!(oidcc_codereuse, oidcc_codereuse_30seconds, oidcc_refresh_token);

async fn oidcc_codereuse(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let code = flow.code();
    Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    oidc::exchange(&s, &client, &code, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}

async fn oidcc_codereuse_30seconds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let code = flow.code();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    assert!(oidc::is_active(&s, &client, tokens.access()).await);

    s.clock.advance(Duration::seconds(30));
    oidc::exchange(&s, &client, &code, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    // What the first use issued is revoked.
    assert!(!oidc::is_active(&s, &client, tokens.access()).await);
    oidc::assert_userinfo_refuses(&s, tokens.access()).await;
    oidc::refresh(&s, &client, tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}

async fn oidcc_refresh_token(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (tokens, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;

    let reply = oidc::refresh(&s, &client, tokens.refresh()).await;
    let renewed = Tokens::of(&reply);
    assert_ne!(renewed.access(), tokens.access());
    assert_ne!(renewed.refresh(), tokens.refresh());
    // A refresh response "might not contain an id_token" (OIDC Core §12.2).
    if reply.body.get("id_token").is_some() {
        let again = verify_jwt(&s, renewed.id()).await;
        for claim in ["iss", "sub", "aud"] {
            assert_eq!(again[claim], first[claim], "{claim}");
        }
    }
    let info = oidc::userinfo(&s, renewed.access()).await;
    assert_eq!(info.body["sub"], user.id.as_str());

    // Bound to its client: another client cannot use it.
    let other = oidc::create_client(&s, "another rp", &["--pkce-optional"]).await;
    oidc::refresh(&s, &other, renewed.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}
