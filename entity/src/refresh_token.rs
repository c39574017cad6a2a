use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: Vec<u8>,
    pub grant_id: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when used up without a successor (and by rotations before migration 4):
    /// presenting it again is reuse, and revokes the grant.
    pub used_at: Option<DateTimeUtc>,
    /// The token this one replaced; a token with a successor is used up.
    pub rotated_from: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::oidc_grant::Entity",
        from = "Column::GrantId",
        to = "super::oidc_grant::Column::Id",
        on_delete = "Cascade"
    )]
    Grant,
}

impl Related<super::oidc_grant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
