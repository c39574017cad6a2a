//! What a client may get beyond its own sign-ins: the scopes client_credentials may
//! grant it and whether it may introspect others' tokens, as registered (issue 16,
//! findings 8 and 16).
use crate::on_each_backend;
use crate::support::oidc;
use crate::support::{Backend, stderr_of};
use serde_json::json;

on_each_backend!(
    oidc_client_scopes_and_introspection_rights_are_checked_at_registration,
);

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
