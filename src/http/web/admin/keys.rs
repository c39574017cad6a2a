//! `/admin/keys`: the keys that sign ID and access tokens, and rotating them. A new
//! key starts signing once every node publishes it; an old one stays published until
//! the tokens it signed have expired.
use super::{Fields, Nav, enter_admin, when};
use crate::http::web::{checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::oidc::signing_keys;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

struct KeyRow {
    kid: String,
    alg: String,
    created: String,
    state: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage<'a> {
    nav: Nav<'a>,
    rows: Vec<KeyRow>,
    notice: Option<&'static str>,
}

pub async fn list(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Query(shown): Query<super::Shown>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "keys_view", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let now = svc.now();
    let keys = signing_keys::list(&svc).await?;
    let signing = signing_keys::signing_kids(&keys, now);
    let rows = keys
        .into_iter()
        .map(|k| KeyRow {
            state: match (signing.contains(&k.kid), k.retired_at) {
                (true, None) => "Signs tokens".to_string(),
                (true, Some(_)) => "Signs tokens until the new key takes over (within two minutes)".to_string(),
                (false, None) => "New: signs once every node publishes it".to_string(),
                (false, Some(at)) => format!("Retired {}: still verifies tokens it signed", when(at)),
            },
            created: when(k.created_at),
            kid: k.kid,
            alg: k.alg,
        })
        .collect();
    let notice = (shown.done.as_deref() == Some("rotated")).then_some(
        "New keys are added. Every node publishes them within two minutes and then signs with them; \
         tokens signed by the old keys stay valid until they expire.",
    );
    let body = page(
        StatusCode::OK,
        &KeysPage {
            nav: Nav::of(&console, "keys"),
            rows,
            notice,
        },
    );
    Ok(console.answer(body))
}

pub async fn rotate(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    if let Err(answer) = checked_form(&svc, &jar, form, "Open the keys page again.") {
        return Ok(*answer);
    }
    let console = match enter_admin(&svc, jar, "keys_rotate", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    signing_keys::rotate(&svc, &console.admin.actor()).await?;
    svc.keys.invalidate().await;
    Ok(console.answer(Redirect::to("/admin/keys?done=rotated")))
}
