//! The mails Tessera writes to people, each a folder under `templates/mail/` with a
//! plain-text and an HTML part that read the same `Letter`.
use super::{MailError, Rendered, render};
use crate::model::settings::Settings;
use crate::model::user::User;
use askama::Template;
use chrono::{DateTime, Utc};

/// What any mail to a person may say; each template uses what it needs.
#[derive(Default)]
struct Letter<'a> {
    organisation: &'a str,
    name: String,
    username: &'a str,
    /// The address staff know Tessera by (the issuer).
    site: &'a str,
    link: &'a str,
    /// When the link or temporary password stops working.
    expires: String,
    password: &'a str,
    /// When what the mail reports happened, or until when it lasts.
    when: String,
    /// A way of signing in ("an authenticator app", "a passkey named …").
    method: &'a str,
    /// Wrong second-factor codes came after the right password.
    password_known: bool,
}

/// A mail's two parts: askama reads the letter's fields through `Deref`.
macro_rules! parts {
    ($text:ident = $text_path:tt, $html:ident = $html_path:tt) => {
        #[derive(Template)]
        #[template(path = $text_path)]
        struct $text<'a>(&'a Letter<'a>);

        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a>(&'a Letter<'a>);

        impl<'a> std::ops::Deref for $text<'a> {
            type Target = Letter<'a>;
            fn deref(&self) -> &Letter<'a> {
                self.0
            }
        }

        impl<'a> std::ops::Deref for $html<'a> {
            type Target = Letter<'a>;
            fn deref(&self) -> &Letter<'a> {
                self.0
            }
        }
    };
}

parts!(
    InviteText = "mail/invite/text.txt",
    InviteHtml = "mail/invite/html.html"
);
parts!(ResetText = "mail/reset/text.txt", ResetHtml = "mail/reset/html.html");
parts!(
    AccessText = "mail/access/text.txt",
    AccessHtml = "mail/access/html.html"
);
parts!(
    ChangedText = "mail/password_changed/text.txt",
    ChangedHtml = "mail/password_changed/html.html"
);
parts!(
    LockedText = "mail/locked/text.txt",
    LockedHtml = "mail/locked/html.html"
);
parts!(
    MethodText = "mail/sign_in_method/text.txt",
    MethodHtml = "mail/sign_in_method/html.html"
);
parts!(
    MethodRemovedText = "mail/sign_in_method_removed/text.txt",
    MethodRemovedHtml = "mail/sign_in_method_removed/html.html"
);

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

fn letter<'a>(settings: &'a Settings, user: &'a User) -> Letter<'a> {
    Letter {
        organisation: settings.organisation_name.as_str(),
        name: greeting(user),
        username: user.username.as_str(),
        site: settings.site.as_str(),
        ..Letter::default()
    }
}

pub fn invite(settings: &Settings, user: &User, link: &str, expires_at: DateTime<Utc>) -> Result<Rendered, MailError> {
    let l = Letter {
        link,
        expires: when(expires_at),
        ..letter(settings, user)
    };
    let subject = format!("{}: your account is ready, choose your password", l.organisation);
    render(subject, &InviteText(&l), &InviteHtml(&l))
}

pub fn reset_link(
    settings: &Settings,
    user: &User,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Result<Rendered, MailError> {
    let l = Letter {
        link,
        expires: when(expires_at),
        ..letter(settings, user)
    };
    let subject = format!("{}: choose a new password", l.organisation);
    render(subject, &ResetText(&l), &ResetHtml(&l))
}

/// An admin's temporary password, sent when the admin asks (seed 001, option C).
pub fn access_information(
    settings: &Settings,
    user: &User,
    temporary_password: &str,
    expires_at: DateTime<Utc>,
) -> Result<Rendered, MailError> {
    let l = Letter {
        password: temporary_password,
        expires: when(expires_at),
        ..letter(settings, user)
    };
    let subject = format!("{}: your sign-in details", l.organisation);
    render(subject, &AccessText(&l), &AccessHtml(&l))
}

pub fn password_changed(settings: &Settings, user: &User, at: DateTime<Utc>) -> Result<Rendered, MailError> {
    let l = Letter {
        when: when(at),
        ..letter(settings, user)
    };
    let subject = format!("{}: your password was changed", l.organisation);
    render(subject, &ChangedText(&l), &ChangedHtml(&l))
}

/// `codes`: the wrong tries were second-factor codes, typed after the right password.
pub fn account_locked(
    settings: &Settings,
    user: &User,
    until: DateTime<Utc>,
    codes: bool,
) -> Result<Rendered, MailError> {
    let l = Letter {
        when: when(until),
        method: if codes {
            "codes from your authenticator app"
        } else {
            "passwords"
        },
        password_known: codes,
        ..letter(settings, user)
    };
    let subject = format!("{}: sign-in to your account was paused", l.organisation);
    render(subject, &LockedText(&l), &LockedHtml(&l))
}

pub fn sign_in_method_added(
    settings: &Settings,
    user: &User,
    method: &str,
    at: DateTime<Utc>,
) -> Result<Rendered, MailError> {
    let l = Letter {
        method,
        when: when(at),
        ..letter(settings, user)
    };
    let subject = format!("{}: a new way to sign in was added", l.organisation);
    render(subject, &MethodText(&l), &MethodHtml(&l))
}

pub fn sign_in_method_removed(
    settings: &Settings,
    user: &User,
    method: &str,
    at: DateTime<Utc>,
) -> Result<Rendered, MailError> {
    let l = Letter {
        method,
        when: when(at),
        ..letter(settings, user)
    };
    let subject = format!("{}: a way to sign in was removed", l.organisation);
    render(subject, &MethodRemovedText(&l), &MethodRemovedHtml(&l))
}
