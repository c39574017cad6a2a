//! The Basic OP plan's ID token modules: the signature covers the claims, and unsigned
//! ID tokens are neither offered nor issued.
//!
//! What the plan's tests share (the server, the suite's client without PKCE, a user, the
//! code flow) is in `support::oidc::basic_plan`.
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::oidc::basic_plan::{code_flow, discovery, setup};
use crate::support::oidc::{self, AuthRequest, REDIRECT_URI, decode_jwt, verify_jwt};
use serde_json::json;

on_each_backend!(oidcc_idtoken_signature, oidcc_idtoken_unsigned);

async fn oidcc_idtoken_signature(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    let claims = verify_jwt(&s, tokens.id()).await;
    assert_eq!(claims["sub"], user.id.as_str());
    let (header, _) = decode_jwt(tokens.id());
    let discovery = discovery(&s).await;
    assert!(
        discovery["id_token_signing_alg_values_supported"]
            .as_array()
            .expect("algs")
            .contains(&header["alg"]),
        "{header}"
    );

    // The signature covers the claims: another subject under the same signature fails.
    let parts: Vec<&str> = tokens.id().split('.').collect();
    let mut forged_claims = claims.clone();
    forged_claims["sub"] = json!("someone-else");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64_url(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    assert!(oidc::try_verify_jwt(&s, &forged).await.is_err());
    s.stop().await;
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn oidcc_idtoken_unsigned(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    // Unsigned ID tokens are not offered, and no client can register for them.
    let discovery = discovery(&s).await;
    let algs = discovery["id_token_signing_alg_values_supported"]
        .as_array()
        .expect("algs");
    assert!(!algs.contains(&json!("none")), "{algs:?}");
    let out = s
        .cli(
            &[
                "client",
                "create",
                "--name",
                "unsigned",
                "--redirect-uri",
                REDIRECT_URI,
                "--id-token-alg",
                "none",
            ],
            None,
        )
        .await;
    assert!(!out.status.success(), "a client cannot ask for alg none");
    assert!(crate::support::stderr_of(&out).contains("error"));

    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    let (header, _) = decode_jwt(tokens.id());
    assert_ne!(header["alg"], "none");
    verify_jwt(&s, tokens.id()).await;
    s.stop().await;
}
