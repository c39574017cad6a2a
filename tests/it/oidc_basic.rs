//! The OpenID Foundation's Basic OP plan (oidcc-basic-certification-test-plan): one test per
//! module, named after it, asserting what the module checks (the list is in
//! ../shared/conformance/oidcc-modules.md). As in the suite, the client authenticates with
//! client_secret_basic and sends no PKCE, so it is registered with --pkce-optional; the
//! last test shows the PKCE flow.
use crate::on_each_backend;
use crate::support::oidc::{
    self, Auth, AuthRequest, Client, Credentials, Pkce, REDIRECT_URI, Tokens, User, check_id_token, decode_jwt,
    verify_jwt,
};
use crate::support::{Backend, TestServer};
use chrono::Duration;
use serde_json::{Value, json};

on_each_backend!(
    oidcc_server,
    oidcc_response_type_missing,
    oidcc_idtoken_signature,
    oidcc_idtoken_unsigned,
    oidcc_userinfo_get,
    oidcc_userinfo_post_header,
    oidcc_userinfo_post_body,
    oidcc_ensure_request_without_nonce_succeeds_for_code_flow,
    oidcc_scope_profile,
    oidcc_scope_email,
    oidcc_scope_address,
    oidcc_scope_phone,
    oidcc_scope_all,
    oidcc_alternate_happy_flow,
    oidcc_display_page,
    oidcc_display_popup,
    oidcc_prompt_login,
    oidcc_prompt_none_not_logged_in,
    oidcc_prompt_none_logged_in,
    oidcc_max_age_1,
    oidcc_max_age_10000,
    oidcc_ensure_request_with_unknown_parameter_succeeds,
    oidcc_id_token_hint,
    oidcc_login_hint,
    oidcc_ui_locales,
    oidcc_claims_locales,
    oidcc_ensure_request_with_acr_values_succeeds,
    oidcc_codereuse,
    oidcc_codereuse_30seconds,
    oidcc_ensure_registered_redirect_uri,
    oidcc_ensure_post_request_succeeds,
    oidcc_server_client_secret_post,
    oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported,
    oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported,
    oidcc_claims_essential,
    oidcc_ensure_request_object_with_redirect_uri,
    oidcc_refresh_token,
    oidcc_ensure_request_with_valid_pkce_succeeds,
);

/// The server, the suite's client (confidential, no PKCE) and a user who can sign in.
async fn setup(backend: Backend) -> (TestServer, Client, User) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "certification rp", &["--pkce-optional"]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    (s, client, user)
}

/// Signs in through the server's browser, checks the state comes back, exchanges the code
/// without PKCE and returns the tokens.
async fn code_flow(s: &TestServer, client: &Client, user: &User, req: &AuthRequest) -> Tokens {
    let flow = oidc::sign_in(s, &s.client, req, &user.username, &user.password).await;
    assert_eq!(flow.param("state"), req.get("state"));
    Tokens::of(&oidc::exchange(s, client, &flow.code(), None).await)
}

/// A code flow whose ID token is verified and checked; returns the tokens and its claims.
async fn signed_in(s: &TestServer, client: &Client, user: &User, req: &AuthRequest) -> (Tokens, Value) {
    let tokens = code_flow(s, client, user, req).await;
    let claims = verify_jwt(s, tokens.id()).await;
    check_id_token(s, &claims, client, user);
    (tokens, claims)
}

/// The claims a scope brings, from the ID token and userinfo together.
async fn claims_for_scope(s: &TestServer, client: &Client, user: &User, scope: &str) -> Value {
    let (tokens, mut claims) = signed_in(s, client, user, &AuthRequest::new(client, scope)).await;
    let info = oidc::userinfo(s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());
    for (k, v) in info.body.as_object().expect("userinfo is a JSON object") {
        claims[k] = v.clone();
    }
    claims
}

fn auth_time(claims: &Value) -> i64 {
    claims["auth_time"]
        .as_i64()
        .unwrap_or_else(|| panic!("no auth_time in {claims}"))
}

