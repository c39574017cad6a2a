//! SCIM errors (RFC 7644 §3.12): an HTTP status, a `scimType` where one applies, a detail.
use crate::accounts::AccountsError;
use crate::directory::DirectoryError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }
    pub fn invalid_filter(d: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), d)
    }
    pub fn invalid_path(d: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), d)
    }
    pub fn no_target(d: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), d)
    }
    pub fn invalid_value(d: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), d)
    }
    pub fn invalid_syntax(d: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), d)
    }
    pub fn mutability(d: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), d)
    }
    pub fn too_many(d: impl Into<String>) -> Self {
        Self::new(400, Some("tooMany"), d)
    }
    pub fn uniqueness(d: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), d)
    }
    pub fn invalid_version(d: impl Into<String>) -> Self {
        Self::new(412, Some("invalidVers"), d)
    }
    pub fn not_found(d: impl Into<String>) -> Self {
        Self::new(404, None, d)
    }
    pub fn unauthorized(d: impl Into<String>) -> Self {
        Self::new(401, None, d)
    }
    pub fn forbidden(d: impl Into<String>) -> Self {
        Self::new(403, None, d)
    }
    pub fn payload_too_large(d: impl Into<String>) -> Self {
        Self::new(413, None, d)
    }
    pub fn not_implemented(d: impl Into<String>) -> Self {
        Self::new(501, None, d)
    }
    pub fn internal(d: impl Into<String>) -> Self {
        Self::new(500, None, d)
    }
    pub fn unavailable(d: impl Into<String>) -> Self {
        Self::new(503, None, d)
    }

    /// The detail a client may read: a server-side failure's own text (a database
    /// error, say) is for the log only.
    pub fn client_detail(&self) -> &str {
        if self.status >= 500 {
            "Tessera could not complete this request."
        } else {
            &self.detail
        }
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            // The constraint's name is the database's text, not the client's business.
            StoreError::Conflict(_) => {
                ScimError::uniqueness("a unique value (userName, or a group's name) is already in use")
            }
            other => ScimError::internal(other.to_string()),
        }
    }
}

impl From<AccountsError> for ScimError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::UsernameTaken(_) | AccountsError::EmailTaken(_) => ScimError::uniqueness(e.to_string()),
            AccountsError::Invalid { .. } | AccountsError::WeakPassword(_) => ScimError::invalid_value(e.to_string()),
            AccountsError::UserNotFound(_) => ScimError::not_found(e.to_string()),
            AccountsError::Store(s) => s.into(),
            other => ScimError::internal(other.to_string()),
        }
    }
}

impl From<DirectoryError> for ScimError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NameTaken(_) => ScimError::uniqueness(e.to_string()),
            DirectoryError::InvalidName(_) => ScimError::invalid_value(e.to_string()),
            DirectoryError::GroupNotFound(_) => ScimError::not_found(e.to_string()),
            DirectoryError::Accounts(a) => a.into(),
            DirectoryError::Store(s) => s.into(),
        }
    }
}
