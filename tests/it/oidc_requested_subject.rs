//! An authorization request that names its user, by the `claims` parameter's `sub` value
//! (OIDC Core §5.5.1) or by an `id_token_hint` (§3.1.2.1), gets a code for that user or
//! none at all, whoever is signed in (issue 16, finding 15).
use crate::on_each_backend;
use crate::support::oidc::{self, AuthRequest, Client, Pkce, Tokens, User};
use crate::support::{Backend, TestServer};
use serde_json::json;

on_each_backend!(
    oidc_claims_sub_value_gets_a_code_only_for_that_user,
    oidc_id_token_hint_gets_a_code_only_for_its_user,
    oidc_requests_naming_their_user_badly_are_refused,
);

async fn setup(backend: Backend, client_options: &[&str]) -> (TestServer, Client, User, User) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", client_options).await;
    let camille = oidc::create_user(&s, "camille.okafor").await;
    let noor = oidc::create_user(&s, "noor.haddad").await;
    (s, client, camille, noor)
}

fn naming(client: &Client, place: &str, user: &User) -> (AuthRequest, Pkce) {
    let pkce = Pkce::generate();
    let claims = json!({ place: { "sub": { "value": user.id, "essential": true } } }).to_string();
    let req = AuthRequest::new(client, "openid")
        .with_pkce(&pkce)
        .set("claims", &claims);
    (req, pkce)
}

async fn oidc_claims_sub_value_gets_a_code_only_for_that_user(backend: Backend) {
    // A client that asks for consent: a refusal must come before the consent page.
    let (s, client, camille, noor) = setup(backend, &["--consent"]).await;
    oidc::login(&s, &s.client, &client, &camille, "openid").await;

    for place in ["id_token", "userinfo"] {
        // Camille's session is no answer to a request for Noor, silent or not.
        let (req, _) = naming(&client, place, &noor);
        let answer = oidc::authorize(&s, &s.client, &req.clone().set("prompt", "none")).await;
        assert_eq!(answer.redirected_with("error"), "login_required", "{place}");
        assert_eq!(answer.param("code"), None);
        assert_eq!(answer.param("state"), req.get("state"));

        // Asked to sign in, Camille signs in again: still no code.
        let flow = oidc::sign_in(&s, &s.client, &req, &camille.username, &camille.password).await;
        assert!(flow.saw("/signin/password"), "{place}: {:?}", flow.paths());
        assert!(!flow.saw("/signin/consent"), "{place}: {:?}", flow.paths());
        assert_eq!(flow.error(), Some("access_denied"), "{place}: {:?}", flow.location);
        assert_eq!(flow.param("code"), None);
        assert_eq!(flow.param("state"), req.get("state"));
    }

    // Noor signs in in her own browser and gets her code.
    let (req, pkce) = naming(&client, "id_token", &noor);
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &noor.username, &noor.password).await;
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), Some(&pkce.verifier)).await);
    assert_eq!(oidc::verify_jwt(&s, tokens.id()).await["sub"], noor.id.as_str());

    // Camille's session does answer a request for Camille, at once.
    let (req, pkce) = naming(&client, "id_token", &camille);
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, Some(&pkce.verifier)).await);
    assert_eq!(oidc::verify_jwt(&s, tokens.id()).await["sub"], camille.id.as_str());
    s.stop().await;
}

async fn oidc_id_token_hint_gets_a_code_only_for_its_user(backend: Backend) {
    let (s, client, camille, noor) = setup(backend, &[]).await;
    let camilles = oidc::login(&s, &oidc::browser(), &client, &camille, "openid").await;
    let pkce = Pkce::generate();
    let req = AuthRequest::new(&client, "openid")
        .with_pkce(&pkce)
        .set("id_token_hint", camilles.id());

    // Noor signed in on this browser: her session does not answer, and signing in as
    // Noor again gets no code for a request about Camille.
    let browser = oidc::browser();
    oidc::login(&s, &browser, &client, &noor, "openid").await;
    let answer = oidc::authorize(&s, &browser, &req.clone().set("prompt", "none")).await;
    assert_eq!(answer.redirected_with("error"), "login_required");
    let flow = oidc::sign_in(&s, &browser, &req, &noor.username, &noor.password).await;
    assert_eq!(flow.error(), Some("access_denied"), "{:?}", flow.location);
    assert_eq!(flow.param("code"), None);

    // Camille signing in gets it.
    let flow = oidc::sign_in(&s, &browser, &req, &camille.username, &camille.password).await;
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), Some(&pkce.verifier)).await);
    assert_eq!(oidc::verify_jwt(&s, tokens.id()).await["sub"], camille.id.as_str());
    s.stop().await;
}

async fn oidc_requests_naming_their_user_badly_are_refused(backend: Backend) {
    let (s, client, camille, noor) = setup(backend, &[]).await;
    let camilles = oidc::login(&s, &oidc::browser(), &client, &camille, "openid").await;
    let pkce = Pkce::generate();
    let base = AuthRequest::new(&client, "openid").with_pkce(&pkce);
    let two_users = json!({
        "id_token": { "sub": { "value": camille.id } },
        "userinfo": { "sub": { "value": noor.id } },
    });
    let not_a_string = json!({ "id_token": { "sub": { "value": 42 } } });
    let (for_noor, _) = naming(&client, "id_token", &noor);
    for req in [
        base.clone().set("claims", &two_users.to_string()),
        base.clone().set("claims", &not_a_string.to_string()),
        base.clone().set("id_token_hint", "not.a.token"),
        for_noor.set("id_token_hint", camilles.id()),
    ] {
        let answer = oidc::authorize(&s, &s.client, &req).await;
        assert_eq!(answer.redirected_with("error"), "invalid_request", "{:?}", req.params);
        assert_eq!(answer.param("code"), None);
    }
    s.stop().await;
}
