//! Account recovery and fairer lockout: a temporary password expires unused, a lock
//! grows on repeated lockouts, and a browser where a user has signed in keeps its own
//! failure count (OWASP's device cookies), so strangers cannot lock it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{blob, integer, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PasswordExpiresAt,
    Lockouts,
}

#[derive(DeriveIden)]
enum KnownDevices {
    Table,
    Id,
    UserId,
    DeviceHash,
    FailedLogins,
    LockedUntil,
    Lockouts,
    CreatedAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Users::PasswordExpiresAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(integer(Users::Lockouts).default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KnownDevices::Table)
                .col(uuid(KnownDevices::Id).primary_key())
                .col(uuid(KnownDevices::UserId))
                .col(blob(KnownDevices::DeviceHash))
                .col(integer(KnownDevices::FailedLogins).default(0))
                .col(timestamp_with_time_zone_null(KnownDevices::LockedUntil))
                .col(integer(KnownDevices::Lockouts).default(0))
                .col(timestamp_with_time_zone(KnownDevices::CreatedAt))
                .col(timestamp_with_time_zone(KnownDevices::LastSeenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(KnownDevices::Table, KnownDevices::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_known_devices_user_device")
                .table(KnownDevices::Table)
                .col(KnownDevices::UserId)
                .col(KnownDevices::DeviceHash)
                .unique()
                .to_owned(),
        )
        .await?;
        // Purging browsers not seen for long reads by this.
        m.create_index(
            Index::create()
                .name("idx_known_devices_last_seen")
                .table(KnownDevices::Table)
                .col(KnownDevices::LastSeenAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(KnownDevices::Table).to_owned())
            .await?;
        for col in [Users::PasswordExpiresAt, Users::Lockouts] {
            m.alter_table(Table::alter().table(Users::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
