use sea_orm::entity::prelude::*;

/// One element of a multi-valued user attribute (emails, phoneNumbers, addresses, ...),
/// so filters such as `emails[type eq "work"]` are plain SQL on both databases.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_values")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Uuid,
    /// Canonical attribute name, e.g. `emails`.
    pub attr: String,
    /// Order as the client sent it.
    pub position: i32,
    pub kind: Option<String>,
    pub kind_lower: Option<String>,
    pub value: Option<String>,
    pub value_lower: Option<String>,
    pub display: Option<String>,
    pub is_primary: bool,
    /// The whole element as JSON (addresses' parts, any other sub-attributes).
    pub data: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
