//! `/admin/audit`: the audit log, filtered by actor, target, action and time, 100
//! events a page, and the same view as CSV.
use super::{Nav, enter_admin};
use crate::audit::{self, AuditQuery, StoredEvent};
use crate::http::web::page;
use crate::http::{AppState, ClientAddress, WebError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

const PAGE: u64 = 100;
/// The most one export holds (newest first); a narrower time range gets the rest.
pub const EXPORT_MAX: u64 = 50_000;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    action: String,
    /// `datetime-local` values, in UTC.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: Option<i64>,
}

fn text(s: &str) -> Result<Option<String>, WebError> {
    let t = s.trim();
    if t.chars().count() > 200 {
        return Err(WebError::BadRequest("A filter may be at most 200 characters.".into()));
    }
    Ok(Some(t.to_string()).filter(|t| !t.is_empty()))
}

impl Filters {
    fn query(&self, limit: u64) -> Result<AuditQuery, WebError> {
        Ok(AuditQuery {
            actor: text(&self.actor)?,
            target: text(&self.target)?,
            action: text(&self.action)?,
            since: super::moment(&self.since)?,
            until: super::moment(&self.until)?,
            before_id: self.before,
            limit,
        })
    }

    /// The filters as a query string, without the page.
    fn encoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("actor", self.actor.as_str()),
                ("target", self.target.as_str()),
                ("action", self.action.as_str()),
                ("since", self.since.as_str()),
                ("until", self.until.as_str()),
            ])
            .finish()
    }
}

struct Row {
    when: String,
    actor: String,
    action: String,
    code: String,
    target: String,
    from: String,
    failed: bool,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage<'a> {
    nav: Nav<'a>,
    filters: &'a Filters,
    rows: Vec<Row>,
    older: Option<String>,
    export: String,
    error: Option<String>,
    export_max: u64,
}

fn actor_of(e: &StoredEvent) -> String {
    match e.actor_kind.as_str() {
        "scim" => format!("{} (SCIM)", e.actor_label),
        "cli" => "tessera command".to_string(),
        "system" => "Tessera".to_string(),
        _ => e.actor_label.clone(),
    }
}

pub async fn show(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Query(filters): Query<Filters>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "audit_view", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let (events, error) = match filters.query(PAGE) {
        Ok(q) => (audit::search(svc.store.reader(), &q).await?, None),
        Err(WebError::BadRequest(why)) => (Vec::new(), Some(why)),
        Err(e) => return Err(e),
    };
    let older = (events.len() as u64 == PAGE)
        .then(|| {
            events
                .last()
                .map(|e| format!("/admin/audit?{}&before={}", filters.encoded(), e.id))
        })
        .flatten();
    let rows = events
        .iter()
        .map(|e| {
            let failed = e.outcome != "success";
            Row {
                when: super::when(e.at),
                actor: actor_of(e),
                action: super::history::describe(&e.action, failed),
                code: e.action.clone(),
                target: e.target_label.clone().unwrap_or_default(),
                from: e.source_ip.clone().unwrap_or_default(),
                failed,
            }
        })
        .collect();
    let body = page(
        StatusCode::OK,
        &AuditPage {
            nav: Nav::of(&console, "audit"),
            export: format!("/admin/audit/export.csv?{}", filters.encoded()),
            filters: &filters,
            rows,
            older,
            error,
            export_max: EXPORT_MAX,
        },
    );
    Ok(console.answer(body))
}

/// A spreadsheet must not run what an attacker put in a name (`=HYPERLINK(...)`):
/// a cell that would start a formula is quoted (OWASP, CSV injection).
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn csv_of(events: &[StoredEvent]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "id",
        "at",
        "actor_kind",
        "actor_id",
        "actor",
        "action",
        "target_kind",
        "target_id",
        "target",
        "source_ip",
        "outcome",
        "detail",
    ])?;
    for e in events {
        let detail = e.detail.as_ref().map(|d| d.to_string()).unwrap_or_default();
        out.write_record([
            e.id.to_string(),
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            cell(&e.actor_kind),
            cell(e.actor_id.as_deref().unwrap_or("")),
            cell(&e.actor_label),
            cell(&e.action),
            cell(e.target_kind.as_deref().unwrap_or("")),
            cell(e.target_id.as_deref().unwrap_or("")),
            cell(e.target_label.as_deref().unwrap_or("")),
            cell(e.source_ip.as_deref().unwrap_or("")),
            cell(&e.outcome),
            cell(&detail),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

pub async fn export(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Query(filters): Query<Filters>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "audit_export", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let mut q = match filters.query(1000) {
        Ok(q) => q,
        Err(e) => return Ok(console.answer(e)),
    };
    let mut events = Vec::new();
    while (events.len() as u64) < EXPORT_MAX {
        let batch = audit::search(svc.store.reader(), &q).await?;
        let full = batch.len() as u64 == q.limit;
        q.before_id = batch.last().map(|e| e.id);
        events.extend(batch);
        if !full {
            break;
        }
    }
    events.truncate(EXPORT_MAX as usize);
    // What left the system, and who took it.
    let detail = serde_json::json!({
        "actor": filters.actor, "target": filters.target, "action": filters.action,
        "since": filters.since, "until": filters.until, "rows": events.len(),
    });
    let event = crate::audit::Event::new(&console.admin.actor(), "audit.export", None)
        .with_detail(detail)
        .from_ip(Some(from.to_string()));
    crate::audit::record(svc.store.conn(), &event, svc.now()).await?;
    let body = csv_of(&events).map_err(|e| WebError::Internal(e.to_string()))?;
    let name = format!(
        "attachment; filename=\"tessera-audit-{}.csv\"",
        svc.now().format("%Y%m%d-%H%M")
    );
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(console.answer(response))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formula_cells_are_quoted() {
        assert_eq!(super::cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::cell("+1"), "'+1");
        assert_eq!(super::cell("alice"), "alice");
    }
}
