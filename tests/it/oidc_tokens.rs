//! The token endpoint and its neighbours: refresh rotation and reuse detection,
//! client_credentials, introspection (RFC 7662), revocation (RFC 7009), and errors.
use crate::on_each_backend;
use crate::support::oidc::{self, Auth, AuthRequest, Client, Pkce, Tokens, User};
use crate::support::{Backend, TestServer};
use serde_json::json;

on_each_backend!(
    refresh_tokens_rotate_and_a_reused_one_revokes_the_family,
    a_refresh_token_sent_twice_at_once_is_honoured_once,
    refresh_tokens_are_bound_to_their_client,
    client_credentials_give_a_jwt_access_token_for_the_client,
    every_token_issued_at_once_is_in_the_audit_log,
    introspection_tells_active_from_inactive_for_confidential_clients,
    revocation_ends_refresh_and_access_tokens,
    token_endpoint_errors_are_json_and_never_cached,
    rotated_keys_keep_old_tokens_valid,
    deleting_a_client_ends_its_tokens,
);

async fn setup(backend: Backend) -> (TestServer, Client, User) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    (s, client, user)
}

async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let first = oidc::login(&s, &s.client, &client, &user, "openid").await;

    let second = Tokens::of(&oidc::refresh(&s, &client, first.refresh()).await);
    assert_ne!(second.refresh(), first.refresh(), "a new refresh token each time");
    assert_ne!(second.access(), first.access());
    let third = Tokens::of(&oidc::refresh(&s, &client, second.refresh()).await);
    assert_ne!(third.refresh(), second.refresh());
    assert!(oidc::is_active(&s, &client, third.access()).await);
    assert_eq!(oidc::userinfo(&s, third.access()).await.status, 200);
    // Introspection tells a rotated refresh token from its live successor.
    assert!(!oidc::is_active(&s, &client, second.refresh()).await);
    assert!(oidc::is_active(&s, &client, third.refresh()).await);

    // The first one was used up; showing it again means it leaked: the family is revoked.
    oidc::refresh(&s, &client, first.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    oidc::refresh(&s, &client, third.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert!(!oidc::is_active(&s, &client, third.access()).await);
    oidc::assert_userinfo_refuses(&s, third.access()).await;
    s.stop().await;
}

async fn a_refresh_token_sent_twice_at_once_is_honoured_once(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let first = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let send = || oidc::refresh(&s, &client, first.refresh());
    let (a, b, c, d) = tokio::join!(send(), send(), send(), send());
    let replies = [a, b, c, d];
    let won: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one rotation wins: {:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for lost in replies.iter().filter(|r| r.status != 200) {
        assert_eq!((lost.status, lost.error()), (400, "invalid_grant"), "{:?}", lost.body);
    }
    // The losers were reuse: the family is revoked, the winner's tokens with it.
    let winner = Tokens::of(won[0]);
    oidc::refresh(&s, &client, winner.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    assert!(!oidc::is_active(&s, &client, winner.access()).await);
    s.stop().await;
}

async fn refresh_tokens_are_bound_to_their_client(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let other = oidc::create_client(&s, "pharmacy", &[]).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    oidc::refresh(&s, &other, tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}

async fn client_credentials_give_a_jwt_access_token_for_the_client(backend: Backend) {
    let s = oidc::start(backend).await;
    let service = oidc::create_client_with(&s, &["--name", "nightly export", "--grant", "client_credentials"]).await;
    let reply = oidc::token(&s, Auth::Basic(&service), &[("grant_type", "client_credentials")]).await;
    let tokens = Tokens::of(&reply);
    assert!(
        reply.body["expires_in"].as_i64().is_some_and(|e| e > 0),
        "{:?}",
        reply.body
    );
    assert!(reply.body.get("refresh_token").is_none(), "{:?}", reply.body);
    assert!(reply.body.get("id_token").is_none(), "{:?}", reply.body);

    let (header, _) = oidc::decode_jwt(tokens.access());
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(header["alg"], "ES256", "{header}");
    let claims = oidc::verify_jwt(&s, tokens.access()).await;
    assert_eq!(claims["iss"], oidc::issuer(&s).as_str());
    assert_eq!(claims["sub"], service.id.as_str(), "{claims}");
    assert_eq!(claims["client_id"], service.id.as_str(), "{claims}");
    assert!(oidc::audience_has(&claims, &service.id), "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()), "{claims}");
    let iat = claims["iat"].as_i64().expect("iat");
    assert!(claims["exp"].as_i64().is_some_and(|exp| exp > iat), "{claims}");

    let seen = oidc::introspect(&s, &service, tokens.access()).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], service.id.as_str(), "{seen}");

    // The issue is in the audit log before the token was handed out.
    let audit = oidc::cli_ok(&s, &["audit", "list", "--limit", "5"], None).await;
    let issued = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "token.issue")
        .unwrap_or_else(|| panic!("no token.issue event: {audit}"));
    assert_eq!(issued["actor_id"], service.id.as_str(), "{issued}");
    assert_eq!(issued["detail"]["grant_type"], "client_credentials", "{issued}");

    // A client without the grant may not use it.
    let web = oidc::create_client(&s, "ward rota", &[]).await;
    oidc::token(&s, Auth::Basic(&web), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(400, "unauthorized_client");
    s.stop().await;
}

/// Tokens asked for at once share audit commits (on SQLite, several in a row on the
/// one writer); each answered token's event is stored, with its own jti and time.
async fn every_token_issued_at_once_is_in_the_audit_log(backend: Backend) {
    let s = oidc::start(backend).await;
    let service = oidc::create_client_with(&s, &["--name", "nightly export", "--grant", "client_credentials"]).await;
    let form = [("grant_type", "client_credentials")];
    let replies = futures::future::join_all((0..80).map(|_| oidc::token(&s, Auth::Basic(&service), &form))).await;
    let issued: Vec<(String, i64)> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{:?}", r.body);
            let (_, claims) = oidc::decode_jwt(Tokens::of(r).access());
            (
                claims["jti"].as_str().expect("jti").to_string(),
                claims["iat"].as_i64().expect("iat"),
            )
        })
        .collect();

    let events = tessera::audit::recent(s.svc.store.reader(), None, 1000)
        .await
        .expect("audit");
    let logged: std::collections::HashMap<&str, i64> = events
        .iter()
        .filter(|e| e.action == "token.issue")
        .map(|e| {
            assert_eq!(e.actor_id.as_deref(), Some(service.id.as_str()), "{e:?}");
            let jti = e
                .detail
                .as_ref()
                .and_then(|d| d["jti"].as_str())
                .expect("jti in detail");
            (jti, e.at.timestamp())
        })
        .collect();
    assert_eq!(logged.len(), issued.len(), "one event per token");
    for (jti, iat) in &issued {
        assert_eq!(logged.get(jti.as_str()), Some(iat), "the event of {jti}, at its iat");
    }
    s.stop().await;
}

async fn introspection_tells_active_from_inactive_for_confidential_clients(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid email").await;

    let seen = oidc::introspect(&s, &client, tokens.access()).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["sub"], user.id.as_str(), "{seen}");
    assert_eq!(seen["client_id"], client.id.as_str(), "{seen}");
    let scope = seen["scope"].as_str().expect("scope");
    assert!(
        scope.split(' ').any(|x| x == "openid") && scope.split(' ').any(|x| x == "email"),
        "{seen}"
    );
    let iat = seen["iat"].as_i64().expect("iat");
    assert!(seen["exp"].as_i64().is_some_and(|exp| exp > iat), "{seen}");
    assert!(seen["token_type"].is_string(), "{seen}");
    // Optional in an introspection response (RFC 7662 §2.2).
    if let Some(name) = seen.get("username") {
        assert_eq!(name, user.username.as_str());
    }

    assert_eq!(
        oidc::introspect(&s, &client, "not-a-token").await,
        json!({"active": false})
    );
    let (header, payload) = oidc::decode_jwt(tokens.access());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(payload["sub"], user.id.as_str());

    // Public clients may not introspect; nor may anyone without credentials.
    let public = oidc::create_client(&s, "bedside tablet", &["--public"]).await;
    assert!(public.secret.is_none());
    let r = oidc::post_form(&s, "/introspect", Auth::Public(&public), &[("token", tokens.access())]).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    assert_eq!(r.error(), "invalid_client");
    let r = oidc::post_form(&s, "/introspect", Auth::Nothing, &[("token", tokens.access())]).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    let wrong = Client {
        id: client.id.clone(),
        secret: Some(format!("{}x", client.secret())),
    };
    let r = oidc::post_form(&s, "/introspect", Auth::Basic(&wrong), &[("token", tokens.access())]).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    s.stop().await;
}

