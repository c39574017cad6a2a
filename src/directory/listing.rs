//! The users a console admin may list: its query, narrowed to its reach.
use super::scope::ConsoleAdmin;
use crate::model::user_listing::{ListedPage, UserQuery};
use crate::services::Services;
use crate::store::{self, StoreError};
use std::collections::HashMap;
use uuid::Uuid;

pub const PAGE_SIZE: u64 = 50;

/// Matches are counted this far: past it the list says "more than" this. Counting all
/// of a broad search would cost more than the page itself.
pub const COUNT_CAP: u64 = 1_000;

/// How many users match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exactly(u64),
    MoreThan(u64),
}

pub struct Listing {
    pub page: ListedPage,
    /// Each listed user's groups, by name.
    pub groups: HashMap<Uuid, Vec<String>>,
    pub total: Total,
}

/// A page of the users `admin` reaches that match `q` (its `within` is replaced).
pub async fn users(svc: &Services, admin: &ConsoleAdmin, mut q: UserQuery) -> Result<Listing, StoreError> {
    q.within = admin.within();
    q.without_admins = !admin.is_admin();
    q.limit = PAGE_SIZE;
    let c = svc.store.reader();
    let (page, counted) = store::user_listing::page(c, &q, svc.now(), COUNT_CAP).await?;
    let total = if counted > COUNT_CAP {
        Total::MoreThan(COUNT_CAP)
    } else {
        Total::Exactly(counted)
    };
    let ids: Vec<Uuid> = page.users.iter().map(|u| u.id).collect();
    let mut groups: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (user, group) in store::groups::names_for_users(c, &ids).await? {
        groups.entry(user).or_default().push(group);
    }
    Ok(Listing { page, groups, total })
}
