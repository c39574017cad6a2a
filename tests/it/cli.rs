use crate::on_each_backend;
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestServer, json_of, stderr_of};

on_each_backend!(
    user_lifecycle_beside_a_running_server,
    password_options_set_the_initial_state,
    groups_and_memberships,
    mail_test_delivers_through_smtp,
    mail_test_without_smtp_writes_a_file,
);

async fn user_lifecycle_beside_a_running_server(backend: Backend) {
    let s = TestServer::start(backend).await;
    let out = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "camilles",
                "--email",
                "cnurse@email.xyz",
                "--given-name",
                "Camille",
                "--family-name",
                "Nurse",
                "--temporary-password",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    let created = json_of(&out);
    let temporary = created["temporary_password"].as_str().expect("shown once");
    assert!(temporary.len() >= 12);
    assert_eq!(created["must_change_password"], true);
    let id = created["id"].as_str().expect("id").to_string();
    // The server sees the user the CLI created in the same database.
    let user = tessera::accounts::users::find(&s.svc, "CamilleS")
        .await
        .expect("found case-insensitively");
    assert_eq!(user.id.to_string(), id);
    assert!(user.password_hash.as_deref().is_some_and(|h| !h.contains(temporary)));

    for (args, message) in [
        (
            ["user", "create", "--username", "CAMILLES", "--email", "other@email.xyz"],
            "already taken",
        ),
        (
            ["user", "create", "--username", "other", "--email", "CNurse@Email.xyz"],
            "already used",
        ),
        (
            ["user", "create", "--username", "other", "--email", "not-an-email"],
            "not a valid email",
        ),
    ] {
        let out = s.cli(&args, None).await;
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "nothing on stdout on error");
        let err = stderr_of(&out);
        assert!(err.starts_with("error: ") && err.contains(message), "{err}");
    }

    let disabled = json_of(&s.cli(&["user", "disable", "camilles"], None).await);
    assert_eq!(disabled["state"], "disabled");
    let enabled = json_of(&s.cli(&["user", "enable", "camilles"], None).await);
    assert_eq!(enabled["state"], "active");
    let deleted = json_of(&s.cli(&["user", "delete", "camilles"], None).await);
    assert_eq!(deleted["deleted"], true);
    let missing = s.cli(&["user", "disable", "camilles"], None).await;
    assert!(!missing.status.success());
    assert!(stderr_of(&missing).contains("no user 'camilles'"));

    // Delete frees the username and the email at once.
    let again = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "camilles",
                "--email",
                "cnurse@email.xyz",
            ],
            None,
        )
        .await;
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_ne!(json_of(&again)["id"].as_str(), Some(id.as_str()));

    // The audit trail outlives the deleted user.
    let audit = json_of(&s.cli(&["audit", "list", "--target", &id], None).await);
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["user.delete", "user.enable", "user.disable", "user.create"]);
    assert!(
        audit["events"][0]["actor_label"]
            .as_str()
            .expect("label")
            .starts_with("cli:")
    );
    s.stop().await;
}

async fn password_options_set_the_initial_state(backend: Backend) {
    let s = TestServer::start(backend).await;
    let weak = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "marcus",
                "--email",
                "m@clinic.org",
                "--password-stdin",
            ],
            Some("marcus12345678\n"),
        )
        .await;
    assert!(!weak.status.success());
    assert!(stderr_of(&weak).contains("password:"), "{}", stderr_of(&weak));
    let empty = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "marcus",
                "--email",
                "m@clinic.org",
                "--password-stdin",
            ],
            Some(""),
        )
        .await;
    assert!(!empty.status.success());

    let chosen = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "marcus",
                "--email",
                "m@clinic.org",
                "--admin",
                "--password-stdin",
            ],
            Some("quiet river copper window\n"),
        )
        .await;
    assert!(chosen.status.success(), "{}", stderr_of(&chosen));
    let chosen = json_of(&chosen);
    assert_eq!(chosen["state"], "active");
    assert_eq!(chosen["role"], "admin");
    assert!(chosen.get("temporary_password").is_none());
    let login = tessera::accounts::login::check_password(
        &s.svc,
        "m@clinic.org",
        "quiet river copper window",
        &tessera::accounts::devices::DeviceCookie::from_browser(None),
        None,
    )
    .await;
    assert!(login.is_ok(), "the stdin password works (line ending stripped)");

    let invited = json_of(
        &s.cli(
            &["user", "create", "--username", "jamie", "--email", "j@clinic.org"],
            None,
        )
        .await,
    );
    assert_eq!(invited["state"], "invited");
    let both = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "x",
                "--email",
                "x@clinic.org",
                "--password-stdin",
                "--temporary-password",
            ],
            Some("p\n"),
        )
        .await;
    assert!(!both.status.success(), "the two password options exclude each other");
    s.stop().await;
}

