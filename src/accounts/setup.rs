//! The first admin: while no admin can sign in, start-up issues a one-time setup
//! link (1 hour, single use) through which the first admin chooses a password.
use super::tokens::{self, Purpose};
use super::users::{self, InitialPassword, NewUser};
use super::{AccountsError, User};
use crate::audit::{self, Actor, Event};
use crate::services::Services;
use crate::store::{self, StoreError};

/// A setup link is good for an hour: it is printed to whoever starts the server.
const LINK_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// Returns the setup link when no admin can sign in yet, voiding any earlier link.
pub async fn offer_if_needed(svc: &Services) -> Result<Option<String>, AccountsError> {
    if store::users::count_admins_with_password(svc.store.conn()).await? > 0 {
        return Ok(None);
    }
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let issued = tokens::issue(&tx, Purpose::Setup, None, now, LINK_LIFETIME).await?;
    audit::record(
        &tx,
        &Event::new(&Actor::system(), "setup.link_issued", None)
            .with_detail(serde_json::json!({ "expires_at": issued.token.expires_at })),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(format!("{}/setup?token={}", svc.config.base_url(), issued.secret)))
}

/// Whether a setup link is still good (to decide between the form and an error page).
/// Once any admin can sign in, every setup link is void: it exists only to make the first.
pub async fn is_valid(svc: &Services, secret: &str) -> Result<bool, AccountsError> {
    let c = svc.store.conn();
    Ok(store::users::count_admins_with_password(c).await? == 0
        && tokens::peek(c, secret, Purpose::Setup, svc.now()).await?.is_some())
}

pub struct FirstAdmin {
    pub username: String,
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password: String,
}

/// Creates the first admin and uses the link up, in one transaction: either both
/// happen or neither does.
pub async fn complete(
    svc: &Services,
    secret: &str,
    admin: FirstAdmin,
    source_ip: Option<String>,
) -> Result<User, AccountsError> {
    let new = NewUser {
        username: admin.username,
        email: Some(admin.email),
        given_name: admin.given_name,
        family_name: admin.family_name,
        admin: true,
    };
    // Check the link before the costly hash, and again (atomically) when using it up.
    if !is_valid(svc, secret).await? {
        return Err(AccountsError::InvalidToken);
    }
    let prepared = users::prepare(svc, new, InitialPassword::Chosen(admin.password)).await?;
    let user = prepared.user;
    let now = svc.now();
    let tx = svc.store.begin().await?;
    if tokens::consume(&tx, secret, Purpose::Setup, now).await?.is_none()
        || store::users::count_admins_with_password(&tx).await? > 0
    {
        return Err(AccountsError::InvalidToken);
    }
    let actor = Actor::user(user.id, &user.username);
    users::insert_prepared(&tx, &actor, source_ip.clone(), &user, users::EmailRule::Unique).await?;
    users::store_email_value(&tx, &user).await?;
    audit::record(&tx, &Event::new(&actor, "setup.complete", None).from_ip(source_ip), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(user)
}
