use sea_orm::entity::prelude::*;

/// An authorization request waiting for the user to get through the sign-in steps.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub handle_hash: Vec<u8>,
    pub client_id: String,
    pub params: Json,
    pub user_id: Option<Uuid>,
    pub stage: String,
    /// What the person has proven so far (RFC 8176 values), once past the password.
    pub amr: Option<Json>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
