use sea_orm::entity::prelude::*;

/// A user's TOTP key, sealed with a key derived from the server's secret; unconfirmed
/// until the user has typed a code from it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub sealed: Vec<u8>,
    pub confirmed_at: Option<DateTimeUtc>,
    /// The last time step whose code was accepted: no code is accepted twice.
    pub last_used_step: Option<i64>,
    pub created_at: DateTimeUtc,
    /// While unconfirmed: the sign-in or session that started setting it up, the only
    /// one it is shown to and confirmed from.
    pub bound_to: Option<Uuid>,
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
