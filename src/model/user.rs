use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages everything.
    Admin,
    /// Everyone else; group admin rights come from group memberships.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// What the admin sees, derived from the stored fields (never stored itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    /// Active but has never set a password (waiting on an invite).
    Invited,
    Active,
    Disabled,
    /// Too many failed sign-ins; ends by itself or by an admin's unlock.
    Locked,
}

/// The rest of a person's record, as SCIM carries it (core and enterprise schema).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name_formatted: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    pub nick_name: Option<String>,
    pub profile_url: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    /// The manager's user id.
    pub manager_id: Option<String>,
    /// A SCIM client removed `active`: no explicit status (treated as enabled, not returned).
    pub active_unset: bool,
}

/// One element of a multi-valued attribute (an email, a phone number, an address, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiValue {
    pub attr: String,
    pub kind: Option<String>,
    pub value: Option<String>,
    pub display: Option<String>,
    pub primary: bool,
    /// The element as the client sent it, for sub-attributes beyond the common ones.
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub profile: Profile,
    pub external_id: Option<String>,
    pub active: bool,
    pub role: Role,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub failed_logins: i32,
    /// Sign-ins from browsers the user has not signed in from are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Lockouts in a row of those sign-ins: each lasts longer than the one before.
    pub lockouts: i32,
    /// When an admin's temporary password stops working if it was never changed.
    pub password_expires_at: Option<DateTime<Utc>>,
    /// When the user's access ends: then it is disabled, and tokens stop counting.
    pub access_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl User {
    pub fn state(&self, now: DateTime<Utc>) -> UserState {
        if !self.active {
            UserState::Disabled
        } else if self.locked_until.is_some_and(|until| until > now) {
            UserState::Locked
        } else if self.password_hash.is_none() {
            UserState::Invited
        } else {
            UserState::Active
        }
    }

    /// Whether tokens issued to this user are good: while the account is enabled. A
    /// lockout only stops new password guesses; it does not sign the person out, or
    /// anyone who guesses at a username could end that user's work.
    pub fn may_hold_tokens(&self, now: DateTime<Utc>) -> bool {
        self.active && !self.access_ended(now)
    }

    /// Its end date has come, whether or not the sweep has disabled it yet.
    pub fn access_ended(&self, now: DateTime<Utc>) -> bool {
        self.access_until.is_some_and(|at| at <= now)
    }

    /// Mail goes only to active users with an address.
    pub fn mail_address(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.active)
    }
}

/// The admin-facing summary of a user, as the CLI prints it.
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub role: Role,
    pub state: UserState,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

impl UserSummary {
    pub fn of(user: &User, now: DateTime<Utc>) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            role: user.role,
            state: user.state(now),
            must_change_password: user.must_change_password,
            created_at: user.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let t = Utc::now();
        User {
            id: Uuid::new_v4(),
            username: "a".into(),
            email: Some("a@x.org".into()),
            given_name: None,
            family_name: None,
            display_name: None,
            profile: Profile::default(),
            external_id: None,
            active: true,
            role: Role::Member,
            password_hash: Some("h".into()),
            must_change_password: false,
            failed_logins: 0,
            locked_until: None,
            lockouts: 0,
            password_expires_at: None,
            access_until: None,
            created_at: t,
            updated_at: t,
            version: 1,
        }
    }

    #[test]
    fn state_is_derived_in_order_of_precedence() {
        let now = Utc::now();
        let mut u = user();
        assert_eq!(u.state(now), UserState::Active);
        u.password_hash = None;
        assert_eq!(u.state(now), UserState::Invited);
        u.locked_until = Some(now + chrono::Duration::minutes(1));
        assert_eq!(u.state(now), UserState::Locked);
        assert_eq!(u.state(now + chrono::Duration::minutes(2)), UserState::Invited);
        u.active = false;
        assert_eq!(u.state(now), UserState::Disabled);
        assert_eq!(u.mail_address(), None);
    }
}
