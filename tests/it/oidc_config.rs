//! The Config OP plan (oidcc-config-certification-test-plan): discovery and the JWKS, and the
//! Rust `openidconnect` crate as a second, independent relying party.
use crate::on_each_backend;
use crate::support::oidc::{self, AuthRequest, REDIRECT_URI};
use crate::support::{Backend, TestServer};
use serde_json::Value;
use std::collections::HashSet;

on_each_backend!(
    oidcc_discovery_endpoint_verification,
    discovery_follows_an_https_issuer,
    jwks_publishes_public_signing_keys_for_every_advertised_algorithm,
    clients_choose_their_id_token_algorithm,
    openidconnect_crate_discovers_signs_in_and_verifies_the_id_token,
);

async fn get_json(url: &str) -> (reqwest::header::HeaderMap, Value) {
    let res = oidc::api().get(url).send().await.expect("get");
    assert_eq!(res.status(), 200, "{url}");
    let headers = res.headers().clone();
    (headers, res.json().await.expect("JSON"))
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {v}"))
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("{key} holds a non-string"))
                .to_string()
        })
        .collect()
}

async fn oidcc_discovery_endpoint_verification(backend: Backend) {
    let s = oidc::start(backend).await;
    let (headers, d) = get_json(&s.url("/.well-known/openid-configuration")).await;
    let content_type = headers["content-type"].to_str().expect("ascii");
    assert!(content_type.starts_with("application/json"), "{content_type}");

    // The issuer is exactly the URL discovery was fetched under.
    let iss = oidc::issuer(&s);
    assert_eq!(d["issuer"], iss.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
        ("end_session_endpoint", "/end_session"),
    ] {
        assert_eq!(d[field], format!("{iss}{path}").as_str(), "{field}");
    }

    let scopes = strings(&d, "scopes_supported");
    for scope in [
        "openid",
        "profile",
        "email",
        "phone",
        "address",
        "groups",
        "offline_access",
    ] {
        assert!(scopes.iter().any(|x| x == scope), "{scope} in {scopes:?}");
    }
    assert_eq!(strings(&d, "response_types_supported"), ["code"]);
    assert_eq!(strings(&d, "response_modes_supported"), ["query"]);
    assert_eq!(strings(&d, "subject_types_supported"), ["public"]);
    assert_eq!(strings(&d, "code_challenge_methods_supported"), ["S256"]);
    let grants: HashSet<String> = strings(&d, "grant_types_supported").into_iter().collect();
    assert_eq!(
        grants,
        HashSet::from(["authorization_code", "refresh_token", "client_credentials"].map(String::from))
    );
    let algs = strings(&d, "id_token_signing_alg_values_supported");
    assert!(algs.iter().any(|a| a == "RS256"), "RS256 is required: {algs:?}");
    assert!(!algs.iter().any(|a| a == "none"), "{algs:?}");
    let auth_methods = strings(&d, "token_endpoint_auth_methods_supported");
    for m in ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] {
        assert!(auth_methods.iter().any(|x| x == m), "{m} in {auth_methods:?}");
    }
    let claims = strings(&d, "claims_supported");
    for c in ["sub", "iss", "auth_time", "acr", "email", "name", "groups"] {
        assert!(claims.iter().any(|x| x == c), "{c} in {claims:?}");
    }
    let prompts = strings(&d, "prompt_values_supported");
    for p in ["none", "login", "consent"] {
        assert!(prompts.iter().any(|x| x == p), "{p} in {prompts:?}");
    }
    assert!(strings(&d, "acr_values_supported").iter().any(|a| a == "pwd"));
    assert_eq!(d["claims_parameter_supported"], true);
    assert_eq!(d["request_parameter_supported"], false);
    assert_eq!(d["request_uri_parameter_supported"], false);
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);

    // jwks_uri serves keys.
    let jwks_uri = d["jwks_uri"].as_str().expect("jwks_uri");
    let (_, jwks) = get_json(jwks_uri).await;
    assert!(!jwks["keys"].as_array().expect("keys").is_empty());
    s.stop().await;
}

/// In production the issuer is https, and so is every endpoint discovery names.
async fn discovery_follows_an_https_issuer(backend: Backend) {
    let s = TestServer::start_with(backend, |c| {
        c.issuer = "https://login.clinic.example".parse().expect("issuer");
    })
    .await;
    let (_, d) = get_json(&s.url("/.well-known/openid-configuration")).await;
    assert_eq!(d["issuer"], "https://login.clinic.example");
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
    ] {
        let url = d[field].as_str().unwrap_or_else(|| panic!("no {field}"));
        assert!(url.starts_with("https://login.clinic.example/"), "{field}: {url}");
    }
    s.stop().await;
}

async fn oidc_jwks(s: &TestServer) -> (reqwest::header::HeaderMap, Vec<Value>) {
    let (headers, jwks) = get_json(&s.url("/jwks")).await;
    let keys = jwks["keys"].as_array().expect("keys").clone();
    (headers, keys)
}

