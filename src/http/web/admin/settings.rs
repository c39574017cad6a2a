//! `/admin/settings`: what an admin tunes without a restart (link lifetimes, lockout,
//! password length, the two-step policy, the organisation's name), stored in the
//! database and seen by every node within seconds; and a test mail that reports
//! what the SMTP server answered.
use super::{Fields, Nav, enter_admin};
use crate::http::web::{checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::settings::{self, Settings, SettingsError};
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde_json::{Value, json};

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage<'a> {
    nav: Nav<'a>,
    s: &'a Settings,
    step_up: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The test mail's address, and what the server answered.
    test_to: String,
    test_answer: Option<(bool, String)>,
    mail_via: String,
    /// Two-step rules the configuration turned on: shown, not changeable here.
    fixed_require_2fa: bool,
    fixed_admins_require_2fa: bool,
}

struct Render {
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    test_to: Option<String>,
    test_answer: Option<(bool, String)>,
}

fn render(svc: &AppState, console: super::console::Console, r: Render) -> Response {
    let s = svc.settings();
    let mail_via = match &svc.config.smtp_url {
        Some(url) => format!("SMTP at {}", crate::config::redacted_url(url)),
        None => "no SMTP server: mail is written to files in the data directory".into(),
    };
    let body = page(
        r.status,
        &SettingsPage {
            nav: Nav::of(&console, "settings"),
            s: &s,
            step_up: console.needs_step_up(svc.now()),
            notice: r.notice,
            error: r.error,
            test_to: r
                .test_to
                .unwrap_or_else(|| console.admin.user.email.clone().unwrap_or_default()),
            test_answer: r.test_answer,
            mail_via,
            fixed_require_2fa: svc.config.require_2fa,
            fixed_admins_require_2fa: svc.config.admins_require_2fa,
        },
    );
    console.answer(body)
}

pub async fn show(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Query(shown): Query<super::Shown>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "settings_view", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let notice = (shown.done.as_deref() == Some("saved"))
        .then_some("Saved. Every node uses the new settings within a few seconds.");
    Ok(render(
        &svc,
        console,
        Render {
            status: StatusCode::OK,
            notice,
            error: None,
            test_to: None,
            test_answer: None,
        },
    ))
}

/// The form's values as settings rows; a number field that is not a number is kept as
/// text, so the domain names it in its refusal.
fn changes(form: &Fields) -> Vec<(&'static str, Value)> {
    let text = |name: &str| form.get(name).map(|v| v.trim().to_string());
    let mut out = Vec::new();
    if let Some(name) = text("organisation_name") {
        out.push(("organisation_name", json!(name)));
    }
    for name in [
        "invite_lifetime_hours",
        "reset_link_lifetime_hours",
        "temporary_password_lifetime_hours",
        "lockout_threshold",
        "lockout_minutes",
        "password_min_length",
    ] {
        if let Some(v) = text(name) {
            out.push((name, v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n))));
        }
    }
    // Unticked boxes are not posted: a form that has them says so with `flags`.
    if text("flags").is_some() {
        out.push(("require_2fa", json!(text("require_2fa").is_some())));
        out.push(("admins_require_2fa", json!(text("admins_require_2fa").is_some())));
    }
    out
}

pub async fn save(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let form = match checked_form(&svc, &jar, form, "Open the settings page again.") {
        Ok(fields) => fields,
        Err(answer) => return Ok(*answer),
    };
    let mut console = match enter_admin(&svc, jar, "settings_update", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let password = form.get("current_password").unwrap_or("");
    let retry = |error: String| Render {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        notice: None,
        error: Some(error),
        test_to: None,
        test_answer: None,
    };
    if !console.step_up(&svc, password, Some(from.to_string())).await? {
        let why = "Your own password was not right, so nothing was saved.".to_string();
        return Ok(render(&svc, console, retry(why)));
    }
    match settings::update(&svc, &console.admin.actor(), &changes(&form)).await {
        Ok(_) => Ok(console.answer(Redirect::to("/admin/settings?done=saved"))),
        Err(SettingsError::Invalid { name, why }) => {
            let why = crate::http::web::capitalise(&format!("{name} {why}. Nothing was saved."));
            Ok(render(&svc, console, retry(why)))
        }
        Err(SettingsError::Store(e)) => Err(e.into()),
    }
}

pub async fn test_mail(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let form = match checked_form(&svc, &jar, form, "Open the settings page again.") {
        Ok(fields) => fields,
        Err(answer) => return Ok(*answer),
    };
    let console = match enter_admin(&svc, jar, "mail_test", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let to = form.get("to").unwrap_or_default().trim().to_string();
    if crate::accounts::users::validate_email(&to).is_err() {
        let r = Render {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            notice: None,
            error: None,
            test_answer: Some((false, format!("'{to}' is not an email address: no mail was sent."))),
            test_to: Some(to),
        };
        return Ok(render(&svc, console, r));
    }
    let answer = crate::mail::test_mail::send(&svc, &console.admin.actor(), &to).await?;
    let r = Render {
        status: StatusCode::OK,
        notice: None,
        error: None,
        test_answer: Some((answer.delivered, answer.text)),
        test_to: Some(to),
    };
    Ok(render(&svc, console, r))
}
