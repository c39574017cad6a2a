//! What a client may get beyond its own sign-ins: client_credentials grants only the
//! scopes it was registered with, and only a token's own client, its audience or a
//! registered resource server learns anything by introspecting it (issue 16, findings 8
//! and 16).
use crate::on_each_backend;
use crate::support::oidc::{self, Auth, Client, Tokens};
use crate::support::{Backend, TestServer, stderr_of};
use serde_json::json;

on_each_backend!(
    oidc_client_credentials_grants_only_registered_scopes,
    oidc_client_scopes_and_introspection_rights_are_checked_at_registration,
    oidc_introspection_answers_only_the_tokens_client_or_a_resource_server,
    oidc_token_endpoint_refuses_a_scope_longer_than_any_grant,
);

async fn client_credentials(s: &TestServer, client: &Client, scope: Option<&str>) -> oidc::Reply {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    oidc::token(s, Auth::Basic(client), &form).await
}

/// The scope the token response and the access token both state.
async fn granted(s: &TestServer, client: &Client, scope: Option<&str>) -> String {
    let reply = client_credentials(s, client, scope).await;
    let tokens = Tokens::of(&reply);
    let claims = oidc::verify_jwt(s, tokens.access()).await;
    assert_eq!(claims["scope"], reply.body["scope"], "{claims}");
    claims["scope"].as_str().expect("scope").to_string()
}

async fn oidc_client_credentials_grants_only_registered_scopes(backend: Backend) {
    let s = oidc::start(backend).await;
    let args = [
        "client",
        "create",
        "--name",
        "nightly export",
        "--grant",
        "client_credentials",
        "--scope",
        "scim:read",
        "--scope",
        "reports:read reports:export",
    ];
    let registered = oidc::cli_ok(&s, &args, None).await;
    assert_eq!(
        registered["scopes"],
        json!(["scim:read", "reports:read", "reports:export"]),
        "{registered}"
    );
    let service = Client {
        id: oidc::str_of(&registered, "client_id"),
        secret: Some(oidc::str_of(&registered, "client_secret")),
    };

    assert_eq!(
        granted(&s, &service, None).await,
        "scim:read reports:read reports:export",
        "no scope asked: the registered ones"
    );
    assert_eq!(granted(&s, &service, Some("reports:read")).await, "reports:read");
    assert_eq!(
        granted(&s, &service, Some("reports:export scim:read reports:export")).await,
        "reports:export scim:read"
    );
    for asked in [
        "admin scim:write",
        "scim:read admin",
        "SCIM:READ",
        "openid",
        "scim:read offline_access",
    ] {
        client_credentials(&s, &service, Some(asked))
            .await
            .assert_oauth_error(400, "invalid_scope");
    }
    let huge = "a".repeat(60_000);
    let reply = client_credentials(&s, &service, Some(&huge)).await;
    reply.assert_oauth_error(400, "invalid_scope");
    assert!(
        reply.body["error_description"].as_str().is_some_and(|d| d.len() < 200),
        "{:?}",
        reply.body
    );

    // Registered with none: it gets none, and may ask for nothing.
    let bare = oidc::create_client_with(&s, &["--name", "health probe", "--grant", "client_credentials"]).await;
    assert_eq!(granted(&s, &bare, None).await, "");
    client_credentials(&s, &bare, Some("scim:read"))
        .await
        .assert_oauth_error(400, "invalid_scope");
    s.stop().await;
}

