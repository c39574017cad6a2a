//! The hosted sign-in: its steps, what it tells (and does not tell) the user, who may pass,
//! the SSO session cookie, and authorization requests it refuses.
use crate::on_each_backend;
use crate::support::oidc::{
    self, AuthRequest, Client, Credentials, PASSWORD, Pkce, REDIRECT_URI, SESSION_COOKIE, Tokens, User,
    WRONG_CREDENTIALS,
};
use crate::support::{Backend, TestServer};
use reqwest::cookie::CookieStore;
use std::sync::Arc;

on_each_backend!(
    wrong_password_and_unknown_user_get_the_same_generic_error,
    each_step_answers_with_the_next_steps_page,
    sign_in_fields_carry_autocomplete_attributes,
    temporary_password_must_be_changed_before_any_code,
    disabled_user_cannot_sign_in,
    client_limited_to_a_group_admits_only_its_members,
    consent_client_asks_for_consent,
    session_cookie_is_http_only_lax_and_renewed_at_sign_in,
    request_objects_are_refused_by_redirect,
    unregistered_redirect_uri_gets_a_page_and_no_redirect,
    behind_a_trusted_proxy_each_client_address_has_its_own_sign_in_budget,
);

async fn setup(backend: Backend) -> (TestServer, Client, User) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;
    (s, client, user)
}

fn request(client: &Client) -> (AuthRequest, Pkce) {
    let pkce = Pkce::generate();
    (AuthRequest::new(client, "openid").with_pkce(&pkce), pkce)
}

/// Asserts the sign-in stopped at the password step with the generic message, no answer sent.
fn assert_refused_at_password(flow: &oidc::Flow) {
    assert!(flow.location.is_none(), "no answer to the client: {:?}", flow.location);
    let page = flow.last_page();
    assert_eq!(page.path, "/signin/password", "{:?}", flow.paths());
    assert_eq!(page.status, 200);
    assert!(page.html.contains(WRONG_CREDENTIALS), "{}", page.html);
}

async fn wrong_password_and_unknown_user_get_the_same_generic_error(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (req, _) = request(&client);

    let wrong = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, "not the right pass phrase").await;
    assert_refused_at_password(&wrong);
    // An unknown user goes through the same steps and reads the same words.
    let unknown = oidc::sign_in(&s, &oidc::browser(), &req, "nobody.at.all", PASSWORD).await;
    assert_eq!(unknown.paths(), wrong.paths());
    assert_refused_at_password(&unknown);
    assert_eq!(unknown.last_page().status, wrong.last_page().status);

    // The right password still works afterwards.
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    flow.code();
    s.stop().await;
}

/// No redirect between the steps: each would cost staff on a slow clinic link a round trip.
async fn each_step_answers_with_the_next_steps_page(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (req, _) = request(&client);
    let browser = oidc::browser();
    let post = async |page: &oidc::Answer, field: &str, value: &str| {
        let action = oidc::form_action(&page.body).expect("a form with an action");
        let mut form = oidc::hidden_inputs(&page.body);
        form.push((field.to_string(), value.to_string()));
        let res = browser
            .post(s.url(&action))
            .form(&form)
            .send()
            .await
            .expect("post a step");
        oidc::Answer::of(res).await
    };

    let identify = oidc::authorize(&s, &browser, &req).await;
    assert_eq!(identify.status, 200, "{identify:?}");
    assert_eq!(oidc::form_action(&identify.body).as_deref(), Some("/signin/identify"));
    let password = post(&identify, "username", &user.username).await;
    assert_eq!(password.status, 200, "{password:?}");
    assert_eq!(oidc::form_action(&password.body).as_deref(), Some("/signin/password"));
    assert!(password.body.contains(&user.username), "{}", password.body);
    // Each step's page is still at its own address ("Not you?" links to the first).
    let handle = oidc::sign_in_handle(&password.body).expect("the sign-in's handle");
    for step in ["identify", "password"] {
        let again = browser
            .get(s.url(&format!("/signin/{step}?r={handle}")))
            .send()
            .await
            .expect("a step's page");
        assert_eq!(again.status(), 200, "{step}");
    }
    let done = post(&password, "password", &user.password).await;
    assert!(!done.redirected_with("code").is_empty());
    s.stop().await;
}

