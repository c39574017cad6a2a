//! `/admin` through HTTP as admins use it: signing in through Tessera's own pages, the
//! user list, a user's page and its actions, and a group admin held to its groups with
//! every refusal audited.
use crate::on_each_backend;
use crate::support::Backend;
use crate::support::console::{admin, console, csrf_of, events, get, group, post, start, user_page};
use crate::support::oidc::{self, Credentials, PASSWORD, cli_ok, resume};
use chrono::Duration;

on_each_backend!(
    the_console_signs_in_through_the_sign_in_pages,
    the_user_list_searches_filters_and_pages,
    an_admin_acts_on_a_user,
    sensitive_actions_ask_for_the_admins_password_again,
    a_group_admin_is_held_to_its_groups,
);

async fn the_console_signs_in_through_the_sign_in_pages(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    // Not signed in: to the sign-in pages, as the console's client with PKCE.
    let res = oidc::browser().get(s.url("/admin/users")).send().await.expect("get");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/sign-in");
    let (browser, page) = console(&s, &boss).await;
    assert!(page.contains("<h1>Users</h1>"), "{page}");
    assert!(page.contains("olu.admin"), "{page}");

    // A member signs in fine but is told the console is not theirs.
    let nurse = oidc::create_user(&s, "nia.nurse").await;
    let other = oidc::browser();
    let flow = resume(
        &s,
        &other,
        &s.url("/admin"),
        &Credentials::new(&nurse.username, PASSWORD),
    )
    .await;
    assert_eq!(flow.status, 403, "{:?}", flow.paths());
    assert!(flow.last_page().html.contains("for administrators"));

    // A code replayed, or a state from elsewhere, opens nothing.
    let res = browser
        .get(s.url("/admin/signed-in?code=x&state=y"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 400);

    // Thirty idle minutes end the console; a sign-in older than that is asked for again.
    s.clock.advance(Duration::minutes(31));
    let res = browser.get(s.url("/admin/users")).send().await.expect("get");
    assert_eq!(res.status(), 303);
    let flow = resume(
        &s,
        &browser,
        &s.url("/admin"),
        &Credentials::new(&boss.username, PASSWORD),
    )
    .await;
    assert!(flow.saw("/signin/password"), "{:?}", flow.paths());
    assert!(flow.last_page().html.contains("<h1>Users</h1>"));

    // Signing out ends the console too.
    let (_, page) = get(&s, &browser, "/admin/users").await;
    post(&s, &browser, &page, "/account/sign-out", &[]).await;
    let res = browser.get(s.url("/admin/users")).send().await.expect("get");
    assert_eq!(res.status(), 303);
    s.stop().await;
}

async fn the_user_list_searches_filters_and_pages(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let group_id = group(&s, "North Clinic").await;
    for i in 0..55 {
        let name = format!("staff{i:02}");
        let (email, family) = (format!("{name}@clinic.example"), format!("Lee{i:02}"));
        let args = [
            "user",
            "create",
            "--username",
            &name,
            "--email",
            &email,
            "--given-name",
            "Sam",
            "--family-name",
            &family,
        ];
        cli_ok(&s, &args, None).await;
    }
    oidc::create_user(&s, "camille.okafor").await;
    cli_ok(&s, &["group", "add-member", "North Clinic", "camille.okafor"], None).await;
    cli_ok(&s, &["user", "disable", "staff07"], None).await;
    let (browser, page) = console(&s, &boss).await;
    assert!(page.contains("1–50 of 57 users"), "{page}");
    assert!(page.contains("rel=\"next\""));
    let (_, second) = get(&s, &browser, &next_link(&page)).await;
    assert!(second.contains("51–57 of 57 users"), "{second}");
    assert!(!second.contains("rel=\"next\""), "the last page: {second}");
    let (_, back) = get(&s, &browser, &previous_link(&second)).await;
    assert!(back.contains("1–50 of 57 users"), "{back}");
    assert!(!back.contains("rel=\"prev\""), "the first page again: {back}");

    // Words match the name, username or email, in any case, each word somewhere.
    let (_, found) = get(&s, &browser, "/admin/users?q=CAMILLE+okafor").await;
    assert!(found.contains("1–1 of 1 user"), "{found}");
    assert!(found.contains("camille.okafor@clinic.example"));
    let (_, none) = get(&s, &browser, "/admin/users?q=%25").await;
    assert!(none.contains("No users match"), "a literal % matches nothing: {none}");
    let (_, disabled) = get(&s, &browser, "/admin/users?state=disabled").await;
    assert!(
        disabled.contains("1–1 of 1 user") && disabled.contains("staff07"),
        "{disabled}"
    );
    let (_, invited) = get(&s, &browser, "/admin/users?state=invited&q=lee").await;
    assert!(invited.contains("of 54 users"), "{invited}");
    let (_, north) = get(&s, &browser, &format!("/admin/users?group={group_id}")).await;
    assert!(
        north.contains("1–1 of 1 user") && north.contains("North Clinic"),
        "{north}"
    );
    let (_, newest) = get(&s, &browser, "/admin/users?sort=newest").await;
    let first_row = newest.split("<li>").nth(1).expect("a row");
    assert!(first_row.contains("camille.okafor"), "{first_row}");
    // Each order pages through everyone exactly once.
    for sort in ["username", "name", "newest"] {
        let mut seen = std::collections::HashSet::new();
        let (_, mut at) = get(&s, &browser, &format!("/admin/users?sort={sort}")).await;
        // Bounded: a link that led back would otherwise page for ever.
        for _ in 0..5 {
            for row in at.split("<a href=\"/admin/users/").skip(1) {
                if row.get(36..37) == Some("\"") {
                    seen.insert(row[..36].to_string());
                }
            }
            if !at.contains("rel=\"next\"") {
                break;
            }
            at = get(&s, &browser, &next_link(&at)).await.1;
        }
        assert_eq!(seen.len(), 57, "sort={sort}");
        assert!(!at.contains("rel=\"next\""), "sort={sort} ends");
    }
    // Short words are found too, wildcards are letters, and a deleted user is gone.
    let (_, short) = get(&s, &browser, "/admin/users?q=ok+ca").await;
    assert!(short.contains("1–1 of 1 user"), "{short}");
    let (_, none) = get(&s, &browser, "/admin/users?q=staff_1").await;
    assert!(none.contains("No users match"), "a literal _ matches nothing: {none}");
    cli_ok(&s, &["user", "delete", "staff54"], None).await;
    let (_, gone) = get(&s, &browser, "/admin/users?q=staff54").await;
    assert!(gone.contains("No users match"), "{gone}");
    let (_, rest) = get(&s, &browser, "/admin/users?q=staff5").await;
    assert!(rest.contains("1–4 of 4 users"), "{rest}");
    // A hand-edited address shows the list, not an error.
    let (status, _) = get(&s, &browser, "/admin/users?after=abc&state=nonsense&group=zz").await;
    assert_eq!(status, 200);
    s.stop().await;
}

/// The address a page's link marked `rel` leads to.
fn link_of(page: &str, rel: &str) -> String {
    let end = page.find(&format!("\" rel=\"{rel}\"")).expect("a link");
    let start = page[..end].rfind("href=\"").expect("its address") + 6;
    page[start..end].replace("&#38;", "&").replace("&amp;", "&")
}

fn next_link(page: &str) -> String {
    link_of(page, "next")
}

fn previous_link(page: &str) -> String {
    link_of(page, "prev")
}

async fn an_admin_acts_on_a_user(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let nurse = oidc::create_user(&s, "nia.nurse").await;
    let app = oidc::create_client(&s, "ward rota", &[]).await;
    let tokens = oidc::login(&s, &oidc::browser(), &app, &nurse, "openid").await;
    let (browser, _) = console(&s, &boss).await;
    let page = user_page(&s, &browser, &nurse).await;
    assert!(page.contains("Created with the tessera command"), "{page}");
    assert!(
        page.contains("Last sign-in:") && !page.contains("Last sign-in: never"),
        "{page}"
    );

    // Without the form's CSRF token nothing happens.
    let res = browser
        .post(s.url(&format!("/admin/users/{}/disable", nurse.id)))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);

    let path = |action: &str| format!("/admin/users/{}/{action}", nurse.id);
    let (status, page) = post(&s, &browser, &page, &path("disable"), &[]).await;
    assert_eq!(status, 303);
    assert!(page.contains("Disabled: every sign-in ended"), "{page}");
    oidc::assert_access_ended(&s, &app, &tokens).await;
    assert!(page.contains("mail goes only to active users"), "{page}");
    let (_, page) = post(&s, &browser, &page, &path("restore"), &[]).await;
    assert!(page.contains("Restored"), "{page}");

    let (_, page) = post(&s, &browser, &page, &path("reset-link"), &[]).await;
    assert!(page.contains("A reset link is on its way"), "{page}");
    assert!(
        page.contains("link not opened yet"),
        "the mail shows with its link: {page}"
    );
    let (_, page) = post(&s, &browser, &page, &path("must-change"), &[]).await;
    assert!(page.contains("Must change password"), "{page}");
    let (_, page) = post(&s, &browser, &page, &path("no-must-change"), &[]).await;
    assert!(!page.contains("badge\">Must change password"), "{page}");

    // A temporary password, shown once, that works and must be changed.
    let (status, shown) = post(&s, &browser, &page, &path("temporary-password"), &[]).await;
    assert_eq!(status, 200, "{shown}");
    let temporary = shown
        .split("id=\"temporary-password\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("the password")
        .to_string();
    let flow = oidc::drive(
        &s,
        &oidc::browser(),
        &oidc::AuthRequest::new(&app, "openid").with_pkce(&oidc::Pkce::generate()),
        &Credentials::new(&nurse.username, &temporary),
    )
    .await;
    assert!(flow.saw("/signin/change-password"), "{:?}", flow.paths());
    assert!(events(&s, "user.password_temporary").await.len() == 1);
    assert!(!format!("{:?}", events(&s, "user.password_temporary").await).contains(&temporary));

    // Delete: only with the username typed; then the name is free again.
    let page = user_page(&s, &browser, &nurse).await;
    let (status, _) = post(&s, &browser, &page, &path("delete"), &[("confirm_username", "nia")]).await;
    assert_eq!(status, 400);
    let (status, done) = post(
        &s,
        &browser,
        &page,
        &path("delete"),
        &[("confirm_username", "nia.nurse")],
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("free to use again"));
    assert_eq!(get(&s, &browser, path("").trim_end_matches('/')).await.0, 404);
    oidc::create_user(&s, "nia.nurse").await;

    // Groups and role, from the user's page.
    let other = oidc::create_user(&s, "ola.other").await;
    let north = group(&s, "North Clinic").await;
    let page = user_page(&s, &browser, &other).await;
    let groups = format!("/admin/users/{}/groups", other.id);
    let (_, page) = post(&s, &browser, &page, &groups, &[("group", &north)]).await;
    assert!(
        page.contains("The groups are saved") && page.contains("<dd>North Clinic</dd>"),
        "{page}"
    );
    let (_, page) = post(&s, &browser, &page, &groups, &[]).await;
    assert!(page.contains("<dt>Groups</dt><dd>none</dd>"), "{page}");
    let role = format!("/admin/users/{}/role", other.id);
    let (_, page) = post(&s, &browser, &page, &role, &[("role", "admin")]).await;
    assert!(page.contains("Admin (manages everyone)</dd>"), "{page}");
    assert_eq!(events(&s, "user.role").await.len(), 1);

    // Its own account: not disabled or deleted from here.
    let own = format!("/admin/users/{}/disable", boss.id);
    let page = user_page(&s, &browser, &boss).await;
    let (status, _) = post(&s, &browser, &page, &own, &[]).await;
    assert_eq!(status, 403);
    assert_eq!(events(&s, "console.refused").await.len(), 1);
    s.stop().await;
}

async fn sensitive_actions_ask_for_the_admins_password_again(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let nurse = oidc::create_user(&s, "nia.nurse").await;
    let (browser, _) = console(&s, &boss).await;
    s.clock.advance(Duration::minutes(6));
    let page = user_page(&s, &browser, &nurse).await;
    assert!(page.contains("ask for your own password"), "{page}");
    let reset = format!("/admin/users/{}/reset-2fa", nurse.id);
    let (_, page) = post(&s, &browser, &page, &reset, &[]).await;
    assert!(page.contains("Your own password was not right"), "{page}");
    let (_, page) = post(&s, &browser, &page, &reset, &[("current_password", "not it at all")]).await;
    assert!(page.contains("Your own password was not right"), "{page}");
    assert!(events(&s, "user.second_factor_reset").await.is_empty());
    let (_, page) = post(&s, &browser, &page, &reset, &[("current_password", PASSWORD)]).await;
    assert!(page.contains("Two-step sign-in is reset"), "{page}");
    s.stop().await;
}

async fn a_group_admin_is_held_to_its_groups(backend: Backend) {
    let s = start(backend).await;
    let boss = admin(&s, "olu.admin").await;
    let north_id = group(&s, "North Clinic").await;
    let south_id = group(&s, "South Clinic").await;
    let lead = oidc::create_user(&s, "gale.lead").await;
    cli_ok(
        &s,
        &["group", "add-member", "North Clinic", "gale.lead", "--admin"],
        None,
    )
    .await;
    let north = oidc::create_user(&s, "nora.north").await;
    cli_ok(&s, &["group", "add-member", "North Clinic", "nora.north"], None).await;
    let south = oidc::create_user(&s, "sam.south").await;
    cli_ok(&s, &["group", "add-member", "South Clinic", "sam.south"], None).await;
    cli_ok(&s, &["group", "add-member", "North Clinic", "olu.admin"], None).await;
    let (browser, page) = console(&s, &lead).await;
    assert!(page.contains("group admin of North Clinic"), "{page}");
    assert!(page.contains("nora.north"), "{page}");
    assert!(
        !page.contains("sam.south") && !page.contains("olu.admin@"),
        "only its reach: {page}"
    );
    assert!(!page.contains("South Clinic"), "only its groups are offered: {page}");
    let page = user_page(&s, &browser, &north).await;
    let (_, page) = post(&s, &browser, &page, &format!("/admin/users/{}/disable", north.id), &[]).await;
    assert!(page.contains("Disabled"), "{page}");

    // Past the page: another group's user, an admin, a group it does not hold, a role.
    for target in [&south, &boss] {
        assert_eq!(get(&s, &browser, &format!("/admin/users/{}", target.id)).await.0, 403);
        let (status, _) = post(&s, &browser, &page, &format!("/admin/users/{}/disable", target.id), &[]).await;
        assert_eq!(status, 403);
    }
    let create = |group: String, role: &'static str| {
        vec![
            ("username".to_string(), format!("new.{}", oidc::random())),
            ("email".to_string(), format!("{}@clinic.example", oidc::random())),
            ("how".to_string(), "invite".to_string()),
            ("role".to_string(), role.to_string()),
            ("group".to_string(), group),
        ]
    };
    let submit = |fields: Vec<(String, String)>| {
        let (s, browser, page) = (&s, &browser, page.clone());
        async move {
            let mut form = vec![("csrf".to_string(), csrf_of(&page))];
            form.extend(fields);
            let res = browser
                .post(s.url("/admin/users/new"))
                .form(&form)
                .send()
                .await
                .expect("post");
            res.status().as_u16()
        }
    };
    assert_eq!(submit(create(south_id.clone(), "member")).await, 403);
    assert_eq!(submit(create(north_id.clone(), "admin")).await, 403);
    assert_eq!(submit(create(north_id.clone(), "member")).await, 303);
    // Nor on a user's page: a group it does not hold, or the admin role.
    let page = user_page(&s, &browser, &north).await;
    let groups = format!("/admin/users/{}/groups", north.id);
    let (status, _) = post(&s, &browser, &page, &groups, &[("group", &south_id)]).await;
    assert_eq!(status, 403);
    let role = format!("/admin/users/{}/role", north.id);
    let (status, _) = post(&s, &browser, &page, &role, &[("role", "admin")]).await;
    assert_eq!(status, 403);
    let (status, page) = post(&s, &browser, &page, &groups, &[("group", &north_id)]).await;
    assert_eq!(status, 303, "{page}");
    // A user also in another group: not handed over by one group's admin.
    let both = oidc::create_user(&s, "bo.both").await;
    cli_ok(&s, &["group", "add-member", "North Clinic", "bo.both"], None).await;
    cli_ok(&s, &["group", "add-member", "South Clinic", "bo.both"], None).await;
    let page = user_page(&s, &browser, &both).await;
    let temporary = format!("/admin/users/{}/temporary-password", both.id);
    let (status, _) = post(&s, &browser, &page, &temporary, &[]).await;
    assert_eq!(status, 403);
    let refused = events(&s, "console.refused").await;
    assert_eq!(refused.len(), 9, "{refused:?}");
    assert!(refused.iter().any(|e| e["detail"]["reason"] == "other_groups"));
    assert!(refused.iter().any(|e| e["detail"]["reason"] == "group_not_held"));
    assert!(refused.iter().any(|e| e["detail"]["reason"] == "role_above"));
    assert!(refused.iter().any(|e| e["target_id"] == south.id.as_str()));
    s.stop().await;
}
