//! The admin console driven as a browser would: signed in through the sign-in pages,
//! forms posted with the page's CSRF token, audit events read back with the CLI.
use crate::support::oidc::{self, Credentials, PASSWORD, User, cli_ok, hidden_inputs, resume};
use crate::support::{Backend, TestServer};

pub async fn start(backend: Backend) -> TestServer {
    oidc::start_with(backend, |c| c.admins_require_2fa = false).await
}

/// An admin "Olu" with `PASSWORD`.
pub async fn admin(s: &TestServer, username: &str) -> User {
    let email = format!("{username}@clinic.example");
    let args = [
        "user",
        "create",
        "--username",
        username,
        "--email",
        &email,
        "--admin",
        "--password-stdin",
    ];
    let v = cli_ok(s, &args, Some(&format!("{PASSWORD}\n"))).await;
    User {
        id: oidc::str_of(&v, "id"),
        username: username.to_string(),
        email,
        password: PASSWORD.to_string(),
    }
}

pub async fn group(s: &TestServer, name: &str) -> String {
    oidc::str_of(&cli_ok(s, &["group", "create", name], None).await, "id")
}

/// A browser signed in to the console as `user`, and the page it landed on.
pub async fn console(s: &TestServer, user: &User) -> (reqwest::Client, String) {
    let browser = oidc::browser();
    let flow = resume(
        s,
        &browser,
        &s.url("/admin"),
        &Credentials::new(&user.username, &user.password),
    )
    .await;
    let page = flow.last_page();
    (browser, page.html.clone())
}

pub async fn get(s: &TestServer, browser: &reqwest::Client, path: &str) -> (u16, String) {
    let res = browser.get(s.url(path)).send().await.expect("get");
    let status = res.status().as_u16();
    (status, res.text().await.expect("page"))
}

pub fn csrf_of(page: &str) -> String {
    hidden_inputs(page)
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
        .expect("csrf")
}

/// Posts an action form with the page's CSRF token; the status and where it leads.
pub async fn post(
    s: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = vec![("csrf".to_string(), csrf_of(page))];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let res = browser.post(s.url(path)).form(&form).send().await.expect("post");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match location {
        Some(to) => {
            let (_, body) = get(s, browser, &to).await;
            (status, body)
        }
        None => (status, res.text().await.expect("page")),
    }
}

pub async fn events(s: &TestServer, action: &str) -> Vec<serde_json::Value> {
    let v = cli_ok(s, &["audit", "list", "--limit", "500"], None).await;
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

pub async fn user_page(s: &TestServer, browser: &reqwest::Client, user: &User) -> String {
    let (status, page) = get(s, browser, &format!("/admin/users/{}", user.id)).await;
    assert_eq!(status, 200, "{page}");
    page
}
