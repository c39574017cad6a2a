//! The OpenID Foundation's Basic OP plan (oidcc-basic-certification-test-plan), shared by
//! the `oidc_basic_*` test files: one test per module, named after it, asserting what the
//! module checks (the list is in ../shared/conformance/oidcc-modules.md). As in the suite,
//! the client authenticates with client_secret_basic and sends no PKCE, so it is registered
//! with --pkce-optional; `oidc_basic_flow` also shows the PKCE flow.
use super::{AuthRequest, Client, Tokens, User, check_id_token, verify_jwt};
use crate::support::{Backend, TestServer};
use serde_json::Value;

/// The server, the suite's client (confidential, no PKCE) and a user who can sign in.
pub async fn setup(backend: Backend) -> (TestServer, Client, User) {
    let s = super::start(backend).await;
    let client = super::create_client(&s, "certification rp", &["--pkce-optional"]).await;
    let user = super::create_user(&s, "camille.okafor").await;
    (s, client, user)
}

/// Signs in through the server's browser, checks the state comes back, exchanges the code
/// without PKCE and returns the tokens.
pub async fn code_flow(s: &TestServer, client: &Client, user: &User, req: &AuthRequest) -> Tokens {
    let flow = super::sign_in(s, &s.client, req, &user.username, &user.password).await;
    assert_eq!(flow.param("state"), req.get("state"));
    Tokens::of(&super::exchange(s, client, &flow.code(), None).await)
}

/// A code flow whose ID token is verified and checked; returns the tokens and its claims.
pub async fn signed_in(s: &TestServer, client: &Client, user: &User, req: &AuthRequest) -> (Tokens, Value) {
    let tokens = code_flow(s, client, user, req).await;
    let claims = verify_jwt(s, tokens.id()).await;
    check_id_token(s, &claims, client, user);
    (tokens, claims)
}

pub async fn discovery(s: &TestServer) -> Value {
    let r = super::api()
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON")
}
