//! `/admin/clients`: the apps staff sign in to (OpenID Connect clients), and
//! registering a new one. A secret is shown once, after the admin's own password when
//! its sign-in is not recent.
use super::users::Choice;
use super::{Fields, Nav, enter_admin, lines, when};
use crate::http::web::{checked_form, page};
use crate::http::{AppState, ClientAddress, WebError};
use crate::oidc::clients::{self, CLIENT_CREDENTIALS, Client, NewClient};
use crate::store;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

pub(super) struct ClientRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub groups: String,
    pub created: String,
}

pub(super) fn kind_of(c: &Client) -> &'static str {
    if c.public {
        "Public app (PKCE, no secret)"
    } else if !c.allows_grant(clients::AUTHORIZATION_CODE) {
        "Service (client credentials)"
    } else if c.jwks.is_some() {
        "Web app (signed with its own keys)"
    } else {
        "Web app (with a secret)"
    }
}

pub(super) fn group_names(ids: &[Uuid], all: &[(Uuid, String)], limited: bool) -> String {
    if !limited {
        return "Everyone".into();
    }
    let names: Vec<&str> = all
        .iter()
        .filter(|(id, _)| ids.contains(id))
        .map(|(_, n)| n.as_str())
        .collect();
    if names.is_empty() {
        "No one (its groups were deleted)".into()
    } else {
        names.join(", ")
    }
}

#[derive(Default)]
pub struct NewClientForm {
    name: String,
    /// `web`, `public` or `service`.
    kind: String,
    redirect_uris: String,
    post_logout_uris: String,
    scopes: String,
    consent: bool,
    groups: Vec<String>,
    current_password: String,
}

impl From<Fields> for NewClientForm {
    fn from(fields: Fields) -> Self {
        let mut form = NewClientForm::default();
        for (k, v) in fields.into_pairs() {
            match k.as_str() {
                "name" => form.name = v,
                "kind" => form.kind = v,
                "redirect_uris" => form.redirect_uris = v,
                "post_logout_uris" => form.post_logout_uris = v,
                "scopes" => form.scopes = v,
                "consent" => form.consent = true,
                "group" => form.groups.push(v),
                "current_password" => form.current_password = v,
                _ => {}
            }
        }
        form
    }
}

#[derive(Template)]
#[template(path = "admin/clients.html")]
struct ClientsPage<'a> {
    nav: Nav<'a>,
    rows: Vec<ClientRow>,
    form: &'a NewClientForm,
    groups: Vec<Choice>,
    step_up: bool,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
pub(super) struct SecretPage<'a> {
    pub nav: Nav<'a>,
    pub heading: String,
    pub lead: String,
    /// Shown beside the secret: what the other system needs too (a client id).
    pub facts: Vec<(&'static str, String)>,
    pub secret: &'a str,
    pub back: String,
    pub back_label: String,
}

async fn rows(svc: &AppState) -> Result<(Vec<ClientRow>, Vec<(Uuid, String)>), WebError> {
    let all_groups = store::groups::all_names(svc.store.reader()).await?;
    let rows = clients::list(svc)
        .await?
        .iter()
        .map(|c| ClientRow {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: kind_of(c),
            groups: group_names(&c.groups, &all_groups, c.limited_to_groups),
            created: when(c.created_at),
        })
        .collect();
    Ok((rows, all_groups))
}

fn choices(all: &[(Uuid, String)], chosen: &[String]) -> Vec<Choice> {
    all.iter()
        .map(|(id, name)| Choice {
            selected: chosen.iter().any(|g| g == &id.to_string()),
            value: id.to_string(),
            label: name.clone(),
        })
        .collect()
}

pub async fn list(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    axum::extract::Query(shown): axum::extract::Query<super::Shown>,
) -> Result<Response, WebError> {
    let console = match enter_admin(&svc, jar, "clients", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let (rows, all_groups) = rows(&svc).await?;
    let form = NewClientForm {
        kind: "web".into(),
        ..NewClientForm::default()
    };
    let body = page(
        StatusCode::OK,
        &ClientsPage {
            nav: Nav::of(&console, "clients"),
            rows,
            groups: choices(&all_groups, &[]),
            form: &form,
            step_up: console.needs_step_up(svc.now()),
            error: None,
            notice: (shown.done.as_deref() == Some("deleted"))
                .then_some("The app is deleted: its sign-ins and tokens no longer work."),
        },
    );
    Ok(console.answer(body))
}

fn new_client(form: &NewClientForm, groups: &[(Uuid, String)]) -> NewClient {
    let service = form.kind == "service";
    NewClient {
        name: form.name.clone(),
        redirect_uris: if service {
            Vec::new()
        } else {
            lines(&form.redirect_uris)
        },
        post_logout_uris: if service {
            Vec::new()
        } else {
            lines(&form.post_logout_uris)
        },
        public: form.kind == "public",
        extra_grants: if service {
            vec![CLIENT_CREDENTIALS.to_string()]
        } else {
            Vec::new()
        },
        consent: form.consent,
        groups: groups
            .iter()
            .filter(|(id, _)| form.groups.iter().any(|g| g == &id.to_string()))
            .map(|(_, name)| name.clone())
            .collect(),
        scopes: if service { vec![form.scopes.clone()] } else { Vec::new() },
        ..NewClient::default()
    }
}

pub async fn create(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let form: NewClientForm = match checked_form(&svc, &jar, form, "Open the apps page again.") {
        Ok(fields) => fields.into(),
        Err(answer) => return Ok(*answer),
    };
    let mut console = match enter_admin(&svc, jar, "client_create", from).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let (rows, all_groups) = rows(&svc).await?;
    let step_up = console.needs_step_up(svc.now());
    let error;
    if form
        .groups
        .iter()
        .any(|g| !all_groups.iter().any(|(id, _)| g == &id.to_string()))
    {
        error = Some("One of the chosen groups no longer exists.".to_string());
    } else if !console
        .step_up(&svc, &form.current_password, Some(from.to_string()))
        .await?
    {
        error = Some("Your own password was not right, so no app was registered.".to_string());
    } else {
        match clients::create(&svc, &console.admin.actor(), new_client(&form, &all_groups)).await {
            Ok((client, secret)) => return Ok(registered(console, client, secret)),
            Err(e) => match WebError::from(e) {
                WebError::BadRequest(why) => error = Some(why),
                other => return Err(other),
            },
        }
    }
    let body = page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ClientsPage {
            nav: Nav::of(&console, "clients"),
            rows,
            groups: choices(&all_groups, &form.groups),
            form: &form,
            step_up,
            error,
            notice: None,
        },
    );
    Ok(console.answer(body))
}

fn registered(console: super::console::Console, client: Client, secret: Option<String>) -> Response {
    let back = format!("/admin/clients/{}", client.id);
    let Some(secret) = secret else {
        return console.answer(axum::response::Redirect::to(&format!("{back}?done=created")));
    };
    let body = page(
        StatusCode::OK,
        &SecretPage {
            nav: Nav::of(&console, "clients"),
            heading: format!("{} is registered", client.name),
            lead: "Put the client id and secret into the app's settings now. The secret is shown only this once: \
                   Tessera keeps only its hash."
                .into(),
            facts: vec![("Client id", client.id.clone())],
            secret: &secret,
            back,
            back_label: format!("Go to {}", client.name),
        },
    );
    console.answer(body)
}
