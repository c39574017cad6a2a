//! SCIM operations on Users. Each change is one transaction with its audit event.
use super::etag::{etag, version_of};
use super::list::{self, ListParams};
use super::rights::{self, Sensitive};
use super::schema::{Resource, USER_FILTER};
use super::user_json::{self, GroupRef, UserInput};
use super::{ScimClient, ScimError, base_url, canonical, parse_id, patch};
use crate::accounts::invites;
use crate::accounts::users::{
    self as users, By, EmailRule, activation_changed, check_sign_in_name, insert_prepared, on_password_changed,
    validate_email, validate_username,
};
use crate::accounts::{AccountsError, MultiValue, Role, User, password};
use crate::audit::{self, Target};
use crate::model::query::Scope;
use crate::services::Services;
use crate::store::{self, StoreError};
use serde_json::Value;
use uuid::Uuid;

fn base(svc: &Services) -> String {
    base_url(&svc.config.base_url())
}

async fn load(svc: &Services, client: &ScimClient, id: &str) -> Result<User, ScimError> {
    let uuid = parse_id(id, Resource::User)?;
    let c = svc.store.reader();
    let user = store::users::find_by_id(c, uuid).await?;
    match user {
        Some(u) if store::scim::user_in_scope(c, u.id, &client.scope).await? => Ok(u),
        _ => Err(ScimError::not_found(format!("User {id} not found"))),
    }
}

async fn render(svc: &Services, client: &ScimClient, user: &User) -> Result<Value, ScimError> {
    let c = svc.store.reader();
    let values = store::scim::values_of(c, &[user.id])
        .await?
        .remove(&user.id)
        .unwrap_or_default();
    let groups = groups_ref(
        &client.scope,
        store::scim::groups_of(c, &[user.id]).await?.remove(&user.id),
    );
    Ok(user_json::write(&base(svc), user, &values, &groups))
}

/// The user's groups the client may see: names of others are not its business.
fn groups_ref(scope: &Scope, groups: Option<Vec<(Uuid, String)>>) -> Vec<GroupRef> {
    groups
        .unwrap_or_default()
        .into_iter()
        .filter(|(id, _)| scope.sees_group(*id))
        .map(|(id, name)| GroupRef { id, name })
        .collect()
}

pub async fn get(svc: &Services, client: &ScimClient, id: &str) -> Result<Value, ScimError> {
    let user = load(svc, client, id).await?;
    render(svc, client, &user).await
}

/// Checks the body's `schemas` names the User schema (Entra always sends it).
fn check_schemas(doc: &Value) -> Result<(), ScimError> {
    match doc.get("schemas").and_then(Value::as_array) {
        Some(list)
            if list
                .iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(super::schema::USER))) =>
        {
            let known = |u: &str| Resource::User.attrs_of(u).is_some();
            match list.iter().find(|u| !u.as_str().is_some_and(known)) {
                Some(bad) => Err(ScimError::invalid_syntax(format!("unknown schema {bad}"))),
                None => Ok(()),
            }
        }
        _ => Err(ScimError::invalid_syntax(format!(
            "schemas must contain {}",
            super::schema::USER
        ))),
    }
}

/// Copies what a client sent onto a user record.
fn apply(user: &mut User, input: &UserInput) -> Result<(), ScimError> {
    let Some(user_name) = input.user_name.clone() else {
        return Err(ScimError::invalid_value("userName is required"));
    };
    user.username = validate_username(&user_name)?;
    // The SCIM emails are kept as sent; Tessera mails the primary one only when it is
    // a usable address (an HR system may hold placeholders).
    user.email = user_json::primary_email(&input.values).and_then(|e| validate_email(&e).ok());
    user.given_name = input.given_name.clone();
    user.family_name = input.family_name.clone();
    user.display_name = input.display_name.clone();
    user.profile = input.profile.clone();
    user.external_id = input.external_id.clone();
    // Absent from a PUT: status unchanged, so a feed that omits it never re-enables anyone.
    if let Some(active) = input.active {
        user.active = active;
        user.profile.active_unset = false;
    } else if input.active_removed {
        user.active = true;
        user.profile.active_unset = true;
    }
    Ok(())
}

async fn hash_password(svc: &Services, input: &UserInput, user: &User) -> Result<Option<String>, ScimError> {
    match &input.password {
        Some(p) => {
            password::check_policy(
                svc.settings().password_min_length,
                p,
                &user.username,
                user.email.as_deref(),
            )
            .map_err(|e| ScimError::invalid_value(e.to_string()))?;
            Ok(Some(password::hash(p.clone()).await?))
        }
        None => Ok(None),
    }
}

