//! The console's edits beyond actions: a user's profile (refused where a SCIM client
//! owns it), an end date on access that disables at its moment, and the settings every
//! node reads from the database.
use crate::on_each_backend;
use crate::scim_support::{PATCH, Scim, USER};
use crate::support::console::{admin, console, events, get, group, post, start, user_page};
use crate::support::oidc;
use crate::support::{Backend, stderr_of};
use chrono::Duration;
use serde_json::json;

on_each_backend!(
    an_admin_edits_a_profile_unless_scim_owns_it,
    access_ends_at_its_moment,
    settings_are_stored_and_applied,
);

async fn an_admin_edits_a_profile_unless_scim_owns_it(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let nurse = oidc::create_user(&s, "nia.nurse").await;
    let (browser, _) = console(&s, &boss).await;
    let page = user_page(&s, &browser, &nurse).await;
    let path = format!("/admin/users/{}/profile", nurse.id);
    let fields = [
        ("given_name", "Nia"),
        ("family_name", "Adeyemi"),
        ("email", "nia.adeyemi@clinic.example"),
        ("title", "Staff nurse"),
        ("department", "Ward A"),
    ];
    let (status, saved) = post(&s, &browser, &page, &path, &fields).await;
    assert_eq!(status, 303, "{saved}");
    assert!(saved.contains("The profile is saved"), "{saved}");
    assert!(
        saved.contains("Nia Adeyemi") && saved.contains("Staff nurse"),
        "{saved}"
    );
    let shown = oidc::cli_ok(&s, &["user", "show", &nurse.username], None).await;
    assert_eq!(shown["email"], "nia.adeyemi@clinic.example", "{shown}");
    let changed = events(&s, "user.profile").await;
    assert_eq!(
        changed[0]["detail"]["changed"].as_array().map(Vec::len),
        Some(5),
        "{changed:?}"
    );
    assert_eq!(changed[0]["detail"]["email"]["from"], "nia.nurse@clinic.example");

    // An address another user has is refused, and nothing changes.
    let (status, taken) = post(&s, &browser, &saved, &path, &[("email", boss.email.as_str())]).await;
    assert_eq!(status, 400, "{taken}");
    let shown = oidc::cli_ok(&s, &["user", "show", &nurse.username], None).await;
    assert_eq!(shown["email"], "nia.adeyemi@clinic.example");

    // A user the HR feed provisioned: the page names it, and an edit is refused.
    let out = s.cli(&["scim-client", "create", "--name", "HR feed"], None).await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    let scim = Scim {
        s: &s,
        token: crate::support::json_of(&out)["token"]
            .as_str()
            .expect("token")
            .to_string(),
    };
    let made = scim
        .call(
            "POST",
            "/Users",
            Some(json!({ "schemas": [USER], "userName": "sam.porter" })),
            &[],
        )
        .await;
    assert_eq!(made.status, 201);
    let sam = oidc::User {
        id: made.body["id"].as_str().expect("id").to_string(),
        username: "sam.porter".into(),
        email: String::new(),
        password: String::new(),
    };
    let page = user_page(&s, &browser, &sam).await;
    assert!(page.contains("HR feed keeps this user"), "{page}");
    assert!(!page.contains("Edit profile"), "{page}");
    let path = format!("/admin/users/{}/profile", sam.id);
    let (status, refused) = post(&s, &browser, &page, &path, &[("given_name", "Samuel")]).await;
    assert_eq!(status, 400);
    assert!(refused.contains("HR feed keeps this user"), "{refused}");

    // A group admin who shares only one of a user's groups may not change the address
    // (the reset links would follow it).
    let north = group(&s, "north").await;
    group(&s, "south").await;
    let lead = oidc::create_user(&s, "gwen.lead").await;
    oidc::cli_ok(&s, &["group", "add-member", "north", &lead.username, "--admin"], None).await;
    oidc::cli_ok(&s, &["group", "add-member", "north", &nurse.username], None).await;
    oidc::cli_ok(&s, &["group", "add-member", "south", &nurse.username], None).await;
    let (lead_browser, _) = console(&s, &lead).await;
    let page = user_page(&s, &lead_browser, &nurse).await;
    let path = format!("/admin/users/{}/profile", nurse.id);
    let (status, _) = post(&s, &lead_browser, &page, &path, &[("email", "gwen@evil.example")]).await;
    assert_eq!(status, 403);
    let shown = oidc::cli_ok(&s, &["user", "show", &nurse.username], None).await;
    assert_eq!(shown["email"], "nia.adeyemi@clinic.example");
    assert!(!north.is_empty());
}

