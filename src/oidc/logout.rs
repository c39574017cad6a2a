//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
use super::OidcError;
use super::clients::{self, Client};
use super::redirect::with_query;
use crate::audit::{self, Actor, Event, Target};
use crate::oidc::Provider;
use crate::sessions::{self, Session};
use crate::store::{self, StoreError};
use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct EndSessionParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

pub enum Outcome {
    /// Ask the user first: nothing proves the request comes from their app.
    Confirm,
    Redirect(String),
    SignedOut,
    Refused(String),
}

pub async fn end_session(
    svc: &Provider,
    params: &EndSessionParams,
    session: Option<Session>,
    confirmed: bool,
) -> Result<Outcome, OidcError> {
    let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        None => None,
        Some(h) => match svc
            .keys
            .verify(svc, h)
            .await?
            .filter(|(_, c)| c["iss"] == svc.config.issuer_id())
        {
            Some((_, claims)) => Some(claims),
            None => {
                return Ok(Outcome::Refused(
                    "The sign-out request carries an ID token Tessera did not issue.".into(),
                ));
            }
        },
    };
    let hint_client = hint.as_ref().and_then(|c| match &c["aud"] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str().map(str::to_string)),
        _ => None,
    });
    let client_id = match (hint_client, params.client_id.clone().filter(|c| !c.is_empty())) {
        (Some(a), Some(b)) if a != b => {
            return Ok(Outcome::Refused(
                "client_id does not match the ID token's audience.".into(),
            ));
        }
        (a, b) => a.or(b),
    };
    let client: Option<Client> = match &client_id {
        Some(id) => clients::find(svc, id).await?,
        None => None,
    };
    let redirect = match params.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(uri) => match &client {
            Some(c) if c.post_logout_uris.iter().any(|u| u == uri) => Some(uri.to_string()),
            _ => {
                return Ok(Outcome::Refused(
                    "The application asked to send you to an address it has not registered for sign-out.".into(),
                ));
            }
        },
    };
    if let Some(session) = session {
        let hinted_user = hint.as_ref().and_then(|c| c["sub"].as_str().map(str::to_string));
        let proven = hinted_user.as_deref() == Some(session.user_id.to_string().as_str());
        if !proven && !confirmed {
            return Ok(Outcome::Confirm);
        }
        end(svc, &session).await?;
    }
    Ok(match redirect {
        Some(uri) => match params.state.as_deref() {
            Some(state) => Outcome::Redirect(with_query(&uri, &[("state", state)])),
            None => Outcome::Redirect(uri),
        },
        None => Outcome::SignedOut,
    })
}

/// Ends a session with its audit event.
pub async fn end(svc: &Provider, session: &Session) -> Result<(), OidcError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    if sessions::end(&tx, session, now).await? {
        let user = store::users::find_by_id(&tx, session.user_id).await?;
        let (actor, target) = match &user {
            Some(u) => (Actor::user(u.id, &u.username), Some(Target::user(u.id, &u.username))),
            None => (Actor::anonymous(), None),
        };
        audit::record(
            &tx,
            &Event::new(&actor, "logout", target).with_detail(serde_json::json!({ "session": session.id })),
            now,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