pub async fn create(svc: &Services, client: &ScimClient, body: &Value) -> Result<Value, ScimError> {
    let doc = canonical::canonicalize(Resource::User, body)?;
    check_schemas(&doc)?;
    let input = user_json::read(&doc)?;
    let now = svc.now();
    let mut new = User {
        id: Uuid::now_v7(),
        username: String::new(),
        email: None,
        given_name: None,
        family_name: None,
        display_name: None,
        profile: Default::default(),
        external_id: None,
        active: true,
        role: Role::Member,
        password_hash: None,
        must_change_password: false,
        failed_logins: 0,
        locked_until: None,
        lockouts: 0,
        password_expires_at: None,
        access_until: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    apply(&mut new, &input)?;
    let sensitive = Sensitive {
        password: input.password.is_some(),
        ..Sensitive::default()
    };
    rights::check(svc, client, None, sensitive).await?;
    new.password_hash = hash_password(svc, &input, &new).await?;

    let actor = client.actor();
    let tx = svc.store.begin().await?;
    insert_prepared(&tx, &actor, client.source_ip.clone(), &new, EmailRule::Shared).await?;
    store::scim::insert_values(&tx, new.id, &input.values).await?;
    // A client limited to groups puts the users it creates into them.
    for group in &client.scope.groups {
        store::groups::add_member(&tx, *group, new.id, false, now).await?;
    }
    // Seed 000: a new person the HR system sends, active, with an address and no
    // password, gets an invite; not from a client whose users sign in elsewhere.
    let invite = new.mail_address().is_some() && new.password_hash.is_none() && !client.rights.no_invites;
    if invite {
        let by = By {
            actor: actor.clone(),
            source_ip: client.source_ip.clone(),
        };
        match invites::send(&tx, svc, &new, &by, now).await {
            Ok(_) => {}
            // An address no mail can go to: the person is provisioned all the same, and
            // `tessera user show` tells that no invite went.
            Err(AccountsError::Mail(e)) => tracing::warn!(user = %new.id, error = %e, "no invite sent"),
            Err(e) => return Err(e.into()),
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    if invite {
        svc.mail_wake.notify_one();
    }
    // Rendered from what was just stored: a new user's only groups are its client's.
    let groups = if client.scope.groups.is_empty() {
        Vec::new()
    } else {
        groups_ref(
            &client.scope,
            store::scim::groups_of(svc.store.conn(), &[new.id])
                .await?
                .remove(&new.id),
        )
    };
    Ok(user_json::write(&base(svc), &new, &input.values, &groups))
}

fn check_version(user_version: i64, if_match: Option<&str>) -> Result<(), ScimError> {
    match if_match.map(str::trim) {
        None | Some("*") => Ok(()),
        Some(tag) if tag.split(',').any(|t| version_of(t) == Some(user_version)) => Ok(()),
        Some(_) => Err(ScimError::invalid_version(format!(
            "the resource has changed: its version is {}",
            etag(user_version)
        ))),
    }
}

/// Stores `after` in place of `before`, with its multi-valued attributes, password,
/// deprovisioning effects and audit event.
async fn save(
    svc: &Services,
    client: &ScimClient,
    before: &User,
    input: &UserInput,
    action: &'static str,
) -> Result<Value, ScimError> {
    let now = svc.now();
    let mut after = before.clone();
    apply(&mut after, input)?;
    // An end of access set in Tessera holds against a feed that still lists the user
    // as active: only an admin restoring the user (which clears the end) lifts it.
    if after.access_ended(now) {
        after.active = false;
    }
    let sensitive = Sensitive::of_update(before, &after, input.password.is_some());
    // Checked before the costly hash, and again inside the transaction.
    rights::check(svc, client, Some(before), sensitive).await?;
    let new_hash = hash_password(svc, input, &after).await?;
    if let Some(hash) = &new_hash {
        // A password set by the HR system is the user's own: no forced change, lock cleared.
        after.password_hash = Some(hash.clone());
        after.must_change_password = false;
        after.failed_logins = 0;
        after.locked_until = None;
        after.lockouts = 0;
        after.password_expires_at = None;
    }
    after.updated_at = now;
    after.version = before.version + 1;

    let target = Target::user(after.id, &after.username);
    let tx = rights::recheck(svc, svc.store.begin().await?, client, Some(before), sensitive).await?;
    if let Some(other) = store::users::find_by_username(&tx, &after.username).await?
        && other.id != after.id
    {
        return Err(ScimError::uniqueness(format!(
            "userName '{}' is already taken",
            after.username
        )));
    }
    if after.username != before.username {
        check_sign_in_name(&tx, &after).await?;
    }
    if !store::users::replace(&tx, &after, before.version).await? {
        return Err(ScimError::invalid_version(
            "the resource changed while this request was applied; retry",
        ));
    }
    store::scim::set_values(&tx, after.id, &input.values).await?;
    if new_hash.is_some() {
        on_password_changed(&tx, after.id, now).await?;
        audit::record(&tx, &client.event("user.password_set", Some(target.clone())), now).await?;
    }
    if before.active != after.active {
        activation_changed(&tx, &after, after.active, &client.by(), now).await?;
    }
    if before.email != after.email {
        // Links went to the old address: whoever has it there must not use them.
        crate::accounts::invites::void(&tx, after.id, "email address changed", now).await?;
        crate::accounts::resets::void(&tx, after.id, "email address changed", now).await?;
    }
    audit::record(&tx, &client.event(action, Some(target)), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let stored = store::users::find_by_id(svc.store.conn(), after.id)
        .await?
        .unwrap_or(after);
    render(svc, client, &stored).await
}

pub async fn replace(
    svc: &Services,
    client: &ScimClient,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let before = load(svc, client, id).await?;
    check_version(before.version, if_match)?;
    let doc = canonical::canonicalize(Resource::User, body)?;
    check_schemas(&doc)?;
    if let Some(body_id) = doc.get("id").and_then(Value::as_str)
        && body_id != before.id.to_string()
    {
        return Err(ScimError::mutability("id cannot be changed"));
    }
    let input = user_json::read(&doc)?;
    save(svc, client, &before, &input, "user.replace").await
}

pub async fn patch(
    svc: &Services,
    client: &ScimClient,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let ops = patch::parse_request(body)?;
    let before = load(svc, client, id).await?;
    check_version(before.version, if_match)?;
    let mut doc = render(svc, client, &before).await?;
    patch::apply(Resource::User, &mut doc, &ops)?;
    // A password arrives only through PATCH's value; it is never in the rendered doc.
    let mut input = user_json::read(&doc)?;
    input.password = match ops.iter().rev().find_map(password_in) {
        Some(Some(p)) => Some(p.to_string()),
        // A password is replaced, never removed: a user without one could not sign in.
        Some(None) => {
            return Err(ScimError::invalid_value(
                "password must be a string; it cannot be removed",
            ));
        }
        None => None,
    };
    input.active_removed = input.active.is_none();
    save(svc, client, &before, &input, "user.patch").await
}

/// The password an operation sets: Some(Some(p)) for a string, Some(None) for any
/// other value or a removal, None when the operation does not touch it.
fn password_in(op: &patch::Operation) -> Option<Option<&str>> {
    let value = op.value.as_ref();
    match op.path.as_deref() {
        Some(p) if p.eq_ignore_ascii_case("password") || p.to_ascii_lowercase().ends_with(":user:password") => {
            Some(value.and_then(Value::as_str))
        }
        None => value
            .and_then(Value::as_object)
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("password")))
            .map(|(_, v)| v.as_str()),
        _ => None,
    }
}

pub async fn delete(svc: &Services, client: &ScimClient, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
    let user = load(svc, client, id).await?;
    check_version(user.version, if_match)?;
    let now = svc.now();
    let sensitive = Sensitive {
        delete: true,
        ..Sensitive::default()
    };
    rights::check(svc, client, Some(&user), sensitive).await?;
    let tx = rights::recheck(svc, svc.store.begin().await?, client, Some(&user), sensitive).await?;
    users::remove(&tx, &user, &client.by(), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn list(svc: &Services, client: &ScimClient, params: &ListParams) -> Result<Value, ScimError> {
    let sort = list::sort(params, list::user_sort_key)?;
    let page = params.page();
    let c = svc.store.reader();
    let (total, users) = store::scim::list_users(
        c,
        params.filter.as_ref().map(|f| (f, &*USER_FILTER)),
        &client.scope,
        sort.as_ref(),
        &page,
    )
    .await
    .map_err(query_error)?;
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let mut values = store::scim::values_of(c, &ids).await?;
    let mut groups = store::scim::groups_of(c, &ids).await?;
    let base = base(svc);
    let resources = users
        .iter()
        .map(|u| {
            let vals: Vec<MultiValue> = values.remove(&u.id).unwrap_or_default();
            let doc = user_json::write(&base, u, &vals, &groups_ref(&client.scope, groups.remove(&u.id)));
            list::project(Resource::User, doc, &params.attributes, &params.excluded)
        })
        .collect();
    Ok(list::response(total, page.start_index, resources))
}

pub fn query_error(e: StoreError) -> ScimError {
    match e {
        StoreError::UnsupportedFilter(m) => ScimError::invalid_filter(m),
        other => other.into(),
    }
}
