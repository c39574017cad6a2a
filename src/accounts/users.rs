//! Creating, listing, disabling, enabling and deleting users.
use super::{AccountsError, MultiValue, Role, User, password, username};
use crate::audit::{self, Actor, Event, Target};
use crate::model::group::Group;
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};
use rand::seq::IndexedRandom;
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub admin: bool,
}

#[derive(Debug, Clone)]
pub enum InitialPassword {
    /// No password yet: the user is "invited" until one is set.
    None,
    /// Chosen by the person (setup page, `--password-stdin`).
    Chosen(String),
    /// Generated and shown once to the admin; the user must change it at first sign-in.
    Temporary,
}

pub struct Created {
    pub user: User,
    /// The generated temporary password, to show once.
    pub temporary_password: Option<String>,
    /// The invite mailed to a user made without a password.
    pub invitation: Option<super::invites::Invitation>,
}

const MAX_NAME: usize = 256;

/// "Given Family", or whichever of the two there is.
pub(super) fn display_name_of(given: Option<&str>, family: Option<&str>) -> Option<String> {
    match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(n), None) | (None, Some(n)) => Some(n.to_string()),
        (None, None) => None,
    }
}

/// A name-like field: trimmed, empty as none, one line of at most 256 characters.
pub(super) fn clean_optional(value: Option<String>, field: &'static str) -> Result<Option<String>, AccountsError> {
    match value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > MAX_NAME => Err(AccountsError::invalid(field, "is longer than 256 characters")),
        Some(v) if v.chars().any(char::is_control) => Err(AccountsError::invalid(field, "contains control characters")),
        other => Ok(other),
    }
}

/// The one username rule (`username.rs`), for every path that names a user.
pub fn validate_username(name: &str) -> Result<String, AccountsError> {
    username::enforce(name.trim()).map_err(|e| AccountsError::invalid("username", e.to_string()))
}

/// Usernames and emails together are the sign-in namespace: a username may not be
/// another user's email, or it would capture that user's sign-in by email. (An email
/// equal to someone's username captures nothing: sign-in tries usernames first.)
pub async fn check_sign_in_name(c: &impl store::Conn, user: &User) -> Result<(), AccountsError> {
    if store::users::is_others_email(c, &user.username, user.id).await? {
        return Err(AccountsError::UsernameTaken(user.username.clone()));
    }
    Ok(())
}

/// A deliberately plain check: one @, something either side, a dot in the domain.
/// Whether the address really works is what the invite mail finds out.
pub fn validate_email(email: &str) -> Result<String, AccountsError> {
    let e = email.trim();
    let bad = || AccountsError::invalid("email", format!("'{e}' is not a valid email address"));
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(e.to_string()) } else { Err(bad()) }
}

