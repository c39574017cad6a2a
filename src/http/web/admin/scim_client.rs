//! `/admin/scim/{id}`: one provisioning system: what it may do, and its recent
//! requests with the failures marked, so "the HR system says it sent her" is checked
//! in one look; revoking its token.
use super::clients::group_names;
use super::{Fields, Nav, enter_admin, when};
use crate::http::web::{checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::scim::clients::{self, ClientRecord};
use crate::store;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

/// Requests shown; the log keeps `clients::LOG_KEEP`.
const SHOWN: u64 = 200;

struct RequestRow {
    when: String,
    method: String,
    path: String,
    status: u16,
    failed: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/scim_client.html")]
struct ScimClientPage<'a> {
    nav: Nav<'a>,
    client: &'a ClientRecord,
    reaches: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
    requests: Vec<RequestRow>,
    failures: usize,
    total: usize,
    only_failures: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    failures: Option<String>,
}

async fn found(svc: &AppState, id: &str) -> Result<ClientRecord, WebError> {
    let id = Uuid::parse_str(id).map_err(|_| WebError::NotFound)?;
    Ok(clients::find(svc, id).await?)
}

pub async fn show(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "scim_client_view", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let client = match found(&svc, &id).await {
        Ok(c) => c,
        Err(e) => return Ok(console.answer(e)),
    };
    let (client, log) = clients::log(&svc, &client.name, SHOWN).await?;
    let all_groups = store::groups::all_names(svc.store.reader()).await?;
    let only_failures = shown.failures.is_some();
    let failures = log.iter().filter(|r| r.status >= 400).count();
    let total = log.len();
    let requests = log
        .into_iter()
        .filter(|r| !only_failures || r.status >= 400)
        .map(|r| RequestRow {
            when: r.at.format("%-d %b %Y, %H:%M:%S UTC").to_string(),
            failed: r.status >= 400,
            detail: [r.summary, r.error]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            method: r.method,
            path: r.path,
            status: r.status,
        })
        .collect();
    let body = page(
        StatusCode::OK,
        &ScimClientPage {
            nav: Nav::of(&console, "scim"),
            reaches: group_names(&client.groups, &all_groups, client.limited_to_groups),
            created: when(client.created_at),
            last_used: client.last_used_at.map_or_else(|| "never".into(), when),
            revoked: client.revoked_at.map(when),
            client: &client,
            requests,
            failures,
            total,
            only_failures,
        },
    );
    Ok(console.answer(body))
}

pub async fn revoke(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path(id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    if let Err(answer) = checked_form(&svc, &jar, form, "Open the SCIM client's page again.") {
        return Ok(*answer);
    }
    let console = match enter_admin(&svc, jar, "scim_client_revoke", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let client = match found(&svc, &id).await {
        Ok(c) => c,
        Err(e) => return Ok(console.answer(e)),
    };
    clients::revoke(&svc, &console.admin.actor(), &client.name).await?;
    Ok(console.answer(Redirect::to("/admin/scim?done=revoked")))
}
