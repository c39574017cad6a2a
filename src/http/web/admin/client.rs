//! `/admin/clients/{id}`: one app: what it is, where it redirects and is told of
//! logouts, who may sign in to it; a new secret (shown once) and delete, both after
//! the admin's own password when its sign-in is not recent.
use super::clients::{SecretPage, group_names, kind_of};
use super::console::Console;
use super::users::Choice;
use super::{Fields, Nav, enter_admin, lines, when};
use crate::http::web::{checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::oidc::client_edits::{self, ClientEdit};
use crate::oidc::clients::{self, Client};
use crate::store;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin/client.html")]
struct ClientPage<'a> {
    nav: Nav<'a>,
    client: &'a Client,
    kind: &'static str,
    created: String,
    grants: String,
    admits: String,
    redirect_uris: String,
    post_logout_uris: String,
    backchannel: String,
    groups: Vec<Choice>,
    has_secret: bool,
    step_up: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => "The app is registered.",
        "saved" => "Saved. Sign-ins use the new settings from now on.",
        _ => return None,
    })
}

/// The form's fields, as posted.
#[derive(Default)]
struct Posted {
    redirect_uris: String,
    post_logout_uris: String,
    backchannel: String,
    groups: Vec<String>,
    current_password: String,
    confirm_name: String,
}

impl From<Fields> for Posted {
    fn from(fields: Fields) -> Self {
        let mut p = Posted::default();
        for (k, v) in fields.into_pairs() {
            match k.as_str() {
                "redirect_uris" => p.redirect_uris = v,
                "post_logout_uris" => p.post_logout_uris = v,
                "backchannel_logout_uri" => p.backchannel = v,
                "group" => p.groups.push(v),
                "current_password" => p.current_password = v,
                "confirm_name" => p.confirm_name = v,
                _ => {}
            }
        }
        p
    }
}

async fn render(
    svc: &AppState,
    console: Console,
    client: &Client,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let all_groups = store::groups::all_names(svc.store.reader()).await?;
    let body = page(
        status,
        &ClientPage {
            nav: Nav::of(&console, "clients"),
            client,
            kind: kind_of(client),
            created: when(client.created_at),
            grants: client.grants.join(", "),
            admits: group_names(&client.groups, &all_groups, client.limited_to_groups),
            redirect_uris: client.redirect_uris.join("\n"),
            post_logout_uris: client.post_logout_uris.join("\n"),
            backchannel: client.backchannel_logout_uri.clone().unwrap_or_default(),
            groups: all_groups
                .iter()
                .map(|(id, name)| Choice {
                    selected: client.groups.contains(id),
                    value: id.to_string(),
                    label: name.clone(),
                })
                .collect(),
            has_secret: client.secret_hash.is_some(),
            step_up: console.needs_step_up(svc.now()),
            notice,
            error,
        },
    );
    Ok(console.answer(body))
}

async fn found(svc: &AppState, id: &str) -> Result<Client, WebError> {
    if id == crate::oidc::console::CLIENT_ID {
        return Err(WebError::NotFound);
    }
    clients::find(svc, id).await?.ok_or(WebError::NotFound)
}

pub async fn show(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(shown): Query<super::Shown>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "client_view", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let client = match found(&svc, &id).await {
        Ok(c) => c,
        Err(e) => return Ok(console.answer(e)),
    };
    let notice = shown.done.as_deref().and_then(notice);
    render(&svc, console, &client, StatusCode::OK, notice, None).await
}

pub async fn save(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path(id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let posted: Posted = match checked_form(&svc, &jar, form, "Open the app's page again.") {
        Ok(fields) => fields.into(),
        Err(answer) => return Ok(*answer),
    };
    let mut console = match enter_admin(&svc, jar, "client_update", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let client = match found(&svc, &id).await {
        Ok(c) => c,
        Err(e) => return Ok(console.answer(e)),
    };
    // Where an app sends its codes decides who receives them: as sensitive as a secret.
    if !console
        .step_up(&svc, &posted.current_password, Some(from.to_string()))
        .await?
    {
        let why = "Your own password was not right, so nothing was saved. Try again.".to_string();
        return render(
            &svc,
            console,
            &client,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(why),
        )
        .await;
    }
    let Some(groups) = posted
        .groups
        .iter()
        .map(|g| Uuid::parse_str(g).ok())
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(console.answer(WebError::BadRequest(
            "The form named a group that does not exist.".into(),
        )));
    };
    let edit = ClientEdit {
        redirect_uris: lines(&posted.redirect_uris),
        post_logout_uris: lines(&posted.post_logout_uris),
        backchannel_logout_uri: Some(posted.backchannel.trim().to_string()).filter(|u| !u.is_empty()),
        groups,
    };
    match client_edits::edit(&svc, &console.admin.actor(), &client.id, edit).await {
        Ok(_) => Ok(console.answer(Redirect::to(&format!("/admin/clients/{}?done=saved", client.id)))),
        Err(e) => match WebError::from(e) {
            WebError::BadRequest(why) => {
                render(
                    &svc,
                    console,
                    &client,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(why),
                )
                .await
            }
            other => Err(other),
        },
    }
}

/// `POST /admin/clients/{id}/rotate-secret` and `/delete`.
pub async fn act(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let posted: Posted = match checked_form(&svc, &jar, form, "Open the app's page again.") {
        Ok(fields) => fields.into(),
        Err(answer) => return Ok(*answer),
    };
    let what = match action.as_str() {
        "rotate-secret" => "client_rotate_secret",
        "delete" => "client_delete",
        _ => return Err(WebError::NotFound),
    };
    let mut console = match enter_admin(&svc, jar, what, from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let client = match found(&svc, &id).await {
        Ok(c) => c,
        Err(e) => return Ok(console.answer(e)),
    };
    if !console
        .step_up(&svc, &posted.current_password, Some(from.to_string()))
        .await?
    {
        let why = "Your own password was not right, so nothing was done. Try again.".to_string();
        return render(
            &svc,
            console,
            &client,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(why),
        )
        .await;
    }
    let actor = console.admin.actor();
    if action == "delete" {
        if posted.confirm_name.trim() != client.name {
            let why = format!(
                "To delete this app, type its name ({}) exactly. Nothing was deleted.",
                client.name
            );
            return render(
                &svc,
                console,
                &client,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(why),
            )
            .await;
        }
        clients::delete(&svc, &actor, &client.id).await?;
        return Ok(console.answer(Redirect::to("/admin/clients?done=deleted")));
    }
    let (client, secret) = match client_edits::rotate_secret(&svc, &actor, &client.id).await {
        Ok(made) => made,
        Err(e) => return Ok(console.answer(WebError::from(e).into_response())),
    };
    let body = page(
        StatusCode::OK,
        &SecretPage {
            nav: Nav::of(&console, "clients"),
            heading: format!("A new secret for {}", client.name),
            lead: "The old secret stopped working now. Put this one into the app's settings; it is shown only this \
                   once."
                .into(),
            facts: vec![("Client id", client.id.clone())],
            secret: &secret,
            back: format!("/admin/clients/{}", client.id),
            back_label: format!("Back to {}", client.name),
        },
    );
    Ok(console.answer(body))
}
