//! What an unauthenticated authorization request can make the server do: numbers from
//! the request are never trusted to fit (issue 16, finding 9).
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::oidc::{self, AuthRequest, Pkce, Tokens};
use chrono::Duration;

on_each_backend!(
    oidc_max_age_too_large_for_a_duration_means_no_limit_by_age,
);

/// OIDC Core §3.1.2.1: max_age is whole seconds. Any number of them is accepted; one
/// beyond what a duration holds asks for no re-authentication by age.
async fn oidc_max_age_too_large_for_a_duration_means_no_limit_by_age(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let first = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let first = oidc::verify_jwt(&s, first.id()).await;
    s.clock.advance(Duration::hours(11));

    for max_age in ["9223372036854775807", "99999999999999999999999999999999"] {
        let pkce = Pkce::generate();
        let req = AuthRequest::new(&client, "openid")
            .with_pkce(&pkce)
            .set("max_age", max_age);
        let answer = oidc::authorize(&s, &s.client, &req).await;
        let code = answer.redirected_with("code").to_string();
        let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, Some(&pkce.verifier)).await);
        let claims = oidc::verify_jwt(&s, tokens.id()).await;
        assert_eq!(
            claims["auth_time"], first["auth_time"],
            "max_age={max_age}: no new sign-in"
        );
    }
    for max_age in ["-1", "1e3", "+5", "0x10", &"9".repeat(33)] {
        let req = AuthRequest::new(&client, "openid")
            .with_pkce(&Pkce::generate())
            .set("max_age", max_age);
        let answer = oidc::authorize(&s, &s.client, &req).await;
        assert_eq!(answer.redirected_with("error"), "invalid_request", "max_age={max_age}");
        assert_eq!(answer.param("code"), None);
    }
    s.stop().await;
}
