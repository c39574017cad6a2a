//! Who an admin reaches, and what it may hand out (seed 003). An admin manages
//! everyone. A group admin manages only the members of the groups it administers,
//! assigns only those groups, grants no role above member, and does not reach anyone
//! who holds admin rights. Checked on every request, whatever the page showed.
use crate::accounts::{Role, User};
use crate::audit::{self, Actor, Event, Target};
use crate::services::Services;
use crate::store::{self, StoreError};
use uuid::Uuid;

/// Whom a console admin reaches.
#[derive(Debug, Clone)]
pub enum Reach {
    Everyone,
    /// The groups it administers, as (id, name).
    Groups(Vec<(Uuid, String)>),
}

/// A signed-in person who may use the console.
#[derive(Debug, Clone)]
pub struct ConsoleAdmin {
    pub user: User,
    pub reach: Reach,
}

/// Why the console refuses an admin something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The user is not in a group this admin administers, or holds admin rights.
    OutOfReach,
    /// The group is not one this admin administers.
    GroupNotHeld,
    /// The role is above what this admin may grant.
    RoleAbove,
    /// An admin may not disable, delete, demote or reset itself from the console.
    Yourself,
    /// The user is also in groups this admin does not administer.
    OtherGroups,
    /// Apps, keys, the audit log and settings are for admins of the whole organisation.
    AdminsOnly,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::OutOfReach => "out_of_reach",
            Refusal::GroupNotHeld => "group_not_held",
            Refusal::RoleAbove => "role_above",
            Refusal::Yourself => "yourself",
            Refusal::OtherGroups => "other_groups",
            Refusal::AdminsOnly => "admins_only",
        }
    }

    /// What the refusal page says.
    pub fn explain(self) -> &'static str {
        match self {
            Refusal::OutOfReach => "This user is not in a group you administer, so you cannot see or change them.",
            Refusal::GroupNotHeld => "You can only assign the groups you administer.",
            Refusal::RoleAbove => "You cannot grant a role above your own.",
            Refusal::Yourself => "You cannot do this to your own account from the console: use your account page.",
            Refusal::OtherGroups => {
                "This user is also in groups you do not administer: ask an administrator of the whole \
                 organisation to do this."
            }
            Refusal::AdminsOnly => {
                "Apps, SCIM clients, signing keys, the audit log and settings are for administrators of \
                 the whole organisation."
            }
        }
    }
}

impl ConsoleAdmin {
    pub fn is_admin(&self) -> bool {
        matches!(self.reach, Reach::Everyone)
    }

    /// The groups this admin is limited to; None when it reaches everyone.
    pub fn within(&self) -> Option<Vec<Uuid>> {
        match &self.reach {
            Reach::Everyone => None,
            Reach::Groups(groups) => Some(groups.iter().map(|(id, _)| *id).collect()),
        }
    }

    pub fn may_assign(&self, group: Uuid) -> bool {
        match &self.reach {
            Reach::Everyone => true,
            Reach::Groups(groups) => groups.iter().any(|(id, _)| *id == group),
        }
    }

    pub fn may_grant(&self, role: Role) -> Result<(), Refusal> {
        match (role, &self.reach) {
            (Role::Member, _) | (Role::Admin, Reach::Everyone) => Ok(()),
            (Role::Admin, Reach::Groups(_)) => Err(Refusal::RoleAbove),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.username)
    }
}

/// The console admin a signed-in user is, if any.
pub async fn console_admin(svc: &Services, user: User) -> Result<Option<ConsoleAdmin>, StoreError> {
    if !user.may_hold_tokens(svc.now()) {
        return Ok(None);
    }
    if user.role == Role::Admin {
        return Ok(Some(ConsoleAdmin {
            user,
            reach: Reach::Everyone,
        }));
    }
    let groups = store::groups::administered_by(svc.store.reader(), user.id).await?;
    Ok((!groups.is_empty()).then_some(ConsoleAdmin {
        user,
        reach: Reach::Groups(groups),
    }))
}

/// Whether `admin` reaches `target`.
pub async fn reaches(svc: &Services, admin: &ConsoleAdmin, target: &User) -> Result<Result<(), Refusal>, StoreError> {
    let Some(groups) = admin.within() else {
        return Ok(Ok(()));
    };
    let c = svc.store.reader();
    if super::holds_admin_rights(c, target).await? || !store::groups::in_any(c, target.id, &groups).await? {
        return Ok(Err(Refusal::OutOfReach));
    }
    Ok(Ok(()))
}

/// Audits a refusal: someone tried past the page (a URL, a crafted form).
pub async fn record_refusal(
    svc: &Services,
    admin: &ConsoleAdmin,
    action: &str,
    target: Option<&User>,
    why: Refusal,
    source_ip: Option<String>,
) -> Result<(), StoreError> {
    let event = Event::new(
        &admin.actor(),
        "console.refused",
        target.map(|u| Target::user(u.id, &u.username)),
    )
    .with_detail(serde_json::json!({ "action": action, "reason": why.as_str() }))
    .from_ip(source_ip);
    audit::record(svc.store.conn(), &event, svc.now()).await
}

/// Whether `admin` administers every group `target` is in: needed for what hands over
/// the account itself (a temporary password, a second-factor reset, delete), which
/// would otherwise reach into the user's other groups.
pub async fn reaches_fully(svc: &Services, admin: &ConsoleAdmin, target: &User) -> Result<bool, StoreError> {
    let Some(held) = admin.within() else {
        return Ok(true);
    };
    let groups = store::groups::of_user(svc.store.reader(), target.id).await?;
    Ok(groups.iter().all(|(id, _)| held.contains(id)))
}

/// The groups `admin` may put users in or take them out of, as (id, name), by name:
/// every group for an admin, its own for a group admin.
pub async fn assignable_groups(svc: &Services, admin: &ConsoleAdmin) -> Result<Vec<(Uuid, String)>, StoreError> {
    match &admin.reach {
        Reach::Everyone => store::groups::all_names(svc.store.reader()).await,
        Reach::Groups(held) => Ok(held.clone()),
    }
}
