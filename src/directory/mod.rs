//! Groups (clinics, sites, departments) and who belongs to them.
pub mod listing;
pub mod scope;

use crate::accounts::AccountsError;
use crate::audit::{self, Actor, Event, Target};
use crate::services::Services;
use crate::store::{self, StoreError};
use serde::Serialize;
use uuid::Uuid;

pub use crate::model::group::Group;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("group name: {0}")]
    InvalidName(&'static str),
    #[error("a group named '{0}' already exists")]
    NameTaken(String),
    #[error("no group '{0}'")]
    GroupNotFound(String),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a user holds any admin right: the admin role, or admin of some group.
/// Such users are beyond the reach of callers not registered to manage admins.
pub async fn holds_admin_rights(c: &impl store::Conn, user: &crate::accounts::User) -> Result<bool, StoreError> {
    Ok(user.role == crate::accounts::Role::Admin || store::groups::administers_any(c, user.id).await?)
}

pub async fn create_group(svc: &Services, actor: &Actor, name: &str) -> Result<Group, DirectoryError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DirectoryError::InvalidName("is required"));
    }
    if name.chars().count() > 256 || name.chars().any(char::is_control) {
        return Err(DirectoryError::InvalidName(
            "must be at most 256 characters, without control characters",
        ));
    }
    let now = svc.now();
    let group = Group {
        id: Uuid::now_v7(),
        display_name: name.to_string(),
        external_id: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let tx = svc.store.begin().await?;
    if store::groups::find_by_name(&tx, name).await?.is_some() {
        return Err(DirectoryError::NameTaken(name.to_string()));
    }
    match store::groups::insert(&tx, &group).await {
        Err(StoreError::Conflict(_)) => return Err(DirectoryError::NameTaken(name.to_string())),
        other => other?,
    }
    audit::record(
        &tx,
        &Event::new(actor, "group.create", Some(Target::group(group.id, name))),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(group)
}

#[derive(Debug, Serialize)]
pub struct Membership {
    pub group: String,
    pub username: String,
    pub group_admin: bool,
    /// False when the user was already a member (nothing changed).
    pub added: bool,
}

pub async fn add_member(
    svc: &Services,
    actor: &Actor,
    group_name: &str,
    username: &str,
    group_admin: bool,
) -> Result<Membership, DirectoryError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let group = store::groups::find_by_name(&tx, group_name)
        .await?
        .ok_or_else(|| DirectoryError::GroupNotFound(group_name.to_string()))?;
    let user = store::users::find_by_username(&tx, username)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))?;
    let added = store::groups::add_member(&tx, group.id, user.id, group_admin, now).await?;
    if added {
        audit::record(
            &tx,
            &Event::new(
                actor,
                "group.add_member",
                Some(Target::group(group.id, &group.display_name)),
            )
            .with_detail(
                serde_json::json!({ "user_id": user.id, "username": user.username, "group_admin": group_admin }),
            ),
            now,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Membership {
        group: group.display_name,
        username: user.username,
        group_admin,
        added,
    })
}

pub async fn groups_of(svc: &Services, user_id: Uuid) -> Result<Vec<String>, DirectoryError> {
    Ok(store::groups::names_for_user(svc.store.conn(), user_id).await?)
}

/// Sets whether a group's members must sign in with a second factor; audited.
pub async fn set_require_2fa(
    svc: &Services,
    actor: &Actor,
    name: &str,
    required: bool,
) -> Result<Group, DirectoryError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let group = store::groups::find_by_name(&tx, name)
        .await?
        .ok_or_else(|| DirectoryError::GroupNotFound(name.to_string()))?;
    store::groups::set_require_2fa(&tx, group.id, required).await?;
    let event = Event::new(
        actor,
        "group.require_2fa",
        Some(Target::group(group.id, &group.display_name)),
    )
    .with_detail(serde_json::json!({ "required": required }));
    audit::record(&tx, &event, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(group)
}

/// Puts a user in exactly the `wanted` ones of `assignable` groups (the groups the
/// admin may assign), leaving their other groups alone; each change audited, all in
/// one transaction. How many memberships changed.
pub async fn set_groups(
    svc: &Services,
    by: &crate::accounts::users::By,
    user: &crate::accounts::User,
    assignable: &[(Uuid, String)],
    wanted: &[Uuid],
) -> Result<usize, DirectoryError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let current: Vec<Uuid> = store::groups::of_user(&tx, user.id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut changed = 0;
    for (id, name) in assignable {
        let (is_in, want) = (current.contains(id), wanted.contains(id));
        let action = match (is_in, want) {
            (false, true) => {
                store::groups::add_member(&tx, *id, user.id, false, now).await?;
                "group.add_member"
            }
            (true, false) => {
                store::groups::remove_member(&tx, *id, user.id).await?;
                "group.remove_member"
            }
            _ => continue,
        };
        changed += 1;
        let detail = serde_json::json!({ "user_id": user.id, "username": user.username });
        let event = Event::new(&by.actor, action, Some(Target::group(*id, name)))
            .from_ip(by.source_ip.clone())
            .with_detail(detail);
        audit::record(&tx, &event, now).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(changed)
}
