use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    /// Lower-cased username: uniqueness and look-ups are case-insensitive.
    #[sea_orm(unique)]
    pub username_lower: String,
    pub email: Option<String>,
    /// Indexed, not unique: SCIM lets several people share an address (RFC 7643 emails
    /// have uniqueness "none"); accounts made by hand still refuse a duplicate.
    pub email_lower: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub name_formatted: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    pub nick_name: Option<String>,
    pub profile_url: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    /// The manager's user id (SCIM enterprise `manager.value`).
    pub manager_id: Option<String>,
    pub external_id: Option<String>,
    pub active: bool,
    /// SCIM removed `active`: no explicit status, which Tessera treats as enabled.
    pub active_unset: bool,
    /// `admin` or `member`; group admins are members with admin rows in group_members.
    pub role: String,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTimeUtc>,
    /// A temporary password set by an admin stops working unused after this.
    pub password_expires_at: Option<DateTimeUtc>,
    /// Lockouts in a row of sign-ins from unknown browsers: each lasts longer.
    pub lockouts: i32,
    /// At this moment the user is disabled (a locum's last day).
    pub access_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::group_member::Entity")]
    GroupMember,
}

impl Related<super::group_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::GroupMember.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
