//! The console's user list: what an admin asks for, and what one row shows.
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A state the list can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    Invited,
    Active,
    Disabled,
    Locked,
    MustChangePassword,
    SecondFactor,
    NoSecondFactor,
}

impl StateFilter {
    pub const ALL: [StateFilter; 7] = [
        StateFilter::Invited,
        StateFilter::Active,
        StateFilter::Disabled,
        StateFilter::Locked,
        StateFilter::MustChangePassword,
        StateFilter::SecondFactor,
        StateFilter::NoSecondFactor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Invited => "invited",
            StateFilter::Active => "active",
            StateFilter::Disabled => "disabled",
            StateFilter::Locked => "locked",
            StateFilter::MustChangePassword => "must-change-password",
            StateFilter::SecondFactor => "2fa",
            StateFilter::NoSecondFactor => "no-2fa",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StateFilter::Invited => "Invited",
            StateFilter::Active => "Active",
            StateFilter::Disabled => "Disabled",
            StateFilter::Locked => "Locked",
            StateFilter::MustChangePassword => "Must change password",
            StateFilter::SecondFactor => "Two-step sign-in on",
            StateFilter::NoSecondFactor => "Two-step sign-in off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Username,
    Name,
    Newest,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Username, Sort::Name, Sort::Newest];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Username => "username",
            Sort::Name => "name",
            Sort::Newest => "newest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Username => "Username",
            Sort::Name => "Family name",
            Sort::Newest => "Newest first",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Words that must each appear in the username, email, given or family name.
    pub words: Vec<String>,
    pub group: Option<Uuid>,
    pub state: Option<StateFilter>,
    pub sort: Sort,
    /// Only members of these groups (a group admin's reach); None: everyone.
    pub within: Option<Vec<Uuid>>,
    /// Leave out everyone who holds admin rights (a group admin does not reach them).
    pub without_admins: bool,
    pub start: PageStart,
    pub limit: u64,
}

/// Where a row stands in every sort order. The username key is unique, so it settles
/// every tie and no two rows share a key; a missing name sorts as an empty one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub username_key: String,
    pub family_name: String,
    pub given_name: String,
    pub created_at: DateTime<Utc>,
}

/// Which page: pages follow a row's sort key (keyset paging), so a deep page costs what
/// the first one does and rows added meanwhile neither repeat nor go missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PageStart {
    #[default]
    First,
    /// The rows after this key.
    After(SortKey),
    /// The rows just before this key (going back), shown in the usual order.
    Before(SortKey),
}

/// One page of the list, in the sort order.
#[derive(Debug, Clone, Default)]
pub struct ListedPage {
    pub users: Vec<ListedUser>,
    /// The first and last rows' keys, for the links to the pages around this one.
    pub first: Option<SortKey>,
    pub last: Option<SortKey>,
    /// More rows lie beyond this page in the direction it was asked for.
    pub more: bool,
}

/// One user as the list shows them.
#[derive(Debug, Clone)]
pub struct ListedUser {
    pub id: Uuid,
    pub username: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub has_password: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}
