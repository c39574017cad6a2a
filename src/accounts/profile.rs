//! An admin's edits to a user's profile (name, email, title, department). A user a
//! SCIM client provisioned is that client's to change: its next sync would undo an
//! edit made here, so the edit is refused and the admin told which system to use.
use super::users::{By, clean_optional, display_name_of, validate_email};
use super::{AccountsError, User};
use crate::audit;
use crate::model::user::MultiValue;
use crate::services::Services;
use crate::store::{self, StoreError};

#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
}

/// The SCIM client that provisioned `user` and still holds an unrevoked token: it owns
/// the user's profile.
pub async fn scim_owner(svc: &Services, user: &User) -> Result<Option<String>, StoreError> {
    let c = svc.store.reader();
    let Some(created) = store::audit::first(c, &user.id.to_string(), "user.create").await? else {
        return Ok(None);
    };
    if created.actor_kind != "scim" {
        return Ok(None);
    }
    let live = store::scim_clients::list(c)
        .await?
        .into_iter()
        .any(|client| Some(client.id.to_string()) == created.actor_id && client.revoked_at.is_none());
    Ok(live.then_some(created.actor_label))
}

/// Saves the edit; audited with the fields that changed.
pub async fn edit(svc: &Services, user: &User, edit: ProfileEdit, by: &By) -> Result<(), AccountsError> {
    if let Some(owner) = scim_owner(svc, user).await? {
        return Err(AccountsError::invalid(
            "profile",
            format!("{owner} keeps this user's profile in sync: change it there, or its next sync undoes the change"),
        ));
    }
    let email = clean_optional(edit.email, "email")?
        .map(|e| validate_email(&e))
        .transpose()?;
    let mut after = user.clone();
    after.email = email;
    after.given_name = clean_optional(edit.given_name, "given_name")?;
    after.family_name = clean_optional(edit.family_name, "family_name")?;
    after.profile.title = clean_optional(edit.title, "title")?;
    after.profile.department = clean_optional(edit.department, "department")?;
    // With no names left, a display name set apart from them (by the CLI) is kept.
    after.display_name = display_name_of(after.given_name.as_deref(), after.family_name.as_deref()).or_else(|| {
        user.display_name
            .clone()
            .filter(|_| user.given_name.is_none() && user.family_name.is_none())
    });
    let changed: Vec<&str> = [
        ("email", user.email != after.email),
        ("given_name", user.given_name != after.given_name),
        ("family_name", user.family_name != after.family_name),
        ("title", user.profile.title != after.profile.title),
        ("department", user.profile.department != after.profile.department),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let now = svc.now();
    after.updated_at = now;
    after.version = user.version + 1;
    let tx = svc.store.begin().await?;
    if let Some(e) = &after.email
        && user.email.as_deref().map(str::to_lowercase) != Some(e.to_lowercase())
        && store::users::email_in_use(&tx, e).await?
    {
        return Err(AccountsError::EmailTaken(e.clone()));
    }
    match store::users::replace(&tx, &after, user.version).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(AccountsError::invalid(
                "profile",
                "someone else changed this user a moment ago: open the page again and redo the edit",
            ));
        }
        Err(StoreError::Conflict(_)) => return Err(AccountsError::EmailTaken(after.email.clone().unwrap_or_default())),
        Err(e) => return Err(e.into()),
    }
    if changed.contains(&"email") {
        // The address is the user's one SCIM `emails` value too.
        let mut values: Vec<MultiValue> = store::scim::values_of(&tx, &[user.id])
            .await?
            .remove(&user.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.attr != "emails")
            .collect();
        if let Some(email) = &after.email {
            values.push(MultiValue {
                attr: "emails".into(),
                kind: Some("work".into()),
                value: Some(email.clone()),
                display: None,
                primary: true,
                data: serde_json::json!({ "value": email, "type": "work", "primary": true }),
            });
        }
        store::scim::set_values(&tx, user.id, &values).await?;
        // Links went to the old address: whoever has it there must not use them.
        super::invites::void(&tx, user.id, "email address changed", now).await?;
        super::resets::void(&tx, user.id, "email address changed", now).await?;
    }
    let detail = if changed.contains(&"email") {
        serde_json::json!({ "changed": changed, "email": { "from": user.email, "to": after.email } })
    } else {
        serde_json::json!({ "changed": changed })
    };
    audit::record(&tx, &by.event("user.profile", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
