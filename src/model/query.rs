//! What a listing asks of the store: who the caller may see, in what order, which page.
use uuid::Uuid;

/// Which users and groups a caller may see: everything, or what is inside these groups.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub groups: Vec<Uuid>,
    /// Limited to `groups`; with none left (all deleted), nothing is in scope.
    pub limited: bool,
}

impl Scope {
    pub fn is_limited(&self) -> bool {
        self.limited
    }

    /// Whether a group, by id, is visible: its name and id are not to leak otherwise.
    pub fn sees_group(&self, id: Uuid) -> bool {
        !self.is_limited() || self.groups.contains(&id)
    }
}

pub struct Page {
    /// 1-based, as SCIM counts.
    pub start_index: u64,
    pub count: u64,
}

/// What a listing can be sorted by (users: all of them; groups: the first five).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    Created,
    LastModified,
    ExternalId,
    DisplayName,
    UserName,
    FamilyName,
    GivenName,
    FormattedName,
    Title,
    UserType,
    /// The primary email (or the first).
    Email,
    EmployeeNumber,
    Department,
}

pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// What the store needs to know of a resource's published schema to read a filter.
#[derive(Debug)]
pub struct FilterSchema {
    /// The resource's core schema URN, which may prefix its attributes.
    pub core: &'static str,
    /// The extension schema whose attributes the resource also has.
    pub extension: Option<&'static str>,
    /// Multi-valued attributes kept as value rows, named as published.
    pub multi_valued: &'static [&'static str],
}