async fn revocation_ends_refresh_and_access_tokens(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let r = oidc::revoke(&s, &client, tokens.refresh(), Some("refresh_token")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    oidc::refresh(&s, &client, tokens.refresh())
        .await
        .assert_oauth_error(400, "invalid_grant");

    let again = oidc::login(&s, &s.client, &client, &user, "openid").await;
    assert!(oidc::is_active(&s, &client, again.access()).await);
    let r = oidc::revoke(&s, &client, again.access(), Some("access_token")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(!oidc::is_active(&s, &client, again.access()).await);
    oidc::assert_userinfo_refuses(&s, again.access()).await;

    // Unknown tokens are answered like known ones (RFC 7009 §2.2).
    assert_eq!(oidc::revoke(&s, &client, "never-issued", None).await.status, 200);
    // Revocation needs the client's credentials.
    let r = oidc::post_form(&s, "/revoke", Auth::Nothing, &[("token", again.refresh())]).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    s.stop().await;
}

async fn token_endpoint_errors_are_json_and_never_cached(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let pkce = Pkce::generate();
    let req = AuthRequest::new(&client, "openid").with_pkce(&pkce);
    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    let code = flow.code();

    let wrong = Client {
        id: client.id.clone(),
        secret: Some(format!("{}x", client.secret())),
    };
    let r = oidc::exchange_with(&s, Auth::Basic(&wrong), &code, Some(&pkce.verifier)).await;
    r.assert_oauth_error(401, "invalid_client");
    assert!(!r.header("www-authenticate").is_empty(), "{r:?}");

    let other_verifier = Pkce::generate().verifier;
    oidc::exchange(&s, &client, &code, Some(&other_verifier))
        .await
        .assert_oauth_error(400, "invalid_grant");

    oidc::token(
        &s,
        Auth::Basic(&client),
        &[
            ("grant_type", "password"),
            ("username", user.username.as_str()),
            ("password", user.password.as_str()),
        ],
    )
    .await
    .assert_oauth_error(400, "unsupported_grant_type");
    oidc::token(&s, Auth::Basic(&client), &[("code", "x")])
        .await
        .assert_oauth_error(400, "invalid_request");
    oidc::exchange(&s, &client, "no-such-code", Some(&pkce.verifier))
        .await
        .assert_oauth_error(400, "invalid_grant");
    s.stop().await;
}

async fn rotated_keys_keep_old_tokens_valid(backend: Backend) {
    let s = oidc::start(backend).await;
    let service = oidc::create_client_with(&s, &["--name", "nightly export", "--grant", "client_credentials"]).await;
    let before = Tokens::of(&oidc::token(&s, Auth::Basic(&service), &[("grant_type", "client_credentials")]).await);

    let rotated = oidc::cli_ok(&s, &["keys", "rotate"], None).await;
    assert_eq!(rotated["added"].as_array().map(Vec::len), Some(3), "{rotated}");
    let listed = oidc::cli_ok(&s, &["keys", "list"], None).await;
    let keys = listed["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 6, "{listed}");
    assert_eq!(
        keys.iter().filter(|k| k["retired_at"].is_string()).count(),
        3,
        "{listed}"
    );

    // A token signed before the rotation stays good, and new tokens are issued.
    assert_eq!(oidc::introspect(&s, &service, before.access()).await["active"], true);
    let after = Tokens::of(&oidc::token(&s, Auth::Basic(&service), &[("grant_type", "client_credentials")]).await);
    assert_eq!(oidc::introspect(&s, &service, after.access()).await["active"], true);
    s.stop().await;
}

async fn deleting_a_client_ends_its_tokens(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let tokens = oidc::login(&s, &oidc::browser(), &client, &user, "openid profile").await;
    assert_eq!(oidc::userinfo(&s, tokens.access()).await.status, 200);

    let deleted = oidc::cli_ok(&s, &["client", "delete", &client.id], None).await;
    assert_eq!(deleted["deleted"], true, "{deleted}");
    assert_eq!(oidc::userinfo(&s, tokens.access()).await.status, 401);
    let refresh = oidc::token(
        &s,
        Auth::Basic(&client),
        &[("grant_type", "refresh_token"), ("refresh_token", tokens.refresh())],
    )
    .await;
    // Its grants went with it: the refresh token is refused at once, whether or not this
    // node has noticed the client is gone (it may have authenticated it in the last second).
    assert!(
        matches!(
            (refresh.status, refresh.error()),
            (400, "invalid_grant") | (401, "invalid_client")
        ),
        "{:?}",
        refresh.body
    );
    // Within a second every node has forgotten the client itself.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = oidc::token(
        &s,
        Auth::Basic(&client),
        &[("grant_type", "refresh_token"), ("refresh_token", tokens.refresh())],
    )
    .await;
    assert_eq!(later.status, 401, "{:?}", later.body);
    assert_eq!(later.error(), "invalid_client");
    s.stop().await;
}
