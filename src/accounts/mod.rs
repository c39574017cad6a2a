//! Users, credentials, password policy, one-time tokens, first-admin setup, sign-in checks.
pub mod access_ends;
pub mod devices;
mod error;
pub mod invites;
pub mod login;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod resets;
pub mod second_factor;
pub mod setup;
pub mod tokens;
pub mod users;

pub use crate::model::user::{MultiValue, Profile, Role, User, UserState, UserSummary};
pub use crate::model::username;
pub use error::AccountsError;
