//! Users and clients, through the CLI.
use super::{PASSWORD, PHONE, POST_LOGOUT_URI, REDIRECT_URI, cli_ok, str_of};
use crate::scim_support::Scim;
use crate::support::TestServer;
use serde_json::json;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password: String,
}

/// An active user "Camille Okafor" with `PASSWORD` and the email `USERNAME@clinic.example`.
pub async fn create_user(s: &TestServer, username: &str) -> User {
    let email = format!("{username}@clinic.example");
    let v = cli_ok(
        s,
        &[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &email,
            "--given-name",
            "Camille",
            "--family-name",
            "Okafor",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    assert_eq!(v["state"], "active", "{v}");
    User {
        id: str_of(&v, "id"),
        username: username.to_string(),
        email,
        password: PASSWORD.to_string(),
    }
}

/// A user with a temporary password (shown once by the CLI), which is its `password` here.
pub async fn create_user_with_temporary_password(s: &TestServer, username: &str) -> User {
    let email = format!("{username}@clinic.example");
    let v = cli_ok(
        s,
        &[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &email,
            "--temporary-password",
        ],
        None,
    )
    .await;
    User {
        id: str_of(&v, "id"),
        username: username.to_string(),
        email,
        password: str_of(&v, "temporary_password"),
    }
}

/// Gives the user a work phone number and address through SCIM, for the phone and address scopes.
pub async fn add_phone_and_address(s: &TestServer, user: &User) {
    let scim = Scim::register(s, "directory", &[]).await;
    let r = scim
        .patch(
            &format!("/Users/{}", user.id),
            json!([
                {"op": "add", "path": "phoneNumbers", "value": [{"value": PHONE, "type": "work", "primary": true}]},
                {"op": "add", "path": "addresses", "value": [{
                    "type": "work",
                    "primary": true,
                    "streetAddress": "12 Infirmary Street",
                    "locality": "Leeds",
                    "postalCode": "LS1 2DS",
                    "country": "GB",
                }]},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    /// None for public clients.
    pub secret: Option<String>,
}

impl Client {
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("a confidential client")
    }
}

/// A web application with `REDIRECT_URI` and `POST_LOGOUT_URI` registered, plus `extra` options
/// (`--pkce-optional`, `--consent`, `--group G`, `--public`, ...).
pub async fn create_client(s: &TestServer, name: &str, extra: &[&str]) -> Client {
    let mut args = vec![
        "--name",
        name,
        "--redirect-uri",
        REDIRECT_URI,
        "--post-logout-uri",
        POST_LOGOUT_URI,
    ];
    args.extend_from_slice(extra);
    create_client_with(s, &args).await
}

/// `tessera client create ARGS`, exactly as given.
pub async fn create_client_with(s: &TestServer, args: &[&str]) -> Client {
    let mut all = vec!["client", "create"];
    all.extend_from_slice(args);
    let v = cli_ok(s, &all, None).await;
    Client {
        id: str_of(&v, "client_id"),
        secret: v["client_secret"].as_str().map(str::to_string),
    }
}