async fn groups_and_memberships(backend: Backend) {
    let s = TestServer::start(backend).await;
    let g = json_of(&s.cli(&["group", "create", "North Clinic"], None).await);
    assert_eq!(g["name"], "North Clinic");
    let dup = s.cli(&["group", "create", "north clinic"], None).await;
    assert!(!dup.status.success());
    assert!(stderr_of(&dup).contains("already exists"));

    assert!(
        s.cli(
            &["user", "create", "--username", "hannah", "--email", "h@clinic.org"],
            None
        )
        .await
        .status
        .success()
    );
    let added = json_of(
        &s.cli(&["group", "add-member", "North Clinic", "hannah", "--admin"], None)
            .await,
    );
    assert_eq!(added["added"], true);
    assert_eq!(added["group_admin"], true);
    let again = json_of(&s.cli(&["group", "add-member", "north clinic", "HANNAH"], None).await);
    assert_eq!(again["added"], false, "adding an existing member changes nothing");

    let nobody = s.cli(&["group", "add-member", "North Clinic", "nobody"], None).await;
    assert!(!nobody.status.success());
    let nogroup = s.cli(&["group", "add-member", "South", "hannah"], None).await;
    assert!(stderr_of(&nogroup).contains("no group 'South'"));

    let user = tessera::accounts::users::find(&s.svc, "hannah").await.expect("user");
    assert_eq!(
        tessera::directory::groups_of(&s.svc, user.id).await.expect("groups"),
        ["North Clinic"]
    );
    s.stop().await;
}

async fn mail_test_delivers_through_smtp(backend: Backend) {
    let sink = SmtpSink::start().await;
    let s = TestServer::start(backend).await;
    let out = crate::support::run_cli(
        &s.db.url,
        &s.data_dir(),
        &["mail", "test", "--to", "it@clinic.example"],
        None,
        &[
            ("TESSERA_SMTP_URL", &sink.url()),
            ("TESSERA_MAIL_FROM", "Clinic IdP <idp@clinic.example>"),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    let result = json_of(&out);
    assert_eq!(result["status"], "sent");
    assert_eq!(result["attempts"], 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, ["it@clinic.example"]);
    assert!(messages[0].from.contains("idp@clinic.example"));
    assert!(messages[0].data.contains("Subject: Tessera test message"));
    assert!(messages[0].data.contains("mail settings work"));
    s.stop().await;
}

async fn mail_test_without_smtp_writes_a_file(backend: Backend) {
    let s = TestServer::start(backend).await;
    let out = s.cli(&["mail", "test", "--to", "it@clinic.example"], None).await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    let result = json_of(&out);
    assert_eq!(result["status"], "sent");
    let id = result["id"].as_str().expect("id");
    let file = s.data_dir().join("mail").join(format!("{id}.eml"));
    let eml = std::fs::read_to_string(&file).expect("eml written");
    assert!(eml.contains("To: it@clinic.example"));

    let bad = s.cli(&["mail", "test", "--to", "not an address"], None).await;
    assert!(!bad.status.success());
    assert!(stderr_of(&bad).contains("not a valid mail address"));
    s.stop().await;
}