async fn oidcc_server(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert_eq!(flow.paths(), ["/signin/identify", "/signin/password"]);
    assert!(flow.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT_URI)));
    assert_eq!(flow.param("state"), req.get("state"));
    assert_eq!(flow.error(), None);
    if let Some(iss) = flow.param("iss") {
        assert_eq!(iss, oidc::issuer(&s), "RFC 9207 iss names the issuer");
    }

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

async fn discovery(s: &TestServer) -> Value {
    let r = oidc::api()
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery");
    assert_eq!(r.status(), 200);
    r.json().await.expect("JSON")
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

async fn oidcc_userinfo_get(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid email")).await;
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert!(info.header("content-type").starts_with("application/json"));
    assert_eq!(info.body["sub"], user.id.as_str());
    assert_eq!(info.body["email"], user.email.as_str());

    let bare = oidc::Reply::of(oidc::api().get(s.url("/userinfo")).send().await.expect("get")).await;
    assert_eq!(bare.status, 401, "no token, no userinfo");
    s.stop().await;
}

async fn oidcc_userinfo_post_header(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    let res = oidc::api()
        .post(s.url("/userinfo"))
        .bearer_auth(tokens.access())
        .send()
        .await
        .expect("post");
    let info = oidc::Reply::of(res).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());
    s.stop().await;
}

async fn oidcc_userinfo_post_body(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = code_flow(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    let res = oidc::api()
        .post(s.url("/userinfo"))
        .form(&[("access_token", tokens.access())])
        .send()
        .await
        .expect("post");
    let info = oidc::Reply::of(res).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], user.id.as_str());

    let wrong = oidc::api()
        .post(s.url("/userinfo"))
        .form(&[("access_token", "not-a-token")])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 401);
    s.stop().await;
}

async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").without("nonce");
    let (_, claims) = signed_in(&s, &client, &user, &req).await;
    assert!(claims.get("nonce").is_none(), "{claims}");
    s.stop().await;
}

async fn oidcc_scope_profile(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let c = claims_for_scope(&s, &client, &user, "openid profile").await;
    assert_eq!(c["given_name"], "Camille", "{c}");
    assert_eq!(c["family_name"], "Okafor", "{c}");
    assert_eq!(c["preferred_username"], user.username.as_str(), "{c}");
    assert!(c["name"].is_string(), "{c}");
    assert!(c.get("email").is_none(), "email needs the email scope: {c}");
    s.stop().await;
}

async fn oidcc_scope_email(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let c = claims_for_scope(&s, &client, &user, "openid email").await;
    assert_eq!(c["email"], user.email.as_str(), "{c}");
    assert!(c["email_verified"].is_boolean(), "{c}");
    assert!(c.get("family_name").is_none(), "names need the profile scope: {c}");
    s.stop().await;
}

fn assert_address(c: &Value) {
    let a = &c["address"];
    assert_eq!(a["street_address"], "12 Infirmary Street", "{c}");
    assert_eq!(a["locality"], "Leeds", "{c}");
    assert_eq!(a["postal_code"], "LS1 2DS", "{c}");
    assert_eq!(a["country"], "GB", "{c}");
}

fn assert_phone(c: &Value) {
    assert_eq!(c["phone_number"], oidc::PHONE, "{c}");
    assert!(c["phone_number_verified"].is_boolean(), "{c}");
}

async fn oidcc_scope_address(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::add_phone_and_address(&s, &user).await;
    let c = claims_for_scope(&s, &client, &user, "openid address").await;
    assert_address(&c);
    assert!(c.get("phone_number").is_none(), "{c}");
    s.stop().await;
}

async fn oidcc_scope_phone(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::add_phone_and_address(&s, &user).await;
    let c = claims_for_scope(&s, &client, &user, "openid phone").await;
    assert_phone(&c);
    assert!(c.get("address").is_none(), "{c}");
    s.stop().await;
}

