//! What an unauthenticated authorization request can make the server do: each parameter
//! it stores has a length limit, one client address can start only so many sign-ins, and
//! numbers from the request are never trusted to fit (issue 16, findings 6 and 9).
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::oidc::{self, AuthRequest, Credentials, Pkce, Tokens};
use chrono::Duration;

on_each_backend!(
    oidc_authorize_parameters_over_their_limits_are_refused_and_not_stored,
    oidc_authorize_parameters_at_their_limits_are_accepted,
    oidc_identify_step_refuses_an_identifier_longer_than_a_login_hint,
    oidc_pending_sign_ins_have_a_budget_per_client_address,
    oidc_max_age_too_large_for_a_duration_means_no_limit_by_age,
);

async fn oidc_authorize_parameters_over_their_limits_are_refused_and_not_stored(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let pkce = Pkce::generate();
    let req = AuthRequest::new(&client, "openid").with_pkce(&pkce);
    for (name, max) in [
        ("nonce", 512),
        ("login_hint", 256),
        ("claims", 4096),
        ("acr_values", 256),
        ("ui_locales", 256),
        ("display", 32),
        ("scope", 1024),
        ("prompt", 64),
        ("id_token_hint", 8192),
    ] {
        let answer = oidc::authorize(&s, &oidc::browser(), &req.clone().set(name, &"x".repeat(max + 1))).await;
        assert_eq!(answer.redirected_with("error"), "invalid_request", "{name}");
        let why = answer.param("error_description").unwrap_or("");
        assert!(why.contains(name) && why.contains(&max.to_string()), "{name}: {why}");
        assert_eq!(answer.param("state"), req.get("state"), "{name}: the state comes back");
        assert_eq!(answer.param("code"), None);
    }
    // The pen test's request: 30 KB each of state and nonce. An over-long state is the
    // one thing not sent back.
    let huge = req
        .clone()
        .set("state", &"s".repeat(30_000))
        .set("nonce", &"n".repeat(30_000));
    let answer = oidc::authorize(&s, &oidc::browser(), &huge).await;
    assert_eq!(answer.redirected_with("error"), "invalid_request");
    assert!(
        answer.param("error_description").is_some_and(|d| d.contains("state")),
        "{answer:?}"
    );
    assert_eq!(answer.param("state"), None);
    assert!(answer.location.as_ref().is_some_and(|l| l.len() < 1000), "{answer:?}");

    assert_eq!(oidc::pending_sign_ins(&s).await.0, 0, "nothing refused was stored");
    s.stop().await;
}

async fn oidc_authorize_parameters_at_their_limits_are_accepted(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let pkce = Pkce::generate();
    let state = "s".repeat(2048);
    let nonce = "n".repeat(512);
    let req = AuthRequest::new(&client, "openid")
        .with_pkce(&pkce)
        .set("state", &state)
        .set("nonce", &nonce)
        .set("acr_values", &"a".repeat(256));
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    assert_eq!(flow.param("state"), Some(state.as_str()));
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), Some(&pkce.verifier)).await);
    let claims = oidc::verify_jwt(&s, tokens.id()).await;
    assert_eq!(claims["nonce"], nonce.as_str());
    s.stop().await;
}

async fn oidc_identify_step_refuses_an_identifier_longer_than_a_login_hint(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
    let long = "u".repeat(100_000);
    let flow = oidc::drive(&s, &oidc::browser(), &req, &Credentials::new(&long, "whatever")).await;
    assert!(flow.location.is_none(), "{:?}", flow.location);
    let page = flow.last_page();
    assert_eq!(page.path, "/signin/identify", "{:?}", flow.paths());
    assert!(page.html.contains("longer than any username"), "{}", page.html);
    let (count, bytes) = oidc::pending_sign_ins(&s).await;
    assert_eq!(count, 1);
    assert!(bytes < 2000, "the identifier was not stored: {bytes} bytes");
    s.stop().await;
}

/// A sign-in that waits for the user spends its address's budget; one answered at once
/// (the browser is signed in already) or refused spends nothing.
async fn oidc_pending_sign_ins_have_a_budget_per_client_address(backend: Backend) {
    let s = oidc::start_with(backend, |c| {
        c.pending_sign_ins_per_address = std::num::NonZeroU32::new(3).expect("non-zero");
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
    })
    .await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let request = || AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());

    // One sign-in, then single sign-on: codes at once, nothing stored.
    let browser = oidc::browser_from("203.0.113.5");
    let flow = oidc::sign_in(&s, &browser, &request(), &user.username, &user.password).await;
    flow.code();
    for _ in 0..5 {
        let answer = oidc::authorize(&s, &browser, &request()).await;
        assert!(!answer.redirected_with("code").is_empty());
    }
    // Refused requests are not kept either.
    for _ in 0..5 {
        let bad = request().set("prompt", "sometimes");
        let answer = oidc::authorize(&s, &oidc::browser_from("203.0.113.5"), &bad).await;
        assert_eq!(answer.redirected_with("error"), "invalid_request");
    }
    // Two more sign-ins started from that address fill its budget of three.
    for _ in 0..2 {
        let answer = oidc::authorize(&s, &oidc::browser_from("203.0.113.5"), &request()).await;
        assert_eq!(answer.status, 200, "a sign-in page: {answer:?}");
    }
    for _ in 0..10 {
        let answer = oidc::authorize(&s, &oidc::browser_from("203.0.113.5"), &request()).await;
        assert_eq!(answer.status, 429, "{answer:?}");
        assert!(answer.body.contains("Too many sign-ins"), "{}", answer.body);
        assert!(answer.headers.get("retry-after").is_some(), "{:?}", answer.headers);
        assert!(answer.location.is_none());
    }
    assert_eq!(oidc::pending_sign_ins(&s).await.0, 2, "the finished sign-in is gone");

    // Another address, e.g. another clinic behind the same proxy, has its own budget.
    let answer = oidc::authorize(&s, &oidc::browser_from("198.51.100.7"), &request()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // The signed-in browser on the spent address still gets its codes.
    let answer = oidc::authorize(&s, &browser, &request()).await;
    assert!(!answer.redirected_with("code").is_empty());
    s.stop().await;
}

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
