//! `/admin/users/{id}`: one user as an admin needs to see them: who, state, where they
//! came from, second factors, sign-ins, the mail they were sent and what was done to
//! them, with the actions this admin may take.
use super::console::{self, Console};
use super::users::full_name;
use crate::accounts::{Role, User, second_factor, users};
use crate::directory::scope;
use crate::http::web::account::describe_browser;
use crate::http::web::page;
use crate::http::{AppState, ClientAddress, WebError};
use crate::model::mail::{LinkState, MailStatus};
use crate::store;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

const HISTORY: u64 = 50;

use super::when;

struct SessionRow {
    browser: String,
    address: String,
    started: String,
}

struct MailRow {
    when: String,
    subject: String,
    to: String,
    status: &'static str,
    failed: bool,
    detail: String,
}

struct EventRow {
    when: String,
    actor: String,
    action: String,
    failed: bool,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage<'a> {
    nav: super::Nav<'a>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    id: Uuid,
    username: &'a str,
    name: String,
    given_name: &'a str,
    family_name: &'a str,
    email: &'a str,
    title: &'a str,
    department: &'a str,
    role: String,
    states: Vec<&'static str>,
    locked_until: Option<String>,
    /// When access ends, and how far off that is.
    access_until: Option<String>,
    /// The `datetime-local` value of the end of access, for the form.
    access_until_value: String,
    groups: String,
    /// The groups this admin may put the user in or take them out of.
    assignable: Vec<super::users::Choice>,
    /// The console admin may make this user an admin or a member.
    may_set_role: bool,
    is_admin: bool,
    origin: String,
    /// The SCIM client that keeps this user in sync, when one does.
    scim_owner: Option<String>,
    totp: bool,
    passkeys: usize,
    recovery_left: u64,
    last_sign_in: Option<String>,
    sessions: Vec<SessionRow>,
    mails: Vec<MailRow>,
    events: Vec<EventRow>,
    yourself: bool,
    /// Why no mail can go to this user, when none can.
    mail_blocked: Option<&'static str>,
    invited: bool,
    active: bool,
    locked: bool,
    must_change: bool,
    step_up: bool,
}

/// What the page says after an action (fixed texts: nothing from the query is echoed).
fn done_notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "disabled" => "Disabled: every sign-in ended and every token stopped working.",
        "restored" => "Restored: the user can sign in again.",
        "unlocked" => "Unlocked: the user can try again in every browser.",
        "reset-link" => "A reset link is on its way. It appears under Mail below.",
        "invite" => "A new invite is on its way; older invite links no longer work.",
        "invite-cancelled" => "The invite is cancelled: its link no longer works.",
        "signed-out" => "Signed out everywhere: every session ended and the apps were told.",
        "2fa-reset" => "Two-step sign-in is reset: the authenticator app, passkeys and recovery codes are removed.",
        "must-change" => "The user must choose a new password at the next sign-in.",
        "no-must-change" => "The user no longer has to change the password.",
        "created" => "The user is created.",
        "groups" => "The groups are saved.",
        "role" => "The role is changed.",
        "profile" => "The profile is saved.",
        "access-until" => "The end of access is set: at that moment the user is disabled.",
        "access-until-cleared" => "The end of access is cleared.",
        "restored-access" => "Restored, and the end of access that had passed is cleared.",
        _ => return None,
    })
}

fn done_error(done: &str) -> Option<&'static str> {
    (done == "wrong-password").then_some("Your own password was not right, so nothing was done. Try again.")
}

/// "12 Dec 2026, 18:00 UTC (in 3 days)", or that it has passed.
fn access_note(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let left = at - now;
    let how_far = if left <= chrono::Duration::zero() {
        "ended".to_string()
    } else if left < chrono::Duration::hours(1) {
        format!("in {} minutes", left.num_minutes().max(1))
    } else if left < chrono::Duration::days(2) {
        format!("in {} hours", left.num_hours())
    } else {
        format!("in {} days", left.num_days())
    };
    format!("{} ({how_far})", when(at))
}