async fn oidc_client_scopes_and_introspection_rights_are_checked_at_registration(backend: Backend) {
    let s = oidc::start(backend).await;
    let refused = |args: &'static [&'static str], why: &'static str| {
        let s = &s;
        async move {
            let mut all = vec!["client", "create", "--name", "refused"];
            all.extend_from_slice(args);
            let out = s.cli(&all, None).await;
            assert!(!out.status.success(), "{args:?} was accepted");
            assert!(stderr_of(&out).contains(why), "{args:?}: {}", stderr_of(&out));
        }
    };
    refused(
        &["--redirect-uri", oidc::REDIRECT_URI, "--scope", "reports:read"],
        "--grant client_credentials",
    )
    .await;
    refused(&["--grant", "client_credentials", "--scope", "openid"], "about a user").await;
    refused(&["--grant", "client_credentials", "--scope", "a\"b"], "printable ASCII").await;
    refused(
        &["--redirect-uri", oidc::REDIRECT_URI, "--public", "--introspect"],
        "public client cannot introspect",
    )
    .await;
    let many: Vec<String> = (0..100).map(|i| format!("--scope=reports:{i:0>20}")).collect();
    let mut args = vec!["client", "create", "--name", "refused", "--grant", "client_credentials"];
    args.extend(many.iter().map(String::as_str));
    let out = s.cli(&args, None).await;
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("1024 bytes"), "{}", stderr_of(&out));

    let listed = oidc::cli_ok(&s, &["client", "list"], None).await;
    assert_eq!(listed["clients"], json!([]), "nothing was registered");

    let api = oidc::cli_ok(
        &s,
        &[
            "client",
            "create",
            "--name",
            "rota api",
            "--grant",
            "client_credentials",
            "--introspect",
        ],
        None,
    )
    .await;
    assert_eq!(api["introspect"], true, "{api}");
    assert_eq!(api["scopes"], json!([]), "{api}");
    let web = oidc::cli_ok(
        &s,
        &[
            "client",
            "create",
            "--name",
            "ward rota",
            "--redirect-uri",
            oidc::REDIRECT_URI,
        ],
        None,
    )
    .await;
    assert_eq!(web["introspect"], false, "{web}");
    s.stop().await;
}

async fn oidc_introspection_answers_only_the_tokens_client_or_a_resource_server(backend: Backend) {
    let s = oidc::start(backend).await;
    let rota = oidc::create_client(&s, "ward rota", &[]).await;
    let other = oidc::create_client(&s, "canteen menu", &[]).await;
    let export = oidc::create_client_with(&s, &["--name", "nightly export", "--grant", "client_credentials"]).await;
    let api = oidc::create_client_with(
        &s,
        &["--name", "rota api", "--grant", "client_credentials", "--introspect"],
    )
    .await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let tokens = oidc::login(&s, &s.client, &rota, &user, "openid").await;
    let service = Tokens::of(&client_credentials(&s, &export, None).await);

    // Its own client sees each token.
    assert!(oidc::is_active(&s, &rota, tokens.access()).await);
    assert!(oidc::is_active(&s, &rota, tokens.refresh()).await);
    assert!(oidc::is_active(&s, &export, service.access()).await);

    // Another client, web app or service, learns nothing about them.
    for caller in [&other, &export] {
        for token in [tokens.access(), tokens.refresh()] {
            assert_eq!(oidc::introspect(&s, caller, token).await, json!({"active": false}));
        }
    }
    assert_eq!(
        oidc::introspect(&s, &other, service.access()).await,
        json!({"active": false})
    );

    // A resource server registered with --introspect sees access tokens, not refresh tokens.
    let seen = oidc::introspect(&s, &api, tokens.access()).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], rota.id.as_str(), "{seen}");
    assert_eq!(seen["sub"], user.id.as_str(), "{seen}");
    assert_eq!(oidc::introspect(&s, &api, service.access()).await["active"], true);
    assert_eq!(
        oidc::introspect(&s, &api, tokens.refresh()).await,
        json!({"active": false})
    );
    s.stop().await;
}

async fn oidc_token_endpoint_refuses_a_scope_longer_than_any_grant(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    let tokens = oidc::login(&s, &s.client, &client, &user, "openid").await;
    let huge = "openid ".repeat(10_000);
    let reply = oidc::token(
        &s,
        Auth::Basic(&client),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh()),
            ("scope", &huge),
        ],
    )
    .await;
    reply.assert_oauth_error(400, "invalid_scope");
    // Refused before use: the refresh token still works.
    Tokens::of(&oidc::refresh(&s, &client, tokens.refresh()).await);
    s.stop().await;
}
