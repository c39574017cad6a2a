//! `POST /admin/users/{id}/groups`: which of the admin's assignable groups a user is in.
//! A group admin changes only the groups it administers (a group id it does not hold
//! is refused, 403, audited); the user's other groups stay as they are.
use super::Fields;
use super::console;
use super::user::{reachable, refuse};
use crate::accounts::users::By;
use crate::directory::scope::{self, Refusal};
use crate::http::web::checked_form;
use crate::http::{AppState, ClientAddress, WebError};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

pub async fn save(
    State(svc): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    Path(id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, WebError> {
    let fields = match checked_form(&svc, &jar, form, "Open the user's page again.") {
        Ok(fields) => fields,
        Err(answer) => return Ok(*answer),
    };
    let console = match console::enter(&svc, jar).await {
        Ok(c) => c,
        Err(answer) => return Ok(answer),
    };
    let from = Some(from.to_string());
    let user = match reachable(&svc, &console, &id, "groups", from.clone()).await {
        Ok(u) => u,
        Err(answer) => return Ok(console.answer(answer)),
    };
    let assignable = scope::assignable_groups(&svc, &console.admin).await?;
    let mut wanted = Vec::new();
    for (k, v) in fields.into_pairs() {
        if k != "group" {
            continue;
        }
        match Uuid::parse_str(&v)
            .ok()
            .filter(|g| assignable.iter().any(|(id, _)| id == g))
        {
            Some(g) => wanted.push(g),
            None => {
                let answer = refuse(&svc, &console, "groups", Some(&user), Refusal::GroupNotHeld, from).await;
                return Ok(console.answer(answer));
            }
        }
    }
    let by = By {
        actor: console.admin.actor(),
        source_ip: from,
    };
    crate::directory::set_groups(&svc, &by, &user, &assignable, &wanted).await?;
    let back = Redirect::to(&format!("/admin/users/{}?done=groups", user.id));
    Ok(console.answer(back.into_response()))
}