/// The user an admin asked for, if it reaches them; else the answer (404, or 403 audited).
pub(super) async fn reachable(
    svc: &AppState,
    console: &Console,
    id: &str,
    action: &str,
    from: Option<String>,
) -> Result<User, Response> {
    let not_found = || WebError::NotFound.into_response();
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_found());
    };
    let user = match users::find_by_id(svc, id).await {
        Ok(Some(u)) => u,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(WebError::from(e).into_response()),
    };
    // The domain's operations name the user by username: it must name this user only
    // (a rekeyed look-alike could otherwise stand in for another account).
    match users::find(svc, &user.username).await {
        Ok(same) if same.id == user.id => {}
        Ok(_) | Err(crate::accounts::AccountsError::UserNotFound(_)) => {
            return Err(WebError::BadRequest(format!(
                "The username {} is shared with another account after a change of the username rules; \
                 rename one of them with the tessera command first.",
                user.username
            ))
            .into_response());
        }
        Err(e) => return Err(WebError::from(e).into_response()),
    }
    match scope::reaches(svc, &console.admin, &user).await {
        Ok(Ok(())) => Ok(user),
        Ok(Err(why)) => Err(refuse(svc, console, action, Some(&user), why, from).await),
        Err(e) => Err(WebError::from(e).into_response()),
    }
}

#[derive(Template)]
#[template(path = "admin/refused.html")]
struct RefusedPage<'a> {
    nav: super::Nav<'a>,
    message: &'static str,
}

/// 403 with the reason, audited.
pub(super) async fn refuse(
    svc: &AppState,
    console: &Console,
    action: &str,
    user: Option<&User>,
    why: scope::Refusal,
    from: Option<String>,
) -> Response {
    if let Err(e) = scope::record_refusal(svc, &console.admin, action, user, why, from).await {
        return WebError::from(e).into_response();
    }
    page(
        StatusCode::FORBIDDEN,
        &RefusedPage {
            nav: super::Nav::of(console, "users"),
            message: why.explain(),
        },
    )
}

fn mail_row(m: crate::model::mail::SentMail) -> MailRow {
    let status = match m.mail.status {
        MailStatus::Queued => "Queued",
        MailStatus::Sending => "Sending",
        MailStatus::Sent => "Sent",
        MailStatus::Failed => "Failed",
        MailStatus::Cancelled => "Cancelled",
    };
    let link = m.link.map(|l| match l.state {
        LinkState::Unopened => format!("link not opened yet; good until {}", when(l.expires_at)),
        LinkState::Opened => format!("link opened, not used; good until {}", when(l.expires_at)),
        LinkState::Accepted => "link used".to_string(),
        LinkState::Expired => format!("link expired {}", when(l.expires_at)),
        LinkState::Voided => "link replaced by a newer one".to_string(),
    });
    let detail = [m.mail.last_error.clone(), link]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
    MailRow {
        when: when(m.mail.created_at),
        subject: m.mail.subject,
        to: m.mail.to_address,
        failed: m.mail.status == MailStatus::Failed,
        status,
        detail,
    }
}

