//! The mails Tessera writes to people, each a folder under `templates/mail/` with a
//! plain-text and an HTML part.
use super::{MailError, Rendered, render};
use crate::config::Config;
use crate::model::user::User;
use askama::Template;
use chrono::{DateTime, Utc};

#[derive(Template)]
#[template(path = "mail/invite/text.txt")]
struct InviteText<'a> {
    organisation: &'a str,
    name: &'a str,
    username: &'a str,
    link: &'a str,
    expires: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invite/html.html")]
struct InviteHtml<'a> {
    organisation: &'a str,
    name: &'a str,
    username: &'a str,
    link: &'a str,
    expires: &'a str,
}

/// How a person is greeted: their given name, else their username. A name from a
/// directory may hold anything: only its first line, without control characters and
/// at most 64 characters, goes into a mail, so it cannot add paragraphs of its own.
fn greeting(user: &User) -> String {
    let name: String = user
        .given_name
        .as_deref()
        .and_then(|n| n.lines().next())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        user.username.clone()
    } else {
        name.to_string()
    }
}

/// A time as people read it in a mail, unambiguous across time zones.
fn when(at: DateTime<Utc>) -> String {
    at.format("%A %-d %B %Y, %H:%M UTC").to_string()
}

pub fn invite(config: &Config, user: &User, link: &str, expires_at: DateTime<Utc>) -> Result<Rendered, MailError> {
    let expires = when(expires_at);
    let name = greeting(user);
    let (organisation, name, username) = (config.organisation_name.as_str(), name.as_str(), user.username.as_str());
    render(
        format!("{organisation}: your account is ready, choose your password"),
        &InviteText {
            organisation,
            name,
            username,
            link,
            expires: &expires,
        },
        &InviteHtml {
            organisation,
            name,
            username,
            link,
            expires: &expires,
        },
    )
}
