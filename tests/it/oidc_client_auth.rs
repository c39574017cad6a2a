//! private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a client registered with its
//! public keys proves itself with a signed, single-use, short-lived assertion.
use crate::on_each_backend;
use crate::support::oidc::{self, Auth, Reply};
use crate::support::{Backend, TestServer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

on_each_backend!(
    private_key_jwt_clients_sign_single_use_assertions,
    private_key_jwt_registration_refuses_private_keys,
);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An ES256 key: what signs assertions, and its public JWK.
struct ClientKey {
    signing: EncodingKey,
    jwk: Value,
}

impl ClientKey {
    fn generate(kid: &str) -> Self {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("key pair");
        // Uncompressed point: 0x04 || x || y.
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Self {
            signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = self.jwk["kid"].as_str().map(str::to_string);
        jsonwebtoken::encode(&header, claims, &self.signing).expect("assertion")
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(client_id: &str, aud: &str, exp: i64) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "jti": oidc::random(), "iat": now(), "exp": exp,
    })
}

async fn register(s: &TestServer, jwks: &Value) -> std::process::Output {
    let path = s.data_dir().join(format!("jwks-{}.json", oidc::random()));
    std::fs::write(&path, jwks.to_string()).expect("jwks file");
    let path = path.display().to_string();
    s.cli(
        &[
            "client",
            "create",
            "--name",
            "payroll export",
            "--grant",
            "client_credentials",
            "--jwks",
            &path,
        ],
        None,
    )
    .await
}

async fn with_assertion(s: &TestServer, path: &str, assertion: &str, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    oidc::post_form(s, path, Auth::Nothing, &form).await
}

async fn client_credentials(s: &TestServer, assertion: &str) -> Reply {
    with_assertion(s, "/token", assertion, &[("grant_type", "client_credentials")]).await
}

async fn private_key_jwt_clients_sign_single_use_assertions(backend: Backend) {
    let s = oidc::start(backend).await;
    let key = ClientKey::generate("k1");
    let out = register(&s, &json!({ "keys": [key.jwk] })).await;
    assert!(out.status.success(), "{}", crate::support::stderr_of(&out));
    let created = crate::support::json_of(&out);
    assert_eq!(created["client_secret"], Value::Null, "no secret: {created}");
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    let id = created["client_id"].as_str().expect("client_id").to_string();
    let token_endpoint = s.url("/token");

    // aud may be the token endpoint or the issuer.
    let assertion = key.sign(&claims(&id, &token_endpoint, now() + 60));
    let issued = client_credentials(&s, &assertion).await;
    assert_eq!(issued.status, 200, "{:?}", issued.body);
    let access = issued.body["access_token"].as_str().expect("access_token").to_string();
    let by_issuer = client_credentials(&s, &key.sign(&claims(&id, &oidc::issuer(&s), now() + 60))).await;
    assert_eq!(by_issuer.status, 200, "{:?}", by_issuer.body);

    // Single use.
    client_credentials(&s, &assertion)
        .await
        .assert_oauth_error(401, "invalid_client");

    // The same method at introspection, with aud naming that endpoint.
    let at_introspect = key.sign(&claims(&id, &s.url("/introspect"), now() + 60));
    let answer = with_assertion(&s, "/introspect", &at_introspect, &[("token", &access)]).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["active"], true, "{:?}", answer.body);

    // OIDC Core §9's aud, the token endpoint, is good at introspection too.
    let token_aud = key.sign(&claims(&id, &token_endpoint, now() + 60));
    let answer = with_assertion(&s, "/introspect", &token_aud, &[("token", &access)]).await;
    assert_eq!(answer.body["active"], true, "{:?}", answer.body);

    // Refused: another audience, expired, valid for too long, another key under the same
    // kid, a missing jti, someone else's client id.
    let refused = [
        key.sign(&claims(&id, "https://elsewhere.example/token", now() + 60)),
        key.sign(&claims(&id, &token_endpoint, now() - 120)),
        key.sign(&claims(&id, &token_endpoint, now() + 3600)),
        ClientKey::generate("k1").sign(&claims(&id, &token_endpoint, now() + 60)),
        key.sign(&json!({ "iss": id, "sub": id, "aud": token_endpoint, "exp": now() + 60 })),
        key.sign(&claims("someone-else", &token_endpoint, now() + 60)),
    ];
    for (i, assertion) in refused.iter().enumerate() {
        let reply = client_credentials(&s, assertion).await;
        assert_eq!(reply.status, 401, "case {i}: {:?}", reply.body);
        reply.assert_oauth_error(401, "invalid_client");
    }

    // Neither is an unsigned one, nor one not valid before a minute from now.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&id, &token_endpoint, now() + 60).to_string())
    );
    client_credentials(&s, &unsigned)
        .await
        .assert_oauth_error(401, "invalid_client");
    let mut early = claims(&id, &token_endpoint, now() + 300);
    early["nbf"] = json!(now() + 120);
    client_credentials(&s, &key.sign(&early))
        .await
        .assert_oauth_error(401, "invalid_client");

    // An HMAC assertion is not accepted whatever its key.
    let hmac = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&id, &token_endpoint, now() + 60),
        &EncodingKey::from_secret(b"guess"),
    )
    .expect("hmac");
    client_credentials(&s, &hmac)
        .await
        .assert_oauth_error(401, "invalid_client");

    // One method at a time; and the assertion type must be the JWT bearer one.
    let fresh = key.sign(&claims(&id, &token_endpoint, now() + 60));
    with_assertion(
        &s,
        "/token",
        &fresh,
        &[("grant_type", "client_credentials"), ("client_secret", "x")],
    )
    .await
    .assert_oauth_error(400, "invalid_request");
    oidc::post_form(
        &s,
        "/token",
        Auth::Nothing,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:example:saml"),
            ("client_assertion", &fresh),
        ],
    )
    .await
    .assert_oauth_error(400, "invalid_request");

    // Revocation takes the same method.
    let at_revoke = key.sign(&claims(&id, &s.url("/revoke"), now() + 60));
    let revoked = with_assertion(&s, "/revoke", &at_revoke, &[("token", &access)]).await;
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    let check = key.sign(&claims(&id, &oidc::issuer(&s), now() + 60));
    let answer = with_assertion(&s, "/introspect", &check, &[("token", &access)]).await;
    assert_eq!(answer.body["active"], false, "revoked: {:?}", answer.body);

    // A client with a secret has no keys: an assertion in its name gets nowhere.
    let secret_client = oidc::create_client(&s, "ward rota", &[]).await;
    let posing = key.sign(&claims(&secret_client.id, &token_endpoint, now() + 60));
    client_credentials(&s, &posing)
        .await
        .assert_oauth_error(401, "invalid_client");

    let discovery: Value = reqwest::get(s.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let algs = discovery["token_endpoint_auth_signing_alg_values_supported"].to_string();
    assert!(algs.contains("ES256") && !algs.contains("HS"), "{algs}");
    s.stop().await;
}

async fn private_key_jwt_registration_refuses_private_keys(backend: Backend) {
    let s = oidc::start(backend).await;
    let mut jwk = ClientKey::generate("k1").jwk;
    jwk["d"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let out = register(&s, &json!({ "keys": [jwk] })).await;
    assert!(!out.status.success());
    assert!(
        crate::support::stderr_of(&out).contains("private"),
        "{}",
        crate::support::stderr_of(&out)
    );
    let out = register(&s, &json!({ "keys": [] })).await;
    assert!(!out.status.success());
    assert!(
        crate::support::stderr_of(&out).contains("no keys"),
        "{}",
        crate::support::stderr_of(&out)
    );
    s.stop().await;
}