async fn access_ends_at_its_moment(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let locum = oidc::create_user(&s, "lee.locum").await;
    let app = oidc::create_client(&s, "rota", &[]).await;
    let tokens = oidc::login(&s, &oidc::browser(), &app, &locum, "openid").await;
    let (browser, _) = console(&s, &boss).await;
    let page = user_page(&s, &browser, &locum).await;
    assert!(page.contains("no end date"), "{page}");
    let path = format!("/admin/users/{}/access-until", locum.id);

    // Not in the past: that is what disabling is for.
    let past = (s.svc.now() - Duration::hours(1)).format("%Y-%m-%dT%H:%M").to_string();
    let (status, refused) = post(&s, &browser, &page, &path, &[("access_until", past.as_str())]).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("must be in the future"), "{refused}");

    let end = (s.svc.now() + Duration::days(3)).format("%Y-%m-%dT%H:%M").to_string();
    let (status, set) = post(&s, &browser, &page, &path, &[("access_until", end.as_str())]).await;
    assert_eq!(status, 303, "{set}");
    assert!(set.contains("The end of access is set"), "{set}");
    assert!(set.contains("(in 2 days)") || set.contains("(in 3 days)"), "{set}");
    assert!(oidc::refresh(&s, &app, tokens.refresh()).await.status == 200);

    // The moment passes: tokens refuse at once, and the sweep disables the user once.
    s.clock.advance(Duration::days(3) + Duration::minutes(1));
    let refused = oidc::refresh(&s, &app, tokens.refresh()).await;
    refused.assert_oauth_error(400, "invalid_grant");
    tessera::accounts::access_ends::end_due(&s.svc).await.expect("sweep");
    assert_eq!(tessera::accounts::access_ends::end_due(&s.svc).await.expect("sweep"), 0);
    let shown = oidc::cli_ok(&s, &["user", "show", &locum.username], None).await;
    assert_eq!(shown["state"], "disabled", "{shown}");
    let disabled = events(&s, "user.disable").await;
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(disabled[0]["actor_kind"], "system");
    // A feed that still lists the locum as active does not bring them back.
    let feed = Scim::register(&s, "HR feed", &[]).await;
    let patch = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "active", "value": true }] });
    let patched = feed
        .call("PATCH", &format!("/Users/{}", locum.id), Some(patch), &[])
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["active"], false);
    assert!(events(&s, "user.enable").await.is_empty());

    // Restoring clears the end that has passed, so the sweep does not undo it.
    let (browser, _) = console(&s, &boss).await;
    let page = user_page(&s, &browser, &locum).await;
    assert!(page.contains("(ended)"), "{page}");
    let restore = format!("/admin/users/{}/restore", locum.id);
    let (_, restored) = post(&s, &browser, &page, &restore, &[]).await;
    assert!(
        restored.contains("the end of access that had passed is cleared"),
        "{restored}"
    );
    assert_eq!(tessera::accounts::access_ends::end_due(&s.svc).await.expect("sweep"), 0);
    let shown = oidc::cli_ok(&s, &["user", "show", &locum.username], None).await;
    assert_eq!(shown["state"], "active", "{shown}");
}

async fn settings_are_stored_and_applied(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let (browser, _) = console(&s, &boss).await;
    let (status, page) = get(&s, &browser, "/admin/settings").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("value=\"12\""),
        "the configured password length shows: {page}"
    );
    let mut fields = vec![
        ("organisation_name", "North Clinics"),
        ("invite_lifetime_hours", "48"),
        ("reset_link_lifetime_hours", "2"),
        ("temporary_password_lifetime_hours", "24"),
        ("password_min_length", "16"),
        ("lockout_threshold", "101"),
        ("lockout_minutes", "15"),
        ("flags", "on"),
        ("admins_require_2fa", "on"),
    ];
    let (status, refused) = post(&s, &browser, &page, "/admin/settings", &fields).await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("Lockout threshold must be a whole number of attempts from 1 to 100"),
        "{refused}"
    );
    assert!(events(&s, "settings.update").await.is_empty());

    fields[5] = ("lockout_threshold", "4");
    let (status, saved) = post(&s, &browser, &refused, "/admin/settings", &fields).await;
    assert_eq!(status, 303, "{saved}");
    assert!(saved.contains("Saved."), "{saved}");
    let update = events(&s, "settings.update").await;
    let detail = &update[0]["detail"];
    assert_eq!(
        detail["password_min_length"],
        json!({ "from": 12, "to": 16 }),
        "{detail}"
    );
    assert_eq!(detail["lockout_threshold"], json!({ "from": 5, "to": 4 }));
    assert!(
        detail.get("lockout_minutes").is_none(),
        "unchanged values are not recorded: {detail}"
    );

    // Another process on the same database (the CLI) applies them.
    let out = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "ivy.short",
                "--email",
                "ivy@clinic.example",
                "--password-stdin",
            ],
            Some("fifteen chars!!\n"),
        )
        .await;
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("at least 16 characters"),
        "{}",
        stderr_of(&out)
    );
    // And this node, at once.
    assert_eq!(s.svc.settings().organisation_name, "North Clinics");
    assert_eq!(s.svc.settings().reset_link_lifetime, Duration::hours(2));

    // The test mail reports what the mail system said (here: files, no SMTP server).
    let (status, tested) = post(
        &s,
        &browser,
        &saved,
        "/admin/settings/test-mail",
        &[("to", "olu@clinic.example")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(tested.contains("Sent: <code>no SMTP server is set"), "{tested}");
    assert_eq!(events(&s, "mail.test").await.len(), 1);
    let (status, bad) = post(&s, &browser, &saved, "/admin/settings/test-mail", &[("to", "nobody")]).await;
    assert_eq!(status, 422);
    assert!(bad.contains("is not an email address"), "{bad}");
}
