//! One sign-in namespace with one rule: usernames compare by RFC 8265 (NFC, width,
//! case), characters nobody types are refused, and no username can be another
//! user's email, whichever path (SCIM, CLI) makes it.
use crate::on_each_backend;
use crate::scim_support::{Scim, nurse};
use crate::support::oidc::{self, AuthRequest, PASSWORD, Pkce};
use crate::support::{Backend, TestServer, stderr_of};
use serde_json::json;

on_each_backend!(
    look_alike_usernames_are_one_account,
    characters_nobody_types_are_refused,
    a_username_cannot_capture_another_users_email,
    a_user_provisioned_in_nfd_signs_in_typing_nfc,
);

const NFC: &str = "Jos\u{e9}";
const NFD: &str = "Jose\u{301}";

async fn look_alike_usernames_are_one_account(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    let id = scim.user(nurse(NFD, "jose@clinic.example")).await;
    let stored = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(stored.body["userName"], NFC, "stored in NFC");
    for twin in [NFC, "JOS\u{c9}", "jos\u{e9}"] {
        let r = scim.post("/Users", nurse(twin, "other@clinic.example")).await;
        assert_eq!(r.status, 409, "{twin:?}: {}", r.body);
        assert_eq!(r.body["scimType"], "uniqueness");
    }
    scim.user(nurse("alice", "alice@clinic.example")).await;
    for twin in ["\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}", "ALICE"] {
        assert_eq!(
            scim.post("/Users", nurse(twin, "a2@clinic.example")).await.status,
            409,
            "{twin:?}"
        );
    }
    // The same rule in a filter, and at the CLI.
    let q = url::form_urlencoded::byte_serialize(format!("userName eq \"{NFD}\"").as_bytes()).collect::<String>();
    let found = scim.get(&format!("/Users?filter={q}")).await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    let out = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "\u{ff21}lice",
                "--email",
                "a3@clinic.example",
            ],
            None,
        )
        .await;
    assert!(!out.status.success(), "fullwidth Alice is alice");
    let out = s.cli(&["user", "disable", "ALICE"], None).await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    s.stop().await;
}

async fn characters_nobody_types_are_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    for bad in [
        "ali\u{200b}ce",
        "ali\u{200d}ce",
        "ali\u{ad}ce",
        "\u{202e}ecila",
        "alice\u{feff}",
        "al\u{0}ice",
        "a  b",
    ] {
        let r = scim.post("/Users", nurse(bad, "x@clinic.example")).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidValue", "{bad:?}");
        if bad.contains('\u{0}') {
            continue; // no command line can carry a NUL
        }
        let out = s
            .cli(
                &["user", "create", "--username", bad, "--email", "y@clinic.example"],
                None,
            )
            .await;
        assert!(!out.status.success(), "CLI accepted {bad:?}");
        assert!(stderr_of(&out).contains("username"), "{}", stderr_of(&out));
    }
    // Spaces between parts are a name, as HR systems send them.
    scim.user(nurse("Camille Okafor", "c@clinic.example")).await;
    s.stop().await;
}

async fn a_username_cannot_capture_another_users_email(backend: Backend) {
    let s = oidc::start(backend).await;
    let victim = oidc::create_user(&s, "victim").await;
    oidc::cli_ok(&s, &["group", "create", "G"], None).await;
    let scoped = Scim::register(&s, "clinic G feed", &["G"]).await;
    // The victim is outside the client's scope; their address is still not its to take.
    for name in [victim.email.clone(), victim.email.to_uppercase()] {
        let r = scoped.post("/Users", nurse(&name, "attacker@evil.example")).await;
        assert_eq!(r.status, 409, "{name}: {}", r.body);
    }
    let id = scoped.user(nurse("innocent", "innocent@clinic.example")).await;
    let r = scoped
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "userName", "value": victim.email}]),
        )
        .await;
    assert_eq!(r.status, 409, "a rename is checked too: {}", r.body);
    let out = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                &victim.email,
                "--email",
                "z@clinic.example",
            ],
            None,
        )
        .await;
    assert!(!out.status.success(), "the CLI refuses it too");

    // The victim's email still signs the victim in.
    let client = oidc::create_client(&s, "portal", &[]).await;
    let by_email = oidc::User {
        username: victim.email.clone(),
        ..victim.clone()
    };
    let tokens = oidc::login(&s, &oidc::browser(), &client, &by_email, "openid").await;
    let info = oidc::userinfo(&s, tokens.access()).await;
    assert_eq!(info.body["sub"], victim.id.as_str());
    s.stop().await;
}

async fn a_user_provisioned_in_nfd_signs_in_typing_nfc(backend: Backend) {
    let s = oidc::start(backend).await;
    let scim = Scim::register_with(&s, "okta", &["--set-passwords"]).await;
    let mut body = nurse(NFD, "jose@clinic.example");
    body["password"] = json!(PASSWORD);
    let id = scim.user(body).await;
    let client = oidc::create_client(&s, "portal", &[]).await;
    for typed in [NFC, "jos\u{e9}", "\u{ff2a}os\u{e9}"] {
        let req = AuthRequest::new(&client, "openid").with_pkce(&Pkce::generate());
        let flow = oidc::sign_in(&s, &oidc::browser(), &req, typed, PASSWORD).await;
        assert!(
            flow.location.is_some(),
            "{typed:?} signs in: {:?}",
            flow.last_page().html
        );
    }
    let _ = id;
    s.stop().await;
}