async fn oidcc_scope_all(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::add_phone_and_address(&s, &user).await;
    let c = claims_for_scope(&s, &client, &user, "openid profile email address phone").await;
    assert_eq!(c["given_name"], "Camille", "{c}");
    assert_eq!(c["preferred_username"], user.username.as_str(), "{c}");
    assert_eq!(c["email"], user.email.as_str(), "{c}");
    assert_address(&c);
    assert_phone(&c);
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

async fn display_is_accepted(backend: Backend, display: &str) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("display", display);
    signed_in(&s, &client, &user, &req).await;
    s.stop().await;
}

async fn oidcc_display_page(backend: Backend) {
    display_is_accepted(backend, "page").await;
}

async fn oidcc_display_popup(backend: Backend) {
    display_is_accepted(backend, "popup").await;
}

async fn oidcc_prompt_login(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (_, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    s.clock.advance(Duration::seconds(2));

    let req = AuthRequest::new(&client, "openid").set("prompt", "login");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert!(
        flow.saw("/signin/password"),
        "prompt=login asks again: {:?}",
        flow.paths()
    );
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    let second = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &second, &client, &user);
    assert!(auth_time(&second) > auth_time(&first), "{first} then {second}");
    s.stop().await;
}

async fn oidcc_prompt_none_not_logged_in(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("prompt", "none");
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    let error = answer.redirected_with("error");
    assert!(["login_required", "interaction_required"].contains(&error), "{error}");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

async fn oidcc_prompt_none_logged_in(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;

    let req = AuthRequest::new(&client, "openid").set("prompt", "none");
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    assert_eq!(answer.param("state"), req.get("state"));
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    assert_eq!(claims["nonce"].as_str(), req.get("nonce"));
    s.stop().await;
}

async fn oidcc_max_age_1(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (_, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    s.clock.advance(Duration::seconds(2));

    let req = AuthRequest::new(&client, "openid").set("max_age", "1");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert!(
        flow.saw("/signin/password"),
        "a sign-in older than max_age is redone: {:?}",
        flow.paths()
    );
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    let second = verify_jwt(&s, tokens.id()).await;
    assert!(auth_time(&second) > auth_time(&first), "{first} then {second}");
    s.stop().await;
}

async fn oidcc_max_age_10000(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (_, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;
    s.clock.advance(Duration::seconds(2));

    let req = AuthRequest::new(&client, "openid").set("max_age", "10000");
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    let second = verify_jwt(&s, tokens.id()).await;
    assert_eq!(auth_time(&second), auth_time(&first), "no new sign-in");
    s.stop().await;
}

async fn oidcc_ensure_request_with_unknown_parameter_succeeds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("extra", "foobar");
    signed_in(&s, &client, &user, &req).await;
    s.stop().await;
}

async fn oidcc_id_token_hint(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (first, _) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;

    let req = AuthRequest::new(&client, "openid")
        .set("prompt", "none")
        .set("id_token_hint", first.id());
    let answer = oidc::authorize(&s, &s.client, &req).await;
    let code = answer.redirected_with("code").to_string();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    let claims = verify_jwt(&s, tokens.id()).await;
    check_id_token(&s, &claims, &client, &user);
    s.stop().await;
}

async fn oidcc_login_hint(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("login_hint", &user.username);
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    let identify = flow.page("/signin/identify");
    assert!(
        identify.html.contains(&format!(r#"value="{}""#, user.username)),
        "login_hint pre-fills the username:\n{}",
        identify.html
    );
    Tokens::of(&oidc::exchange(&s, &client, &flow.code(), None).await);
    s.stop().await;
}

async fn oidcc_ui_locales(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid").set("ui_locales", "se");
    signed_in(&s, &client, &user, &req).await;
    s.stop().await;
}

async fn oidcc_claims_locales(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid profile").set("claims_locales", "se");
    let (tokens, _) = signed_in(&s, &client, &user, &req).await;
    assert_eq!(oidc::userinfo(&s, tokens.access()).await.status, 200);
    s.stop().await;
}

async fn oidcc_ensure_request_with_acr_values_succeeds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    // What the suite sends: values the server need not know.
    let req = AuthRequest::new(&client, "openid").set("acr_values", "1 2");
    let (_, claims) = signed_in(&s, &client, &user, &req).await;
    assert_eq!(claims["acr"], "pwd");
    s.stop().await;
}

async fn oidcc_codereuse(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let code = flow.code();
    Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    oidc::exchange(&s, &client, &code, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}

async fn oidcc_codereuse_30seconds(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let code = flow.code();
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &code, None).await);
    assert!(oidc::is_active(&s, &client, tokens.access()).await);

    s.clock.advance(Duration::seconds(30));
    oidc::exchange(&s, &client, &code, None)
        .await
        .assert_oauth_error(400, "invalid_grant");
    // What the first use issued is revoked.
    assert!(!oidc::is_active(&s, &client, tokens.access()).await);
    oidc::assert_userinfo_refuses(&s, tokens.access()).await;
    oidc::refresh(&s, &client, tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
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

async fn oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let discovery = discovery(&s).await;
    assert_eq!(discovery["request_uri_parameter_supported"], false);
    let req = AuthRequest::new(&client, "openid").set("request_uri", "https://rp.clinic.example/request.jwt");
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert_eq!(answer.redirected_with("error"), "request_uri_not_supported");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

fn request_object(client: &Client, s: &TestServer, req: &AuthRequest, redirect_uri: &str) -> String {
    oidc::unsigned_jwt(&json!({
        "iss": client.id,
        "aud": oidc::issuer(s),
        "response_type": "code",
        "client_id": client.id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": req.get("state"),
        "nonce": req.get("nonce"),
    }))
}

async fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let discovery = discovery(&s).await;
    assert_eq!(discovery["request_parameter_supported"], false);
    let req = AuthRequest::new(&client, "openid");
    let object = request_object(&client, &s, &req, REDIRECT_URI);
    let req = req.set("request", &object);
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    assert_eq!(answer.redirected_with("error"), "request_not_supported");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

async fn oidcc_claims_essential(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let claims = json!({"userinfo": {"name": {"essential": true}}}).to_string();
    let req = AuthRequest::new(&client, "openid").set("claims", &claims);
    let (tokens, _) = signed_in(&s, &client, &user, &req).await;
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert!(
        info.body["name"].is_string(),
        "the essential claim is honoured: {:?}",
        info.body
    );
    s.stop().await;
}

async fn oidcc_ensure_request_object_with_redirect_uri(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let req = AuthRequest::new(&client, "openid");
    let elsewhere = "https://rp.clinic.example/elsewhere";
    let object = request_object(&client, &s, &req, elsewhere);
    let req = req.set("request", &object);
    let answer = oidc::authorize(&s, &oidc::browser(), &req).await;
    // Refused properly: to the registered redirect_uri, never to the one inside the object.
    assert_eq!(answer.redirected_with("error"), "request_not_supported");
    assert!(!answer.location.as_deref().unwrap_or("").starts_with(elsewhere));
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

async fn oidcc_refresh_token(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (tokens, first) = signed_in(&s, &client, &user, &AuthRequest::new(&client, "openid")).await;

    let reply = oidc::refresh(&s, &client, tokens.refresh()).await;
    let renewed = Tokens::of(&reply);
    assert_ne!(renewed.access(), tokens.access());
    assert_ne!(renewed.refresh(), tokens.refresh());
    if reply.body.get("id_token").is_some() {
        let again = verify_jwt(&s, renewed.id()).await;
        for claim in ["iss", "sub", "aud"] {
            assert_eq!(again[claim], first[claim], "{claim}");
        }
    }
    let info = oidc::userinfo(&s, renewed.access()).await;
    assert_eq!(info.body["sub"], user.id.as_str());

    // Bound to its client: another client cannot use it.
    let other = oidc::create_client(&s, "another rp", &["--pkce-optional"]).await;
    oidc::refresh(&s, &other, renewed.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
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
