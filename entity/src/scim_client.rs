use sea_orm::entity::prelude::*;

/// A registered SCIM client (an HR feed, Entra ID, Okta). Only the token's SHA-256 is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub name_lower: String,
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// May change the password, state or existence of users who hold admin rights.
    pub manage_admins: bool,
    /// May set users' passwords (Okta password sync); HR feeds and Entra send none.
    pub set_passwords: bool,
    /// Users it creates get no invite from Tessera (they sign in elsewhere).
    pub no_invites: bool,
    /// Limited to groups (those in scim_client_groups; none left means nothing in scope).
    pub limited_to_groups: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