/// 20 characters from an alphabet without look-alikes (~99 bits), grouped for reading aloud.
pub(crate) fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..20)
        .filter_map(|_| ALPHABET.choose(&mut rng).map(|&b| char::from(b)))
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Validates a new user and hashes its password, touching no storage yet (hashing
/// takes ~17 ms and must not hold a database transaction open).
pub async fn prepare(svc: &Services, new: NewUser, initial: InitialPassword) -> Result<Created, AccountsError> {
    let username = validate_username(&new.username)?;
    let email = new.email.as_deref().map(validate_email).transpose()?;
    let given_name = clean_optional(new.given_name, "given_name")?;
    let family_name = clean_optional(new.family_name, "family_name")?;

    let (password_hash, temporary_password, must_change) = match initial {
        InitialPassword::None => (None, None, false),
        InitialPassword::Chosen(p) => {
            password::check_policy(svc.settings().password_min_length, &p, &username, email.as_deref())?;
            (Some(password::hash(p).await?), None, false)
        }
        InitialPassword::Temporary => {
            let p = temporary_password();
            (Some(password::hash(p.clone()).await?), Some(p), true)
        }
    };

    let now = svc.now();
    let display_name = display_name_of(given_name.as_deref(), family_name.as_deref());
    let user = User {
        id: Uuid::now_v7(),
        username,
        email,
        given_name,
        family_name,
        display_name,
        profile: Default::default(),
        external_id: None,
        active: true,
        role: if new.admin { Role::Admin } else { Role::Member },
        password_hash,
        must_change_password: must_change,
        failed_logins: 0,
        locked_until: None,
        lockouts: 0,
        password_expires_at: must_change.then(|| now + svc.settings().temporary_password_lifetime),
        access_until: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    Ok(Created {
        user,
        temporary_password,
        invitation: None,
    })
}

/// Whether a new user's email must be unused: yes for accounts made by hand (a typo'd
/// duplicate is a mistake), no for SCIM, where the HR system is the source of truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailRule {
    Unique,
    Shared,
}

/// Stores a prepared user inside the caller's transaction, with its audit event.
pub async fn insert_prepared(
    c: &impl store::Conn,
    actor: &Actor,
    source_ip: Option<String>,
    user: &User,
    email_rule: EmailRule,
) -> Result<(), AccountsError> {
    // userName's uniqueness is left to the unique index: one statement fewer per create.
    check_sign_in_name(c, user).await?;
    if let Some(e) = &user.email
        && email_rule == EmailRule::Unique
        && store::users::email_in_use(c, e).await?
    {
        return Err(AccountsError::EmailTaken(e.clone()));
    }
    match store::users::insert(c, user).await {
        Ok(()) => {}
        // The email check can lose a race with another node; the index has the last word.
        Err(StoreError::Conflict(what)) if what.contains("email") => {
            return Err(AccountsError::EmailTaken(user.email.clone().unwrap_or_default()));
        }
        Err(StoreError::Conflict(_)) => return Err(AccountsError::UsernameTaken(user.username.clone())),
        Err(e) => return Err(e.into()),
    }
    let detail = serde_json::json!({
        "role": user.role,
        "password": match (&user.password_hash, user.must_change_password) {
            (None, _) => "none",
            (Some(_), true) => "temporary",
            (Some(_), false) => "chosen",
        },
    });
    audit::record(
        c,
        &Event::new(actor, "user.create", Some(Target::user(user.id, &user.username)))
            .from_ip(source_ip)
            .with_detail(detail),
        user.created_at,
    )
    .await?;
    Ok(())
}

/// A user made by hand keeps its address as its one SCIM `emails` value too, so a
/// directory client reads it and a later PATCH does not drop it.
pub async fn store_email_value(c: &impl store::Conn, user: &User) -> Result<(), AccountsError> {
    let Some(email) = &user.email else {
        return Ok(());
    };
    let value = MultiValue {
        attr: "emails".into(),
        kind: Some("work".into()),
        value: Some(email.clone()),
        display: None,
        primary: true,
        data: serde_json::json!({ "value": email, "type": "work", "primary": true }),
    };
    store::scim::insert_values(c, user.id, &[value]).await?;
    Ok(())
}

pub async fn create(
    svc: &Services,
    actor: &Actor,
    new: NewUser,
    initial: InitialPassword,
) -> Result<Created, AccountsError> {
    create_in_groups(svc, &By::new(actor), new, initial, &[], false).await
}

/// Creates a user already in `groups` (the console: a group admin's new user must land
/// in its reach), all in one transaction. Without a password an invite is mailed; a
/// temporary one is mailed too with `mail_temporary` (seed 001, options B and C).
pub async fn create_in_groups(
    svc: &Services,
    by: &By,
    new: NewUser,
    initial: InitialPassword,
    groups: &[Group],
    mail_temporary: bool,
) -> Result<Created, AccountsError> {
    let mut created = prepare(svc, new, initial).await?;
    let user = &created.user;
    if mail_temporary {
        crate::mail::address_of(user)?;
    }
    let now = user.created_at;
    let tx = svc.store.begin().await?;
    insert_prepared(&tx, &by.actor, by.source_ip.clone(), user, EmailRule::Unique).await?;
    store_email_value(&tx, user).await?;
    for group in groups {
        store::groups::add_member(&tx, group.id, user.id, false, now).await?;
        let detail = serde_json::json!({ "user_id": user.id, "username": user.username, "group_admin": false });
        let event = Event::new(
            &by.actor,
            "group.add_member",
            Some(Target::group(group.id, &group.display_name)),
        )
        .from_ip(by.source_ip.clone())
        .with_detail(detail);
        audit::record(&tx, &event, now).await?;
    }
    let mut mailed = false;
    // Without a password, the person chooses one through an invite (seed 000).
    if user.password_hash.is_none() && user.email.is_some() {
        created.invitation = Some(super::invites::send(&tx, svc, user, by, now).await?);
        mailed = true;
    }
    if let (Some(temporary), true) = (&created.temporary_password, mail_temporary) {
        let expires_at = user.password_expires_at.unwrap_or(now);
        let message = crate::mail::messages::access_information(&svc.settings(), user, temporary, expires_at)?;
        crate::mail::queue_for_user(&tx, now, "temporary_password", user, message).await?;
        mailed = true;
    }
    tx.commit().await.map_err(StoreError::from)?;
    if mailed {
        svc.mail_wake.notify_one();
    }
    Ok(created)
}

/// Makes a user an admin or a member; audited. Callers check who may grant what.
pub async fn set_role(svc: &Services, user: &User, role: Role, by: &By) -> Result<(), AccountsError> {
    if user.role == role {
        return Ok(());
    }
    let now = svc.now();
    let tx = svc.store.begin().await?;
    store::users::set_role(&tx, user.id, role, now).await?;
    let detail = serde_json::json!({ "from": user.role, "to": role });
    audit::record(&tx, &by.event("user.role", user).with_detail(detail), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Sets or clears "must change password at the next sign-in"; audited.
pub async fn set_must_change(svc: &Services, user: &User, must: bool, by: &By) -> Result<(), AccountsError> {
    if must && user.password_hash.is_none() {
        return Err(AccountsError::invalid(
            "user",
            format!("{} has no password yet: the invite lets them choose one", user.username),
        ));
    }
    let now = svc.now();
    let tx = svc.store.begin().await?;
    store::users::set_must_change(&tx, user.id, must, now).await?;
    let detail = serde_json::json!({ "must_change_password": must });
    audit::record(
        &tx,
        &by.event("user.must_change_password", user).with_detail(detail),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn find(svc: &Services, username: &str) -> Result<User, AccountsError> {
    store::users::find_by_username(svc.store.conn(), username)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))
}

/// A user by id, when there still is one.
pub async fn find_by_id(svc: &Services, id: Uuid) -> Result<Option<User>, AccountsError> {
    Ok(store::users::find_by_id(svc.store.reader(), id).await?)
}

/// "Sign out everywhere" (seed 004): every session ends, every grant is revoked and
/// the apps are told by back-channel logout; audited.
pub async fn sign_out_everywhere(svc: &Services, user: &User, by: &By) -> Result<(), AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    crate::sessions::sign_out_everywhere(&tx, user.id, now).await?;
    audit::record(&tx, &by.event("user.sign_out_everywhere", user), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Ends some of the user's own sessions (the account page); how many were live. Each
/// one's grants are revoked and its apps told; audited.
pub async fn end_sessions(svc: &Services, user: &User, ids: &[Uuid], by: &By) -> Result<usize, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let mut ended = 0;
    for id in ids {
        if crate::sessions::end_own(&tx, user.id, *id, now).await? {
            ended += 1;
        }
    }
    if ended > 0 {
        let detail = serde_json::json!({ "sessions": ids });
        audit::record(&tx, &by.event("user.sessions_end", user).with_detail(detail), now).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(ended)
}

pub async fn list(svc: &Services) -> Result<Vec<User>, AccountsError> {
    Ok(store::users::list(svc.store.conn()).await?)
}

/// Disable (reversible) or enable. Disabling also cancels the user's unsent mail.
pub async fn set_active(svc: &Services, actor: &Actor, username: &str, active: bool) -> Result<User, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let user = store::users::find_by_username(&tx, username)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))?;
    if user.active != active {
        store::users::set_active(&tx, user.id, active, now).await?;
        activation_changed(&tx, &user, active, &By::new(actor), now).await?;
    }
    // Restoring someone whose access ended means the end no longer holds: else the
    // sweep would disable them again within seconds.
    if active && user.access_ended(now) {
        store::users::set_access_until(&tx, user.id, None, now).await?;
        let detail = serde_json::json!({ "from": user.access_until, "to": null });
        audit::record(
            &tx,
            &By::new(actor).event("user.access_until", &user).with_detail(detail),
            now,
        )
        .await?;
    }
    let updated = store::users::find_by_id(&tx, user.id)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(updated)
}

/// Who acts, and from where, for the audit events of a domain operation.
pub struct By {
    pub actor: Actor,
    pub source_ip: Option<String>,
}

impl By {
    pub fn new(actor: &Actor) -> Self {
        Self {
            actor: actor.clone(),
            source_ip: None,
        }
    }

    pub(crate) fn event(&self, action: &'static str, user: &User) -> Event {
        Event::new(&self.actor, action, Some(Target::user(user.id, &user.username))).from_ip(self.source_ip.clone())
    }
}

/// A user was disabled (what deprovisioning implies follows) or enabled again, after
/// the caller stored it; audited. Inside the caller's transaction.
pub async fn activation_changed(
    c: &impl store::Conn,
    user: &User,
    now_active: bool,
    by: &By,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if now_active {
        audit::record(c, &by.event("user.enable", user), now).await
    } else {
        on_deactivated(c, user.id, now).await?;
        audit::record(c, &by.event("user.disable", user), now).await
    }
}

/// Deletes the user for good inside the caller's transaction: unsent mail cancelled,
/// every sign-in ended, username and email free again at once. The audit trail keeps
/// the user's id, name, email and external id.
pub async fn remove(c: &impl store::Conn, user: &User, by: &By, now: DateTime<Utc>) -> Result<(), StoreError> {
    store::outbox::cancel_for_user(c, user.id, "user deleted").await?;
    crate::sessions::sign_out_everywhere(c, user.id, now).await?;
    store::users::delete(c, user.id).await?;
    audit::record(
        c,
        &by.event("user.delete", user)
            .with_detail(serde_json::json!({ "email": user.email, "externalId": user.external_id })),
        now,
    )
    .await
}

/// What deprovisioning means, wherever it comes from (CLI, SCIM, console): unsent
/// mail is cancelled, sessions end, every grant (refresh and access tokens) is
/// revoked and clients are told by back-channel logout. Inside the caller's transaction.
pub async fn on_deactivated(c: &impl store::Conn, user_id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    store::outbox::cancel_for_user(c, user_id, "user disabled").await?;
    super::invites::void(c, user_id, "user disabled", now).await?;
    crate::sessions::sign_out_everywhere(c, user_id, now).await?;
    Ok(())
}

/// What a new password means, whoever set it: every sign-in made with the old one
/// ends (sessions, refresh and access tokens, apps told by back-channel logout), as a
/// lost device or a leaked password is why passwords change. Inside the caller's transaction.
pub async fn on_password_changed(c: &impl store::Conn, user_id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    crate::sessions::sign_out_everywhere(c, user_id, now).await
}

/// `on_password_changed` for a change made inside the sign-in `keep`, which goes on.
async fn on_own_password_changed(
    c: &impl store::Conn,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::sessions::sign_out_everywhere_but(c, user_id, keep, now).await
}

/// The user sets their own password (a forced change at sign-in): the policy applies,
/// the current password (a temporary one included) is not accepted again, "must
/// change password" is cleared and the user's other sign-ins end.
/// `signing_in`: the sign-in in progress making a forced change, which goes on.
pub async fn change_own_password(
    svc: &Services,
    user: &User,
    new_password: &str,
    signing_in: Option<Uuid>,
) -> Result<(), AccountsError> {
    password::check_policy(
        svc.settings().password_min_length,
        new_password,
        &user.username,
        user.email.as_deref(),
    )?;
    if let Some(current) = &user.password_hash
        && matches!(
            password::verify(new_password.to_string(), current.clone()).await?,
            password::Verified::Yes { .. }
        )
    {
        return Err(AccountsError::WeakPassword(
            "The new password must be different from the current one.".into(),
        ));
    }
    let hash = password::hash(new_password.to_string()).await?;
    let now = svc.now();
    let tx = svc.store.begin().await?;
    store::users::set_password(&tx, user.id, &hash, None, now).await?;
    on_own_password_changed(&tx, user.id, signing_in, now).await?;
    if user.mail_address().is_some() {
        let message = crate::mail::messages::password_changed(&svc.settings(), user, now)?;
        crate::mail::queue_for_user(&tx, now, "password_changed", user, message).await?;
    }
    let me = Actor::user(user.id, &user.username);
    audit::record(
        &tx,
        &Event::new(&me, "user.password_change", Some(Target::user(user.id, &user.username))),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.mail_wake.notify_one();
    Ok(())
}

/// Deletes the user for good: username and email are free again at once. The audit
/// trail keeps the user's id and name.
pub async fn delete(svc: &Services, actor: &Actor, username: &str) -> Result<User, AccountsError> {
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let user = store::users::find_by_username(&tx, username)
        .await?
        .ok_or_else(|| AccountsError::UserNotFound(username.to_string()))?;
    remove(&tx, &user, &By::new(actor), now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_pass_the_policy() {
        for _ in 0..50 {
            let p = temporary_password();
            assert_eq!(p.len(), 23);
            password::check_policy(password::MIN_LENGTH, &p, "someone", Some("someone@clinic.org")).expect("policy");
        }
    }

    #[test]
    fn emails_are_checked_plainly() {
        assert!(validate_email("cnurse@email.xyz").is_ok());
        for bad in ["", "no-at", "@x.org", "a@b", "a@.org", "a b@x.org", "a@x.org."] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
