use sea_orm::entity::prelude::*;

/// Recent SCIM requests per client, so an admin can see why a provisioning failed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: Uuid,
    pub at: DateTimeUtc,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub error: Option<String>,
    /// What changed, e.g. "created user camilles".
    pub summary: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