pub async fn show(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(shown): Query<super::Shown>,
) -> Result<Response, WebError> {
    let console = match console::enter(&svc, jar).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let user = match reachable(&svc, &console, &id, "view", Some(from.to_string())).await {
        Ok(u) => u,
        Err(answer) => return Ok(console.answer(answer)),
    };
    let now = svc.now();
    let c = svc.store.reader();
    let target = user.id.to_string();
    let groups = store::groups::of_user(c, user.id).await?;
    let administers = store::groups::administered_by(c, user.id).await?;
    let (factors, recovery_left) = second_factor::factors_and_codes(&svc, user.id).await?;
    let passkeys = crate::accounts::passkeys::list(&svc, user.id).await?.len();
    let created = store::audit::first(c, &target, "user.create").await?;
    let origin = match &created {
        Some(e) if e.actor_kind == "scim" => format!("Provisioned by {} on {}", e.actor_label, when(e.at)),
        Some(e) if e.actor_kind == "cli" => format!("Created with the tessera command on {}", when(e.at)),
        Some(e) if e.actor_kind == "user" || e.actor_kind == "admin" => {
            format!("Created by {} on {}", e.actor_label, when(e.at))
        }
        Some(e) => format!("Created on {}", when(e.at)),
        None => format!("Created on {}", when(user.created_at)),
    };
    let scim_owner = crate::accounts::profile::scim_owner(&svc, &user).await?;
    let role = match (user.role, administers.is_empty()) {
        (Role::Admin, _) => "Admin (manages everyone)".to_string(),
        (Role::Member, false) => format!(
            "Group admin of {}",
            administers
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (Role::Member, true) => "Member".to_string(),
    };
    let listed = crate::model::user_listing::ListedUser {
        id: user.id,
        username: user.username.clone(),
        given_name: None,
        family_name: None,
        email: None,
        active: user.active,
        has_password: user.password_hash.is_some(),
        must_change_password: user.must_change_password,
        locked_until: user.locked_until,
        created_at: user.created_at,
    };
    let sessions = crate::sessions::of_user(c, user.id, now)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            browser: describe_browser(s.origin.user_agent.as_deref()),
            address: s.origin.ip.unwrap_or_else(|| "unknown address".into()),
            started: when(s.started_at),
        })
        .collect();
    let mails = crate::mail::history(&svc, user.id, HISTORY)
        .await?
        .into_iter()
        .map(mail_row)
        .collect();
    let events = store::audit::recent(c, Some(&target), HISTORY)
        .await?
        .into_iter()
        .map(|e| {
            let failed = e.outcome != "success";
            EventRow {
                when: when(e.at),
                actor: e.actor_label,
                action: super::history::describe(&e.action, failed),
                failed,
            }
        })
        .collect();
    let last_sign_in = store::audit::last_sign_in(c, &target).await?.map(when);
    let mail_blocked = match crate::mail::address_of(&user) {
        Ok(_) => None,
        Err(crate::mail::MailError::NoAddress) => Some("No mail can be sent: this user has no email address."),
        Err(_) => Some("No mail can be sent: mail goes only to active users, and this user is disabled."),
    };
    let locked = user.locked_until.is_some_and(|t| t > now);
    let assignable = scope::assignable_groups(&svc, &console.admin).await?;
    let body = page(
        StatusCode::OK,
        &UserPage {
            nav: super::Nav::of(&console, "users"),
            notice: shown.done.as_deref().and_then(done_notice),
            error: shown.done.as_deref().and_then(done_error),
            id: user.id,
            username: &user.username,
            name: full_name(user.given_name.as_deref(), user.family_name.as_deref()),
            given_name: user.given_name.as_deref().unwrap_or(""),
            family_name: user.family_name.as_deref().unwrap_or(""),
            email: user.email.as_deref().unwrap_or(""),
            title: user.profile.title.as_deref().unwrap_or(""),
            department: user.profile.department.as_deref().unwrap_or(""),
            role,
            states: super::users::states_of(&listed, now),
            locked_until: user.locked_until.filter(|_| locked).map(when),
            access_until: user.access_until.map(|at| access_note(at, now)),
            access_until_value: user
                .access_until
                .map(|at| at.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            groups: groups.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", "),
            assignable: assignable
                .into_iter()
                .map(|(id, name)| super::users::Choice {
                    selected: groups.iter().any(|(g, _)| *g == id),
                    value: id.to_string(),
                    label: name,
                })
                .collect(),
            may_set_role: console.admin.is_admin() && user.id != console.admin.user.id,
            is_admin: user.role == Role::Admin,
            origin,
            scim_owner,
            totp: factors.totp,
            passkeys,
            recovery_left,
            last_sign_in,
            sessions,
            mails,
            events,
            yourself: user.id == console.admin.user.id,
            mail_blocked,
            invited: user.password_hash.is_none(),
            active: user.active,
            locked,
            must_change: user.must_change_password,
            step_up: console.needs_step_up(now),
        },
    );
    Ok(console.answer(body))
}
