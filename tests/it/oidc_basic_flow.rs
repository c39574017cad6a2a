//! The Basic OP plan's code-flow modules: the happy path, its variants (parameter order,
//! no nonce, the request as a POST, client_secret_post, PKCE), and the requests the server
//! must refuse without redirecting or with an error redirect.
//!
//! What the plan's tests share (the server, the suite's client without PKCE, a user, the
//! code flow) is in `support::oidc::basic_plan`.
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::oidc::basic_plan::{setup, signed_in};
use crate::support::oidc::{
    self, Auth, AuthRequest, Credentials, Pkce, REDIRECT_URI, Tokens, check_id_token, decode_jwt, verify_jwt,
};

on_each_backend!(
    oidcc_server,
    oidcc_response_type_missing,
    oidcc_ensure_request_without_nonce_succeeds_for_code_flow,
    oidcc_alternate_happy_flow,
    oidcc_ensure_registered_redirect_uri,
    oidcc_ensure_post_request_succeeds,
    oidcc_server_client_secret_post,
    oidcc_ensure_request_with_valid_pkce_succeeds,
);

async fn oidcc_server(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert_eq!(flow.paths(), ["/signin/identify", "/signin/password"]);
    assert!(flow.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT_URI)));
    assert_eq!(flow.param("state"), req.get("state"));
    assert_eq!(flow.error(), None);
    // RFC 9207 §2: a server that advertises authorization_response_iss_parameter_supported
    // (Tessera does) sends iss in every authorization response.
    let iss = flow.param("iss").expect("the server always sends iss (RFC 9207)");
    assert_eq!(iss, oidc::issuer(&s), "RFC 9207 iss names the issuer");

    let reply = oidc::exchange(&s, &client, &flow.code(), None).await;
    let tokens = Tokens::of(&reply);
    assert!(reply.header("content-type").starts_with("application/json"));
    assert!(
        reply.body["expires_in"].as_i64().is_some_and(|e| e > 0),
        "{:?}",
        reply.body
    );
    let (header, _) = decode_jwt(tokens.id());
    assert_eq!(header["alg"], "RS256", "ID tokens are RS256 by default");
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    assert_eq!(claims["nonce"].as_str(), req.get("nonce"));
    assert_eq!(claims["at_hash"], oidc::half_sha256(tokens.access()).as_str());

    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());
    s.stop().await;
}

async fn oidcc_response_type_missing(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").without("response_type");
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert_eq!(answer.param("code"), None);
    match answer.status {
        303 => {
            let error = answer.redirected_with("error");
            assert!(
                ["invalid_request", "unsupported_response_type"].contains(&error),
                "{error}"
            );
            assert_eq!(answer.param("state"), req.get("state"));
        }
        400 => assert!(answer.location.is_none()),
        other => panic!("neither an error redirect nor an error page: {other} {answer:?}"),
    }
    s.stop().await;
}

async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").without("nonce");
    let (_, claims) = signed_in(&s, &client, &user, &req).await;
    assert!(claims.get("nonce").is_none(), "{claims}");
    s.stop().await;
}

async fn oidcc_alternate_happy_flow(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    // Parameters in another order, openid not the first scope.
    let req = AuthRequest {
        params: vec![
            ("state".into(), oidc::random()),
            ("scope".into(), "email openid".into()),
            ("nonce".into(), oidc::random()),
            ("redirect_uri".into(), REDIRECT_URI.into()),
            ("client_id".into(), client.id.clone()),
            ("response_type".into(), "code".into()),
        ],
    };
    let (tokens, claims) = signed_in(&s, &client, &user, &req).await;
    assert_eq!(claims["nonce"].as_str(), req.get("nonce"));
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.body["email"], user.email.as_str(), "{:?}", info.body);
    s.stop().await;
}

async fn oidcc_ensure_registered_redirect_uri(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("redirect_uri", "https://attacker.example/callback");
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.headers.get("location").is_none(), "never a redirect");
    let content_type = answer.headers.get("content-type").and_then(|v| v.to_str().ok());
    assert!(
        content_type.is_some_and(|t| t.starts_with("text/html")),
        "{content_type:?}"
    );
    assert!(!answer.body.contains("attacker.example/callback?"), "{}", answer.body);
    s.stop().await;
}

async fn oidcc_ensure_post_request_succeeds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::drive_post(&s, &s.client, &req, &Credentials::new(&user.username, &user.password)).await;
    assert_eq!(flow.param("state"), req.get("state"));
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    assert_eq!(claims["nonce"].as_str(), req.get("nonce"));
    s.stop().await;
}

async fn oidcc_server_client_secret_post(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let tokens = Tokens::of(&oidc::exchange_with(&s, Auth::Body(&client), &flow.code(), None).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.body["sub"], user.id.as_str());
    s.stop().await;
}

async fn oidcc_ensure_request_with_valid_pkce_succeeds(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "pkce rp", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;

    let pkce = Pkce::generate();
    let req = AuthRequest::new(&client, "openid").with_pkce(&pkce);
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), Some(&pkce.verifier)).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);

    // S256 only, and required for this client.
    let plain = AuthRequest::new(&client, "openid")
        .set("code_challenge", &pkce.verifier)
        .set("code_challenge_method", "plain");
    let answer = oidc::authorize(&s, &s.client, &plain).await;
    assert_eq!(answer.redirected_with("error"), "invalid_request");
    assert_eq!(answer.param("code"), None);
    let none = AuthRequest::new(&client, "openid");
    let answer = oidc::authorize(&s, &s.client, &none).await;
    assert_eq!(answer.redirected_with("error"), "invalid_request");
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}
