use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    UsernameLower,
    Email,
    EmailLower,
    GivenName,
    FamilyName,
    DisplayName,
    NameFormatted,
    MiddleName,
    HonorificPrefix,
    HonorificSuffix,
    NickName,
    ProfileUrl,
    Title,
    UserType,
    PreferredLanguage,
    Locale,
    Timezone,
    EmployeeNumber,
    CostCenter,
    Organization,
    Division,
    Department,
    ManagerId,
    ExternalId,
    Active,
    ActiveUnset,
    Role,
    PasswordHash,
    MustChangePassword,
    FailedLogins,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    DisplayName,
    DisplayNameLower,
    ExternalId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    Id,
    GroupId,
    MemberUserId,
    MemberGroupId,
    IsAdmin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserValues {
    Table,
    Id,
    UserId,
    Attr,
    Position,
    Kind,
    KindLower,
    Value,
    ValueLower,
    Display,
    IsPrimary,
    Data,
}

#[derive(DeriveIden)]
enum ScimClients {
    Table,
    Id,
    Name,
    NameLower,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ScimClientGroups {
    Table,
    ClientId,
    GroupId,
}

#[derive(DeriveIden)]
enum ScimRequests {
    Table,
    Id,
    ClientId,
    At,
    Method,
    Path,
    Status,
    Error,
    Summary,
}

#[derive(DeriveIden)]
enum OneTimeTokens {
    Table,
    Id,
    TokenHash,
    Purpose,
    UserId,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorKind,
    ActorId,
    ActorLabel,
    Action,
    TargetKind,
    TargetId,
    TargetLabel,
    SourceIp,
    Outcome,
    Detail,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Purpose,
    UserId,
    ToAddress,
    Subject,
    BodyText,
    BodyHtml,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string(Users::Username))
                .col(string_uniq(Users::UsernameLower))
                .col(string_null(Users::Email))
                .col(string_null(Users::EmailLower))
                .col(string_null(Users::GivenName))
                .col(string_null(Users::FamilyName))
                .col(string_null(Users::DisplayName))
                .col(string_null(Users::NameFormatted))
                .col(string_null(Users::MiddleName))
                .col(string_null(Users::HonorificPrefix))
                .col(string_null(Users::HonorificSuffix))
                .col(string_null(Users::NickName))
                .col(string_null(Users::ProfileUrl))
                .col(string_null(Users::Title))
                .col(string_null(Users::UserType))
                .col(string_null(Users::PreferredLanguage))
                .col(string_null(Users::Locale))
                .col(string_null(Users::Timezone))
                .col(string_null(Users::EmployeeNumber))
                .col(string_null(Users::CostCenter))
                .col(string_null(Users::Organization))
                .col(string_null(Users::Division))
                .col(string_null(Users::Department))
                .col(string_null(Users::ManagerId))
                .col(string_null(Users::ExternalId))
                .col(boolean(Users::Active))
                .col(boolean(Users::ActiveUnset).default(false))
                .col(string(Users::Role))
                .col(text_null(Users::PasswordHash))
                .col(boolean(Users::MustChangePassword))
                .col(integer(Users::FailedLogins))
                .col(timestamp_with_time_zone_null(Users::LockedUntil))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .col(big_integer(Users::Version))
                .to_owned(),
        )
        .await?;

        m.create_index(
            Index::create()
                .name("idx_users_email")
                .table(Users::Table)
                .col(Users::EmailLower)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Groups::Table)
                .col(uuid(Groups::Id).primary_key())
                .col(string(Groups::DisplayName))
                .col(string_uniq(Groups::DisplayNameLower))
                .col(string_null(Groups::ExternalId))
                .col(timestamp_with_time_zone(Groups::CreatedAt))
                .col(timestamp_with_time_zone(Groups::UpdatedAt))
                .col(big_integer(Groups::Version))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(GroupMembers::Table)
                .col(big_pk_auto(GroupMembers::Id))
                .col(uuid(GroupMembers::GroupId))
                .col(uuid_null(GroupMembers::MemberUserId))
                .col(uuid_null(GroupMembers::MemberGroupId))
                .col(boolean(GroupMembers::IsAdmin))
                .col(timestamp_with_time_zone(GroupMembers::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(GroupMembers::Table, GroupMembers::GroupId)
                        .to(Groups::Table, Groups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GroupMembers::Table, GroupMembers::MemberUserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GroupMembers::Table, GroupMembers::MemberGroupId)
                        .to(Groups::Table, Groups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One row per (group, member); NULLs are distinct, so each index covers one member kind.
        for (name, col) in [
            ("idx_group_members_user", GroupMembers::MemberUserId),
            ("idx_group_members_group", GroupMembers::MemberGroupId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(GroupMembers::Table)
                    .col(GroupMembers::GroupId)
                    .col(col)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        // "Which groups is this user in" must not scan the membership table.
        m.create_index(
            Index::create()
                .name("idx_group_members_by_user")
                .table(GroupMembers::Table)
                .col(GroupMembers::MemberUserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserValues::Table)
                .col(big_pk_auto(UserValues::Id))
                .col(uuid(UserValues::UserId))
                .col(string(UserValues::Attr))
                .col(integer(UserValues::Position))
                .col(string_null(UserValues::Kind))
                .col(string_null(UserValues::KindLower))
                .col(text_null(UserValues::Value))
                .col(text_null(UserValues::ValueLower))
                .col(string_null(UserValues::Display))
                .col(boolean(UserValues::IsPrimary))
                .col(json(UserValues::Data))
                .foreign_key(
                    ForeignKey::create()
                        .from(UserValues::Table, UserValues::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_user_values_user")
                .table(UserValues::Table)
                .col(UserValues::UserId)
                .col(UserValues::Attr)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_user_values_value")
                .table(UserValues::Table)
                .col(UserValues::Attr)
                .col(UserValues::ValueLower)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ScimClients::Table)
                .col(uuid(ScimClients::Id).primary_key())
                .col(string(ScimClients::Name))
                .col(string_uniq(ScimClients::NameLower))
                .col(blob(ScimClients::TokenHash).unique_key())
                .col(timestamp_with_time_zone(ScimClients::CreatedAt))
                .col(timestamp_with_time_zone_null(ScimClients::LastUsedAt))
                .col(timestamp_with_time_zone_null(ScimClients::RevokedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ScimClientGroups::Table)
                .col(uuid(ScimClientGroups::ClientId))
                .col(uuid(ScimClientGroups::GroupId))
                .primary_key(
                    Index::create()
                        .col(ScimClientGroups::ClientId)
                        .col(ScimClientGroups::GroupId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ScimClientGroups::Table, ScimClientGroups::ClientId)
                        .to(ScimClients::Table, ScimClients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ScimClientGroups::Table, ScimClientGroups::GroupId)
                        .to(Groups::Table, Groups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ScimRequests::Table)
                .col(big_pk_auto(ScimRequests::Id))
                .col(uuid(ScimRequests::ClientId))
                .col(timestamp_with_time_zone(ScimRequests::At))
                .col(string(ScimRequests::Method))
                .col(text(ScimRequests::Path))
                .col(integer(ScimRequests::Status))
                .col(text_null(ScimRequests::Error))
                .col(text_null(ScimRequests::Summary))
                .foreign_key(
                    ForeignKey::create()
                        .from(ScimRequests::Table, ScimRequests::ClientId)
                        .to(ScimClients::Table, ScimClients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_scim_requests_client")
                .table(ScimRequests::Table)
                .col(ScimRequests::ClientId)
                .col(ScimRequests::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OneTimeTokens::Table)
                .col(uuid(OneTimeTokens::Id).primary_key())
                .col(blob(OneTimeTokens::TokenHash).unique_key())
                .col(string(OneTimeTokens::Purpose))
                .col(uuid_null(OneTimeTokens::UserId))
                .col(timestamp_with_time_zone(OneTimeTokens::CreatedAt))
                .col(timestamp_with_time_zone(OneTimeTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(OneTimeTokens::ConsumedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OneTimeTokens::Table, OneTimeTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_one_time_tokens_user_purpose")
                .table(OneTimeTokens::Table)
                .col(OneTimeTokens::UserId)
                .col(OneTimeTokens::Purpose)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(big_pk_auto(AuditEvents::Id))
                .col(timestamp_with_time_zone(AuditEvents::At))
                .col(string(AuditEvents::ActorKind))
                .col(string_null(AuditEvents::ActorId))
                .col(string(AuditEvents::ActorLabel))
                .col(string(AuditEvents::Action))
                .col(string_null(AuditEvents::TargetKind))
                .col(string_null(AuditEvents::TargetId))
                .col(string_null(AuditEvents::TargetLabel))
                .col(string_null(AuditEvents::SourceIp))
                .col(string(AuditEvents::Outcome))
                .col(json_null(AuditEvents::Detail))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_events_target")
                .table(AuditEvents::Table)
                .col(AuditEvents::TargetId)
                .col(AuditEvents::At)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .col(uuid(MailOutbox::Id).primary_key())
                .col(string(MailOutbox::Purpose))
                .col(uuid_null(MailOutbox::UserId))
                .col(string(MailOutbox::ToAddress))
                .col(string(MailOutbox::Subject))
                .col(text(MailOutbox::BodyText))
                .col(text_null(MailOutbox::BodyHtml))
                .col(string(MailOutbox::Status))
                .col(integer(MailOutbox::Attempts))
                .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(MailOutbox::ClaimedUntil))
                .col(text_null(MailOutbox::LastError))
                .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                .to_owned(),
        )
        .await?;
        // The worker's poll: due mail by status and time.
        m.create_index(
            Index::create()
                .name("idx_mail_outbox_due")
                .table(MailOutbox::Table)
                .col(MailOutbox::Status)
                .col(MailOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_mail_outbox_user")
                .table(MailOutbox::Table)
                .col(MailOutbox::UserId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