async fn sign_in_fields_carry_autocomplete_attributes(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (req, _) = request(&client);
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    let identify = &flow.page("/signin/identify").html;
    assert!(identify.contains(r#"name="username""#), "{identify}");
    assert!(identify.contains(r#"autocomplete="username""#), "{identify}");
    let password = &flow.page("/signin/password").html;
    assert!(password.contains(r#"name="password""#), "{password}");
    assert!(password.contains(r#"type="password""#), "{password}");
    assert!(password.contains(r#"autocomplete="current-password""#), "{password}");
    // Plain forms: the driver, which runs no JavaScript, got through them. Each form's
    // answer may redirect to the client, which browsers check against form-action.
    for page in &flow.pages {
        assert!(page.html.contains(r#"<form method="post""#), "{}", page.html);
        assert!(
            page.csp.contains("form-action 'self' https://rp.clinic.example;"),
            "{}",
            page.csp
        );
    }
    flow.code();
    s.stop().await;
}

async fn temporary_password_must_be_changed_before_any_code(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user_with_temporary_password(&s, "new.starter").await;
    let (req, pkce) = request(&client);

    let flow = oidc::sign_in(&s, &s.client, &req, &user.username, &user.password).await;
    assert!(
        flow.location.is_none(),
        "no code before the change: {:?}",
        flow.location
    );
    let change = flow.last_page().clone();
    assert_eq!(change.path, "/signin/change-password", "{:?}", flow.paths());
    assert_eq!(change.status, 200);
    assert!(change.html.contains(r#"name="password""#), "{}", change.html);
    assert!(change.html.contains(r#"name="password_confirm""#), "{}", change.html);
    assert!(
        change.html.contains(r#"autocomplete="new-password""#),
        "{}",
        change.html
    );

    // Half signed in is not signed in: no code without a page either.
    let silent = req.clone().set("prompt", "none").set("state", "silent");
    let answer = oidc::authorize(&s, &s.client, &silent).await;
    assert_eq!(answer.redirected_with("error"), "login_required");
    assert_eq!(answer.param("code"), None);

    // The password policy applies here too.
    let weak = Credentials {
        new_password: Some("password1234"),
        ..Credentials::new(&user.username, &user.password)
    };
    let refused = oidc::resume(&s, &s.client, &change.url, &weak).await;
    assert!(refused.location.is_none(), "{:?}", refused.location);
    let page = refused.last_page();
    assert_eq!(page.path, "/signin/change-password");
    assert_eq!(page.status, 200);
    assert!(page.html.contains("too common"), "{}", page.html);

    // The temporary password itself is no new password.
    let same = Credentials {
        new_password: Some(&user.password),
        ..Credentials::new(&user.username, &user.password)
    };
    let kept = oidc::resume(&s, &s.client, &change.url, &same).await;
    assert!(kept.location.is_none(), "{:?}", kept.location);
    let page = kept.last_page();
    assert_eq!(page.path, "/signin/change-password");
    assert!(page.html.contains("different from the current one"), "{}", page.html);

    let chosen = "violet orchard under snow";
    let strong = Credentials {
        new_password: Some(chosen),
        ..Credentials::new(&user.username, &user.password)
    };
    let done = oidc::resume(&s, &s.client, &change.url, &strong).await;
    assert_eq!(done.param("state"), req.get("state"));
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &done.code(), Some(&pkce.verifier)).await);
    let claims = oidc::verify_jwt(&s, tokens.id()).await;
    assert_eq!(claims["sub"], user.id.as_str());

    // From now on the chosen password signs in, and the temporary one does not.
    let (req, _) = request(&client);
    let again = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, chosen).await;
    assert!(!again.saw("/signin/change-password"));
    again.code();
    let old = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    assert_refused_at_password(&old);
    s.stop().await;
}

async fn disabled_user_cannot_sign_in(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let (req, _) = request(&client);
    oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password)
        .await
        .code();

    oidc::cli_ok(&s, &["user", "disable", &user.username], None).await;
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    assert_refused_at_password(&flow);

    oidc::cli_ok(&s, &["user", "enable", &user.username], None).await;
    oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password)
        .await
        .code();
    s.stop().await;
}

async fn client_limited_to_a_group_admits_only_its_members(backend: Backend) {
    let s = oidc::start(backend).await;
    oidc::cli_ok(&s, &["group", "create", "ward-3"], None).await;
    let member = oidc::create_user(&s, "ward3.nurse").await;
    let outsider = oidc::create_user(&s, "ward5.nurse").await;
    let added = oidc::cli_ok(&s, &["group", "add-member", "ward-3", &member.username], None).await;
    assert_eq!(added["added"], true, "{added}");
    let client = oidc::create_client(&s, "ward 3 board", &["--group", "ward-3"]).await;

    let (req, _) = request(&client);
    let refused = oidc::sign_in(&s, &oidc::browser(), &req, &outsider.username, &outsider.password).await;
    assert!(
        refused.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT_URI)),
        "{refused:?}"
    );
    assert_eq!(refused.error(), Some("access_denied"));
    assert_eq!(refused.param("state"), req.get("state"));
    assert_eq!(refused.param("code"), None);

    let (req, pkce) = request(&client);
    let admitted = oidc::sign_in(&s, &oidc::browser(), &req, &member.username, &member.password).await;
    let tokens = Tokens::of(&oidc::exchange(&s, &client, &admitted.code(), Some(&pkce.verifier)).await);
    assert_eq!(oidc::verify_jwt(&s, tokens.id()).await["sub"], member.id.as_str());
    s.stop().await;
}

async fn consent_client_asks_for_consent(backend: Backend) {
    let s = oidc::start(backend).await;
    let client = oidc::create_client(&s, "outside lab", &["--consent"]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;

    let (req, _) = request(&client);
    let deny = Credentials {
        consent: "deny",
        ..Credentials::new(&user.username, &user.password)
    };
    let denied = oidc::drive(&s, &oidc::browser(), &req, &deny).await;
    assert!(denied.saw("/signin/consent"), "{:?}", denied.paths());
    assert_eq!(denied.error(), Some("access_denied"));
    assert_eq!(denied.param("state"), req.get("state"));
    assert_eq!(denied.param("code"), None);

    let (req, pkce) = request(&client);
    let allowed = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    assert_eq!(
        allowed.paths(),
        ["/signin/identify", "/signin/password", "/signin/consent"]
    );
    assert!(allowed.page("/signin/consent").html.contains(r#"name="decision""#));
    Tokens::of(&oidc::exchange(&s, &client, &allowed.code(), Some(&pkce.verifier)).await);

    // First-party clients (no --consent) skip the step.
    let first_party = oidc::create_client(&s, "ward rota", &[]).await;
    let (req, _) = request(&first_party);
    let flow = oidc::sign_in(&s, &oidc::browser(), &req, &user.username, &user.password).await;
    assert!(!flow.saw("/signin/consent"), "{:?}", flow.paths());
    flow.code();
    s.stop().await;
}

async fn session_cookie_is_http_only_lax_and_renewed_at_sign_in(backend: Backend) {
    let (s, client, user) = setup(backend).await;
    let base = url::Url::parse(&s.base).expect("base");
    // A session id planted before sign-in (session fixation) must not survive it.
    let planted = "planted-by-someone-else";
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&format!("{SESSION_COOKIE}={planted}; Path=/"), &base);
    let browser = oidc::browser_with(jar.clone());

    let (req, _) = request(&client);
    let flow = oidc::sign_in(&s, &browser, &req, &user.username, &user.password).await;
    flow.code();
    let set = flow.session_cookie().expect("a session cookie is set at sign-in");
    let attributes = set.to_ascii_lowercase();
    assert!(attributes.contains("httponly"), "{set}");
    assert!(attributes.contains("samesite=lax"), "{set}");
    assert!(attributes.contains("path=/"), "{set}");
    let first = oidc::cookie_value(set).to_string();
    assert!(!first.is_empty() && first != planted, "{set}");
    let held = jar.cookies(&base).expect("cookies");
    assert!(
        held.to_str()
            .expect("ascii")
            .contains(&format!("{SESSION_COOKIE}={first}")),
        "{held:?}"
    );

    // Signing in again (prompt=login) gives a new session id.
    let (req, _) = request(&client);
    let again = oidc::sign_in(
        &s,
        &browser,
        &req.set("prompt", "login"),
        &user.username,
        &user.password,
    )
    .await;
    assert!(again.saw("/signin/password"), "{:?}", again.paths());
    again.code();
    let second = oidc::cookie_value(again.session_cookie().expect("a new session cookie")).to_string();
    assert!(!second.is_empty() && second != first, "{first} then {second}");

    // And that session is what keeps the user signed in.
    let (req, _) = request(&client);
    let silent = oidc::authorize(&s, &browser, &req.set("prompt", "none")).await;
    silent.redirected_with("code");
    s.stop().await;
}

async fn request_objects_are_refused_by_redirect(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let (req, _) = request(&client);
    let object = oidc::unsigned_jwt(&serde_json::json!({
        "client_id": client.id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": REDIRECT_URI,
    }));
    let answer = oidc::authorize(&s, &oidc::browser(), &req.clone().set("request", &object)).await;
    assert_eq!(answer.redirected_with("error"), "request_not_supported");
    assert_eq!(answer.param("state"), req.get("state"));
    assert!(answer.param("error_description").is_some(), "{answer:?}");
    assert_eq!(answer.param("code"), None);

    let by_reference = req.clone().set("request_uri", "https://rp.clinic.example/request.jwt");
    let answer = oidc::authorize(&s, &oidc::browser(), &by_reference).await;
    assert_eq!(answer.redirected_with("error"), "request_uri_not_supported");
    assert_eq!(answer.param("state"), req.get("state"));
    assert_eq!(answer.param("code"), None);
    s.stop().await;
}

async fn unregistered_redirect_uri_gets_a_page_and_no_redirect(backend: Backend) {
    let (s, client, _) = setup(backend).await;
    let (req, _) = request(&client);
    let unknown_client = req.clone().set("client_id", "no-such-client");
    for bad in [
        req.clone().set("redirect_uri", "https://attacker.example/callback"),
        req.clone().set("redirect_uri", &format!("{REDIRECT_URI}/more")),
        req.clone()
            .set("redirect_uri", &format!("{REDIRECT_URI}?next=https://attacker.example")),
        unknown_client,
    ] {
        let answer = oidc::authorize(&s, &oidc::browser(), &bad).await;
        assert_eq!(answer.status, 400, "{:?}: {answer:?}", bad.params);
        assert!(
            answer.headers.get("location").is_none(),
            "{:?}: never a redirect",
            bad.params
        );
        assert!(!answer.body.is_empty(), "an explanation for the user");
    }
    s.stop().await;
}

async fn behind_a_trusted_proxy_each_client_address_has_its_own_sign_in_budget(backend: Backend) {
    let s = oidc::start_with(backend, |c| {
        c.sign_in_per_minute = std::num::NonZeroU32::new(2).expect("non-zero");
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
    })
    .await;
    let client = oidc::create_client(&s, "ward rota", &[]).await;
    let user = oidc::create_user(&s, "camille.okafor").await;

    let guesser = oidc::browser_from("203.0.113.5");
    for _ in 0..2 {
        let (req, _) = request(&client);
        let flow = oidc::sign_in(&s, &guesser, &req, &user.username, "not the password").await;
        assert_refused_at_password(&flow);
    }
    let (req, _) = request(&client);
    let flow = oidc::sign_in(&s, &guesser, &req, &user.username, PASSWORD).await;
    assert_eq!(
        flow.status,
        429,
        "the third attempt from 203.0.113.5: {:?}",
        flow.paths()
    );

    // Another clinic behind the same proxy is not held up by the first one's guesses.
    let colleague = oidc::browser_from("198.51.100.7");
    let (req, _) = request(&client);
    let flow = oidc::sign_in(&s, &colleague, &req, &user.username, PASSWORD).await;
    assert!(!flow.code().is_empty(), "{:?}", flow.paths());

    // The audit trail names the client's address, not the proxy's.
    let events = oidc::cli_ok(&s, &["audit", "list", "--limit", "50"], None).await;
    let sources: Vec<(&str, &str)> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("login.")))
        .map(|e| {
            (
                e["outcome"].as_str().unwrap_or(""),
                e["source_ip"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(sources.contains(&("failure", "203.0.113.5")), "{sources:?}");
    assert!(sources.contains(&("success", "198.51.100.7")), "{sources:?}");
    assert!(!sources.iter().any(|(_, ip)| *ip == "127.0.0.1"), "{sources:?}");
    s.stop().await;
}
