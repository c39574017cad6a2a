//! Ending sessions: RP-initiated logout, with and without id_token_hint, and back-channel
//! logout tokens POSTed to the clients of the session.
use crate::on_each_backend;
use crate::support::oidc::{self, Answer, AuthRequest, Client, POST_LOGOUT_URI, Pkce, REDIRECT_URI, User};
use crate::support::{Backend, TestServer, eventually};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};

on_each_backend!(
    logout_with_id_token_hint_returns_to_the_registered_uri,
    unregistered_post_logout_redirect_uri_gets_an_error_page,
    logout_without_a_hint_asks_for_confirmation,
    backchannel_logout_token_is_posted_when_the_session_ends,
);

const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

async fn setup(backend: Backend) -> (TestServer, Client, User) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    (s, client, user)
}

/// GET /end_session in the server's browser.
async fn end_session(s: &TestServer, params: &[(&str, &str)]) -> Answer {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let url = format!("{}?{query}", s.url("/end_session"));
    Answer::of(s.client.get(url).send().await.expect("end_session")).await
}

/// prompt=none in the server's browser.
async fn silent(s: &TestServer, client: &Client) -> Answer {
    let req = AuthRequest::new(client, "openid")
        .with_pkce(&Pkce::generate())
        .set("prompt", "none");
    oidc::authorize(s, &s.client, &req).await
}

async fn assert_signed_out(s: &TestServer, client: &Client) {
    let answer = silent(s, client).await;
    assert_eq!(answer.redirected_with("error"), "login_required");
    assert_eq!(answer.param("code"), None);
}

async fn logout_with_id_token_hint_returns_to_the_registered_uri(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    silent(&s, &client).await.redirected_with("code");

    let answer = end_session(
        &s,
        &[
            ("id_token_hint", tokens.id()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "bye-123"),
        ],
    )
    .await;
    assert_eq!(answer.status, 303, "{answer:?}");
    let location = answer.location.as_deref().unwrap_or("");
    assert!(location.starts_with(POST_LOGOUT_URI), "{location}");
    assert_eq!(answer.param("state"), Some("bye-123"));

    assert_signed_out(&s, &client).await;
    // The session's grants end with it.
    oidc::refresh(&s, &client, tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}

async fn unregistered_post_logout_redirect_uri_gets_an_error_page(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    // Neither a stranger's address nor the client's redirect_uri (a different list).
    for uri in ["https://attacker.example/bye", REDIRECT_URI] {
        let answer = end_session(
            &s,
            &[
                ("id_token_hint", tokens.id()),
                ("post_logout_redirect_uri", uri),
                ("state", "x"),
            ],
        )
        .await;
        assert!((400..500).contains(&answer.status), "{uri}: {answer:?}");
        assert!(answer.headers.get("location").is_none(), "{uri}: never a redirect");
        assert!(!answer.body.is_empty());
    }
    s.stop().await;
}

async fn logout_without_a_hint_asks_for_confirmation(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    oidc::login(&s, &s.client, &client, &user, "openid").await;

    let page = end_session(&s, &[]).await;
    assert_eq!(page.status, 200, "{page:?}");
    let mut form = oidc::hidden_inputs(&page.body);
    assert!(form.iter().any(|(k, _)| k == "csrf"), "{}", page.body);
    // Showing the page ends nothing.
    silent(&s, &client).await.redirected_with("code");

    form.extend(oidc::named_buttons(&page.body));
    let here = url::Url::parse(&s.url("/end_session")).expect("URL");
    let target = match oidc::form_action(&page.body) {
        Some(action) => here.join(&action).expect("action"),
        None => here,
    };
    let res = s.client.post(target).form(&form).send().await.expect("confirm");
    assert!(res.status() == 200 || res.status() == 303, "{}", res.status());
    assert_signed_out(&s, &client).await;
    s.stop().await;
}

type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A relying party's back-channel logout endpoint: records content type and body of each POST.
async fn receiver() -> (String, Received) {
    async fn record(State(received): State<Received>, headers: HeaderMap, body: String) -> StatusCode {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        received.lock().expect("lock").push((content_type, body));
        StatusCode::OK
    }
    let received = Received::default();
    let app = axum::Router::new()
        .route("/bcl", axum::routing::post(record))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{addr}/bcl"), received)
}

async fn backchannel_logout_token_is_posted_when_the_session_ends(backend: Backend) {
    let s = oidc::start(backend).await;
    let (uri, received) = receiver().await;
    let client = oidc::create_client(&s, "ehr", &["--backchannel-logout-uri", &uri]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let id_claims = oidc::verify_jwt(&s, tokens.id()).await;
    assert!(
        received.lock().expect("lock").is_empty(),
        "nothing before the session ends"
    );

    let answer = end_session(
        &s,
        &[
            ("id_token_hint", tokens.id()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ],
    )
    .await;
    assert_eq!(answer.status, 303, "{answer:?}");
    eventually("a back-channel logout POST", || {
        let received = received.clone();
        async move { !received.lock().expect("lock").is_empty() }
    })
    .await;

    let (content_type, body) = received.lock().expect("lock")[0].clone();
    assert!(
        content_type.starts_with("application/x-www-form-urlencoded"),
        "{content_type}"
    );
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no logout_token in {body}"));
    let (header, _) = oidc::decode_jwt(&token);
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    let claims = oidc::verify_jwt(&s, &token).await;
    assert_eq!(claims["iss"], oidc::issuer(&s).as_str(), "{claims}");
    assert!(oidc::audience_has(&claims, &client.id), "{claims}");
    assert!(claims["iat"].is_i64(), "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()), "{claims}");
    // Discovery says backchannel_logout_session_supported, so every ID token names its
    // session (Back-Channel Logout 1.0 §2.1) and the logout token names the same one.
    let sid = id_claims["sid"].as_str().expect("the ID token always has sid");
    assert_eq!(claims["sid"], sid, "the session the ID token named: {claims}");
    // With sid present, sub is optional in a logout token (§2.4: sub, sid or both).
    if let Some(sub) = claims.get("sub") {
        assert_eq!(sub, user.id.as_str(), "{claims}");
    }
    assert!(claims["events"][BACKCHANNEL_EVENT].is_object(), "{claims}");
    assert!(claims.get("nonce").is_none(), "a logout token has no nonce: {claims}");
    s.stop().await;
}
