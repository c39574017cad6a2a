//! The users a console admin may list: its query, narrowed to its reach.
use super::scope::ConsoleAdmin;
use crate::model::user_listing::{ListedUser, UserQuery};
use crate::services::Services;
use crate::store::{self, StoreError};
use std::collections::HashMap;
use uuid::Uuid;

pub const PAGE_SIZE: u64 = 50;

pub struct Listing {
    pub users: Vec<ListedUser>,
    /// Each listed user's groups, by name.
    pub groups: HashMap<Uuid, Vec<String>>,
    pub total: u64,
}

/// A page of the users `admin` reaches that match `q` (its `within` is replaced).
pub async fn users(svc: &Services, admin: &ConsoleAdmin, mut q: UserQuery) -> Result<Listing, StoreError> {
    q.within = admin.within();
    q.without_admins = !admin.is_admin();
    q.limit = PAGE_SIZE;
    let c = svc.store.reader();
    let (users, total) = store::user_listing::page(c, &q, svc.now()).await?;
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let mut groups: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (user, group) in store::groups::names_for_users(c, &ids).await? {
        groups.entry(user).or_default().push(group);
    }
    Ok(Listing { users, groups, total })
}
