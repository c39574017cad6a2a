//! Users, credentials, password policy, one-time tokens, first-admin setup, sign-in checks.
mod error;
pub mod login;
mod model;
pub mod password;
pub mod setup;
pub mod tokens;
pub mod username;
pub mod users;

pub use error::AccountsError;
pub use model::{MultiValue, Profile, Role, User, UserState, UserSummary};
