//! Housekeeping: expired sign-in and token rows are deleted, and nothing that can still
//! matter is (a used refresh token within its lifetime still gives its replay away).
use crate::on_each_backend;
use crate::support::oidc::{self, AuthRequest, Pkce, Tokens};
use crate::support::{Backend, TestServer};
use chrono::Duration;
use tessera::oidc::purge::{self, Purged};

on_each_backend!(housekeeping_deletes_only_what_can_no_longer_matter);

async fn purge_now(s: &TestServer) -> Purged {
    purge::run_once(&s.svc).await.expect("purge runs")
}

async fn housekeeping_deletes_only_what_can_no_longer_matter(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "ines.duarte").await;

    // Grant A: signed in, refreshed once (its first refresh token is now used up).
    let a = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let a2 = Tokens::of(&oidc::refresh(&s, &client, a.refresh()).await);
    // Grant B: signed in (the SSO session makes it a second grant, no second password).
    let b = oidc::login(&s, &s.client, &client, &user, "openid").await;
    // A code that was never exchanged (the SSO session gives it at once).
    let pkce = Pkce::generate();
    let unexchanged = oidc::sign_in(
        &s,
        &s.client,
        &AuthRequest::new(&client, "openid").with_pkce(&pkce),
        &user.username,
        &user.password,
    )
    .await;
    assert!(!unexchanged.code().is_empty());
    // A sign-in that was started and abandoned.
    let request = AuthRequest::new(&client, "openid").with_pkce(&pkce);
    let abandoned = oidc::authorize(&s, &oidc::browser(), &request).await;
    assert_eq!(abandoned.status, 200, "the identify page: {abandoned:?}");
    let handle = oidc::sign_in_handle(&abandoned.body).expect("the sign-in's handle");
    let sign_in_page = s.url(&format!("/signin/identify?r={handle}"));

    assert_eq!(purge_now(&s).await, Purged::default(), "nothing has expired yet");

    // Past the sign-in's 30 minutes and the codes' minute, within the day's grace.
    s.clock.advance(Duration::minutes(31));
    let purged = purge_now(&s).await;
    assert_eq!(purged.pending_sign_ins, 1, "{purged:?}");
    assert_eq!(purged.total(), 1, "expired codes are kept a day: {purged:?}");
    let resumed = s.client.get(&sign_in_page).send().await.expect("sign-in page");
    assert_eq!(resumed.status(), 400, "the abandoned sign-in is gone");

    // The used refresh token was kept: showing it again still revokes grant A.
    assert!(oidc::is_active(&s, &client, a2.refresh()).await);
    oidc::refresh(&s, &client, a.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert!(!oidc::is_active(&s, &client, a2.refresh()).await, "grant A was revoked");
    // Grant B is untouched.
    let b2 = Tokens::of(&oidc::refresh(&s, &client, b.refresh()).await);

    // A month and two days on: every token has been expired for more than a day.
    s.clock.advance(Duration::days(32));
    let purged = purge_now(&s).await;
    // Used codes go with their grants (a replay until then still revokes the grant).
    assert_eq!(purged.unused_codes, 1, "{purged:?}");
    assert_eq!(purged.refresh_tokens, 4, "a, a2, b, b2: {purged:?}");
    assert_eq!(purged.grants, 3, "A, B and the unexchanged code's: {purged:?}");
    assert_eq!(purged.sessions, 1, "{purged:?}");
    assert_eq!(purge_now(&s).await, Purged::default(), "a second run finds nothing");

    // What was deleted answers as any unknown token does.
    oidc::refresh(&s, &client, b2.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert!(!oidc::is_active(&s, &client, b2.refresh()).await);
    s.stop().await;
}
