//! Second factors: a TOTP key per user (sealed with the server's key, since codes must
//! be computed from it), single-use recovery codes (keyed hashes), groups that require
//! a second factor, what a sign-in in progress has proven so far, and SCIM clients
//! whose users sign in elsewhere (no invites).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, blob, boolean, json_null, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
    uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    #[sea_orm(iden = "require_2fa")]
    Require2fa,
}

#[derive(DeriveIden)]
enum ScimClients {
    Table,
    NoInvites,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    Amr,
}

#[derive(DeriveIden)]
enum TotpKeys {
    Table,
    UserId,
    Sealed,
    ConfirmedAt,
    LastUsedStep,
    CreatedAt,
    BoundTo,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Groups::Table)
                .add_column(boolean(Groups::Require2fa).default(false))
                .to_owned(),
        )
        .await?;
        // Users a client creates get Tessera's invite unless it was registered without.
        m.alter_table(
            Table::alter()
                .table(ScimClients::Table)
                .add_column(boolean(ScimClients::NoInvites).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuthorizationRequests::Table)
                .add_column(json_null(AuthorizationRequests::Amr))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TotpKeys::Table)
                .col(uuid(TotpKeys::UserId).primary_key())
                .col(blob(TotpKeys::Sealed))
                .col(timestamp_with_time_zone_null(TotpKeys::ConfirmedAt))
                .col(big_integer_null(TotpKeys::LastUsedStep))
                .col(timestamp_with_time_zone(TotpKeys::CreatedAt))
                .col(uuid_null(TotpKeys::BoundTo))
                .foreign_key(
                    ForeignKey::create()
                        .from(TotpKeys::Table, TotpKeys::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(uuid(RecoveryCodes::Id).primary_key())
                .col(uuid(RecoveryCodes::UserId))
                .col(blob(RecoveryCodes::CodeHash))
                .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(TotpKeys::Table).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table(AuthorizationRequests::Table)
                .drop_column(AuthorizationRequests::Amr)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ScimClients::Table)
                .drop_column(ScimClients::NoInvites)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Groups::Table)
                .drop_column(Groups::Require2fa)
                .to_owned(),
        )
        .await
    }
}
