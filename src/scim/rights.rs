//! What a SCIM client may do to a user beyond ordinary provisioning. A token meant
//! for one clinic's HR feed must never be a way to take over an administrator.
use super::{ScimClient, ScimError};
use crate::accounts::User;
use crate::audit::Target;
use crate::directory;
use crate::directory::Group;
use crate::services::Services;
use crate::store::{self, Tx};
use uuid::Uuid;

/// The parts of a write that need more than provisioning rights.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sensitive {
    pub password: bool,
    /// `active` changes.
    pub state: bool,
    /// userName or the address Tessera mails (and accepts at sign-in) changes.
    pub sign_in_names: bool,
    pub delete: bool,
}

impl Sensitive {
    pub fn of_update(before: &User, after: &User, password: bool) -> Self {
        Self {
            password,
            state: before.active != after.active,
            sign_in_names: before.username != after.username
                || before.email.as_deref().map(str::to_lowercase) != after.email.as_deref().map(str::to_lowercase),
            delete: false,
        }
    }

    fn touches_admin_powers(self) -> bool {
        self.password || self.state || self.sign_in_names || self.delete
    }
}

/// Why `change` to `target` (as stored before the write; None for a create) is beyond
/// the client's rights, if it is.
async fn refusal(
    c: &impl store::Conn,
    client: &ScimClient,
    target: Option<&User>,
    change: Sensitive,
) -> Result<Option<&'static str>, ScimError> {
    if change.password && !client.rights.set_passwords {
        return Ok(Some(
            "this SCIM client may not set passwords (an admin can allow it with `tessera scim-client create --set-passwords`)",
        ));
    }
    if let Some(user) = target
        && change.touches_admin_powers()
        && !client.rights.manage_admins
        && directory::holds_admin_rights(c, user).await?
    {
        return Ok(Some(
            "this user holds admin rights: only a SCIM client registered with --manage-admins may change their password, state, sign-in names or existence",
        ));
    }
    Ok(None)
}

/// Checks before a write; a refusal is a 403 and audited.
pub async fn check(
    svc: &Services,
    client: &ScimClient,
    target: Option<&User>,
    change: Sensitive,
) -> Result<(), ScimError> {
    match refusal(svc.store.reader(), client, target, change).await? {
        Some(reason) => Err(refuse(svc, client, target, change, reason).await),
        None => Ok(()),
    }
}

/// Audits a refusal and returns its 403; outside any transaction (see `recheck`).
async fn refuse(
    svc: &Services,
    client: &ScimClient,
    target: Option<&User>,
    change: Sensitive,
    reason: &'static str,
) -> ScimError {
    let detail = serde_json::json!({
        "reason": reason,
        "password": change.password, "state": change.state,
        "sign_in_names": change.sign_in_names, "delete": change.delete,
    });
    refuse_on(
        svc,
        client,
        target.map(|u| Target::user(u.id, &u.username)),
        detail,
        reason,
    )
    .await
}

/// A refusal concerning anything (a group, say): audited as `scim.refused`, a 403.
async fn refuse_on(
    svc: &Services,
    client: &ScimClient,
    target: Option<Target>,
    detail: serde_json::Value,
    reason: &'static str,
) -> ScimError {
    let event = client.event("scim.refused", target).failed().with_detail(detail);
    if let Err(e) = svc.audit.record(event, svc.now()).await {
        tracing::error!(error = %e, "could not audit a refused SCIM change");
    }
    ScimError::forbidden(reason)
}

/// The check again inside the write's transaction, where admin rights granted
/// meanwhile are seen. A refusal ends the transaction before it is audited: on SQLite
/// the audit writer would wait for the write lock the transaction holds.
pub async fn recheck(
    svc: &Services,
    tx: Tx,
    client: &ScimClient,
    target: Option<&User>,
    change: Sensitive,
) -> Result<Tx, ScimError> {
    match refusal(&tx, client, target, change).await? {
        None => Ok(tx),
        Some(reason) => {
            drop(tx);
            Err(refuse(svc, client, target, change, reason).await)
        }
    }
}

const ADMIN_MEMBERSHIP: &str = "this group has admins among the members this request removes: only a SCIM client registered with --manage-admins may end a group admin's membership";

/// A group membership that makes its user an admin of the group is an admin right:
/// only a client registered with --manage-admins may end it (by removing the member,
/// replacing the members or deleting the group). `removing` names the members a
/// write removes, None for all of them; a refusal ends the transaction, as `recheck`.
pub async fn guard_admin_memberships(
    svc: &Services,
    tx: Tx,
    client: &ScimClient,
    group: &Group,
    removing: Option<&[Uuid]>,
) -> Result<Tx, ScimError> {
    if client.rights.manage_admins {
        return Ok(tx);
    }
    let mut admins = store::scim::admin_members(&tx, group.id).await?;
    if let Some(ids) = removing {
        admins.retain(|a| ids.contains(a));
    }
    if admins.is_empty() {
        return Ok(tx);
    }
    drop(tx);
    let detail = serde_json::json!({ "reason": ADMIN_MEMBERSHIP, "admins": admins });
    let target = Some(Target::group(group.id, &group.display_name));
    Err(refuse_on(svc, client, target, detail, ADMIN_MEMBERSHIP).await)
}
