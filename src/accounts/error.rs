use crate::mail::MailError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("username '{0}' is already taken")]
    UsernameTaken(String),
    #[error("email '{0}' is already used by another user")]
    EmailTaken(String),
    #[error("password: {0}")]
    WeakPassword(String),
    #[error("no user '{0}'")]
    UserNotFound(String),
    #[error("this link is invalid, was already used, or has expired")]
    InvalidToken,
    #[error("that code is not right")]
    WrongCode,
    #[error("second factor: {0}")]
    SecondFactor(String),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl AccountsError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}
