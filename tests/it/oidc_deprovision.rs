//! Deprovisioning ends access at once: when HR deactivates someone over SCIM, or an admin
//! disables or deletes them, their tokens stop working and their session is over.
use crate::on_each_backend;
use crate::scim_support::Scim;
use crate::support::oidc::{self, AuthRequest, Client, Pkce, Tokens, User};
use crate::support::{Backend, TestServer};
use serde_json::json;

on_each_backend!(
    scim_deactivation_ends_access_at_once,
    cli_disable_ends_access_at_once,
    deleting_a_user_ends_access_at_once,
    scim_password_change_ends_access_at_once,
);

/// A signed-in user with live tokens; checks they work before anything is done.
async fn signed_in(backend: Backend) -> (TestServer, Client, User, Tokens) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    assert!(oidc::is_active(&s, &client, tokens.access()).await);
    assert_eq!(oidc::userinfo(&s, tokens.access()).await.status, 200);
    (s, client, user, tokens)
}

async fn scim_deactivation_ends_access_at_once(backend: Backend) {
    let (s, client, user, tokens) = signed_in(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let r = scim
        .patch(
            &format!("/Users/{}", user.id),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    oidc::assert_access_ended(&s, &client, &tokens).await;

    // Nor can they sign in again.
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    assert!(flow.location.is_none(), "{:?}", flow.location);
    assert!(flow.last_page().html.contains(oidc::WRONG_CREDENTIALS));
    s.stop().await;
}

async fn cli_disable_ends_access_at_once(backend: Backend) {
    let (s, client, user, tokens) = signed_in(backend).await;
    let out = oidc::cli_ok(&s, &["user", "disable", &user.username], None).await;
    assert_eq!(out["state"], "disabled", "{out}");
    oidc::assert_access_ended(&s, &client, &tokens).await;
    s.stop().await;
}

async fn deleting_a_user_ends_access_at_once(backend: Backend) {
    let (s, client, user, tokens) = signed_in(backend).await;
    oidc::cli_ok(&s, &["user", "delete", &user.username], None).await;
    oidc::assert_access_ended(&s, &client, &tokens).await;
    s.stop().await;
}

async fn scim_password_change_ends_access_at_once(backend: Backend) {
    let (s, client, user, tokens) = signed_in(backend).await;
    let scim = Scim::register_with(&s, "okta", &["--set-passwords"]).await;
    let new_password = "a different and quite long phrase";
    for ops in [
        json!([{"op": "replace", "path": "password", "value": new_password}]),
        json!([{"op": "replace", "value": {"password": "yet another long pass phrase"}}]),
    ] {
        let r = scim.patch(&format!("/Users/{}", user.id), ops).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    oidc::assert_access_ended(&s, &client, &tokens).await;
    // The new password works; the user is not disabled.
    let user = User {
        password: "yet another long pass phrase".into(),
        ..user
    };
    let again = oidc::login(&s, &oidc::browser(), &client, &user, "openid").await;
    assert_eq!(oidc::userinfo(&s, again.access()).await.status, 200);
    s.stop().await;
}
