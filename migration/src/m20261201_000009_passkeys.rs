//! Passkeys (WebAuthn credentials), several per user, each named; and the challenges
//! of ceremonies in progress, kept server-side as webauthn-rs requires.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, string, text, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    Name,
    /// base64url of the credential ID, unique across all users.
    CredentialId,
    /// The credential as webauthn-rs keeps it (JSON): public key, counter, flags.
    Credential,
    /// Synced passkeys (backup eligible) are software-bound keys, RFC 8176 `swk`.
    BackupEligible,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyChallenges {
    Table,
    /// The sign-in or session the ceremony belongs to: one at a time each.
    OwnerId,
    State,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Passkeys::Table)
                .col(uuid(Passkeys::Id).primary_key())
                .col(uuid(Passkeys::UserId))
                .col(string(Passkeys::Name))
                .col(text(Passkeys::CredentialId).unique_key())
                .col(text(Passkeys::Credential))
                .col(boolean(Passkeys::BackupEligible).default(false))
                .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Passkeys::Table, Passkeys::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_passkeys_user")
                .table(Passkeys::Table)
                .col(Passkeys::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PasskeyChallenges::Table)
                .col(uuid(PasskeyChallenges::OwnerId).primary_key())
                .col(text(PasskeyChallenges::State))
                .col(timestamp_with_time_zone(PasskeyChallenges::ExpiresAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PasskeyChallenges::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Passkeys::Table).to_owned()).await
    }
}
