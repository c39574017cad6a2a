//! Schema migrations, applied by `tessera migrate` and at `tessera serve` start-up.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261123_000002_oidc;
mod m20261123_000003_value_trigrams;
mod m20261123_000004_refresh_rotated_from;
mod m20261123_000005_client_jwks;
mod m20261201_000001_scim_client_rights;
mod m20261201_000002_oidc_client_rights;
mod m20261201_000003_username_keys;
mod m20261201_000004_group_limits;
mod m20261201_000005_mail_links;
mod m20261201_000006_lockout_and_resets;
mod m20261201_000007_second_factors;
mod m20261201_000008_session_origin;
mod m20261201_000009_passkeys;
mod m20261202_000001_access_until;
mod m20261202_000002_settings;
mod m20261202_000003_user_search;

/// The migration before which the server re-keys usernames by its current rule.
pub const USERNAME_KEYS: &str = "m20261201_000003_username_keys";

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261123_000002_oidc::Migration),
            Box::new(m20261123_000003_value_trigrams::Migration),
            Box::new(m20261123_000004_refresh_rotated_from::Migration),
            Box::new(m20261123_000005_client_jwks::Migration),
            Box::new(m20261201_000001_scim_client_rights::Migration),
            Box::new(m20261201_000002_oidc_client_rights::Migration),
            Box::new(m20261201_000003_username_keys::Migration),
            Box::new(m20261201_000004_group_limits::Migration),
            Box::new(m20261201_000005_mail_links::Migration),
            Box::new(m20261201_000006_lockout_and_resets::Migration),
            Box::new(m20261201_000007_second_factors::Migration),
            Box::new(m20261201_000008_session_origin::Migration),
            Box::new(m20261201_000009_passkeys::Migration),
            Box::new(m20261202_000001_access_until::Migration),
            Box::new(m20261202_000002_settings::Migration),
            Box::new(m20261202_000003_user_search::Migration),
        ]
    }
}