async fn jwks_publishes_public_signing_keys_for_every_advertised_algorithm(backend: Backend) {
    let s = oidc::start(backend).await;
    let (headers, keys) = oidc_jwks(&s).await;
    let content_type = headers["content-type"].to_str().expect("ascii");
    assert!(
        content_type.starts_with("application/jwk-set+json") || content_type.starts_with("application/json"),
        "{content_type}"
    );
    let mut kids = HashSet::new();
    for key in &keys {
        let kid = key["kid"].as_str().unwrap_or_else(|| panic!("no kid: {key}"));
        assert!(kids.insert(kid.to_string()), "kid {kid} is not unique");
        assert_eq!(key["use"], "sig", "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "private part {private} published: {key}");
        }
        match key["alg"].as_str() {
            Some("RS256") => {
                assert_eq!(key["kty"], "RSA", "{key}");
                assert!(key["n"].is_string() && key["e"].is_string(), "{key}");
            }
            Some("ES256") => {
                assert_eq!(key["kty"], "EC", "{key}");
                assert_eq!(key["crv"], "P-256", "{key}");
                assert!(key["x"].is_string() && key["y"].is_string(), "{key}");
            }
            Some("EdDSA") => {
                assert_eq!(key["kty"], "OKP", "{key}");
                assert_eq!(key["crv"], "Ed25519", "{key}");
                assert!(key["x"].is_string(), "{key}");
            }
            other => panic!("unexpected alg {other:?}: {key}"),
        }
        // Every published key is usable by a standard JWT library.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).expect("a JWK");
        jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a usable public key");
    }

    // Discovery is truthful: each ID token algorithm it offers has a key, and so does ES256
    // (access tokens).
    let (_, d) = get_json(&s.url("/.well-known/openid-configuration")).await;
    let published: HashSet<&str> = keys.iter().filter_map(|k| k["alg"].as_str()).collect();
    for alg in strings(&d, "id_token_signing_alg_values_supported") {
        assert!(published.contains(alg.as_str()), "no key for {alg}");
    }
    assert!(published.contains("ES256"));
    s.stop().await;
}

async fn clients_choose_their_id_token_algorithm(backend: Backend) {
    let s = oidc::start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    for alg in ["RS256", "ES256", "EdDSA"] {
        let client = oidc::create_client(&s, &format!("{alg} app"), &["--id-token-alg", alg]).await;
        let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
        let (header, _) = oidc::decode_jwt(tokens.id());
        assert_eq!(header["alg"], alg);
        let claims = oidc::verify_jwt(&s, tokens.id()).await;
        oidc::check_id_token(&s, &claims, &client, &user);
        // Access tokens stay ES256 whatever the ID token uses.
        let (at_header, _) = oidc::decode_jwt(tokens.access());
        assert_eq!(at_header["alg"], "ES256");
        assert_eq!(at_header["typ"], "at+jwt");
    }
    s.stop().await;
}

async fn openidconnect_crate_discovers_signs_in_and_verifies_the_id_token(backend: Backend) {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
    use openidconnect::{
        AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
        PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    };

    let s = oidc::start(backend).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let client = oidc::create_client(&s, "rust rp", &[]).await;

    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(oidc::issuer(&s)).expect("issuer"), &http)
        .await
        .expect("discovery and JWKS");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        Some(ClientSecret::new(client.secret().to_string())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_string()).expect("redirect URI"));

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_string()))
        .add_scope(Scope::new("profile".to_string()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(
        auth_url
            .as_str()
            .starts_with(&format!("{}/authorize?", oidc::issuer(&s)))
    );

    let req = AuthRequest::from_url(auth_url.as_str());
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert_eq!(flow.param("state"), Some(state.secret().as_str()));

    let response = rp
        .exchange_code(AuthorizationCode::new(flow.code()))
        .expect("a token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = response.id_token().expect("an ID token");
    let id_verifier = rp.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).expect("the ID token verifies");
    assert_eq!(claims.subject().as_str(), user.id);
    assert_eq!(claims.issuer().as_str(), oidc::issuer(&s));
    assert!(claims.audiences().iter().any(|a| a.as_str() == client.id));
    assert!(claims.auth_time().is_some());

    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        response.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&id_verifier).expect("key"),
    )
    .expect("hash");
    assert!(actual_hash == *expected_hash, "at_hash matches the access token");

    // A token meant for another nonce, or another client, is refused.
    assert!(
        id_token
            .claims(&id_verifier, &Nonce::new("another nonce".to_string()))
            .is_err()
    );
    let stranger = CoreClient::from_provider_metadata(
        CoreProviderMetadata::discover_async(IssuerUrl::new(oidc::issuer(&s)).expect("issuer"), &http)
            .await
            .expect("discovery"),
        ClientId::new("someone-else".to_string()),
        None,
    );
    assert!(id_token.claims(&stranger.id_token_verifier(), &nonce).is_err());

    let info: CoreUserInfoClaims = rp
        .user_info(response.access_token().to_owned(), None)
        .expect("a userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), user.id);
    assert_eq!(info.email().map(|e| e.as_str()), Some(user.email.as_str()));

    // The access token it got is one Tessera vouches for.
    assert!(oidc::is_active(&s, &client, response.access_token().secret()).await);
    s.stop().await;
}
