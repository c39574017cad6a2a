//! `/admin/scim`: the systems that provision staff (an HR system, Entra ID, Okta):
//! registering one (its token shown once, after the admin's own password when its
//! sign-in is not recent), and when each was last heard from.
use super::clients::{SecretPage, group_names};
use super::users::Choice;
use super::{Fields, Nav, enter_admin, when};
use crate::http::web::{checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::scim::clients::{self, ClientRights};
use crate::store;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;

pub(super) struct ScimRow {
    pub id: String,
    pub name: String,
    pub reaches: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Default)]
pub struct NewScimForm {
    name: String,
    groups: Vec<String>,
    manage_admins: bool,
    set_passwords: bool,
    no_invites: bool,
    current_password: String,
}

impl From<Fields> for NewScimForm {
    fn from(fields: Fields) -> Self {
        let mut form = NewScimForm::default();
        for (k, v) in fields.into_pairs() {
            match k.as_str() {
                "name" => form.name = v,
                "group" => form.groups.push(v),
                "manage_admins" => form.manage_admins = true,
                "set_passwords" => form.set_passwords = true,
                "no_invites" => form.no_invites = true,
                "current_password" => form.current_password = v,
                _ => {}
            }
        }
        form
    }
}

#[derive(Template)]
#[template(path = "admin/scim_clients.html")]
struct ScimClientsPage<'a> {
    nav: Nav<'a>,
    rows: Vec<ScimRow>,
    form: &'a NewScimForm,
    groups: Vec<Choice>,
    step_up: bool,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn render(
    svc: &AppState,
    console: super::console::Console,
    form: &NewScimForm,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let all_groups = store::groups::all_names(svc.store.reader()).await?;
    let rows = clients::list(svc)
        .await?
        .into_iter()
        .map(|c| ScimRow {
            id: c.id.to_string(),
            reaches: group_names(&c.groups, &all_groups, c.limited_to_groups),
            last_used: c
                .last_used_at
                .map_or_else(|| "never used".into(), |t| format!("last used {}", when(t))),
            revoked: c.revoked_at.is_some(),
            name: c.name,
        })
        .collect();
    let groups = all_groups
        .iter()
        .map(|(id, name)| Choice {
            selected: form.groups.iter().any(|g| g == &id.to_string()),
            value: id.to_string(),
            label: name.clone(),
        })
        .collect();
    let body = page(
        status,
        &ScimClientsPage {
            nav: Nav::of(&console, "scim"),
            rows,
            form,
            groups,
            step_up: console.needs_step_up(svc.now()),
            error,
            notice,
        },
    );
    Ok(console.answer(body))
}

pub async fn list(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Query(shown): Query<super::Shown>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "scim_clients", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let notice = (shown.done.as_deref() == Some("revoked")).then_some("Revoked: its token no longer works.");
    render(&svc, console, &NewScimForm::default(), StatusCode::OK, None, notice).await
}

pub async fn create(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let form: NewScimForm = match checked_form(&svc, &jar, form, "Open the SCIM page again.") {
        Ok(fields) => fields.into(),
        Err(answer) => return Ok(*answer),
    };
    let mut console = match enter_admin(&svc, jar, "scim_client_create", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    if !console
        .step_up(&svc, &form.current_password, Some(from.to_string()))
        .await?
    {
        let why = "Your own password was not right, so nothing was registered.".to_string();
        return render(&svc, console, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(why), None).await;
    }
    let all_groups = store::groups::all_names(svc.store.reader()).await?;
    let mut names = Vec::new();
    for g in &form.groups {
        match all_groups.iter().find(|(id, _)| g == &id.to_string()) {
            Some((_, name)) => names.push(name.clone()),
            None => {
                let why = "One of the chosen groups no longer exists.".to_string();
                return render(&svc, console, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(why), None).await;
            }
        }
    }
    let rights = ClientRights {
        manage_admins: form.manage_admins,
        set_passwords: form.set_passwords,
        no_invites: form.no_invites,
    };
    let (client, token) = match clients::create(&svc, &console.admin.actor(), &form.name, &names, rights).await {
        Ok(made) => made,
        Err(e) => match WebError::from(e) {
            WebError::BadRequest(why) => {
                return render(&svc, console, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(why), None).await;
            }
            other => return Err(other),
        },
    };
    let body = page(
        StatusCode::OK,
        &SecretPage {
            nav: Nav::of(&console, "scim"),
            heading: format!("{} is registered", client.name),
            lead: "Give the provisioning system this SCIM endpoint and bearer token now. The token is shown only \
                   this once: Tessera keeps only its hash."
                .into(),
            facts: vec![("SCIM endpoint", format!("{}/scim/v2", svc.config.base_url()))],
            secret: &token,
            back: format!("/admin/scim/{}", client.id),
            back_label: format!("Go to {}", client.name),
        },
    );
    Ok(console.answer(body))
}
