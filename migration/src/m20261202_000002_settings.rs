//! Settings an admin changes in the console (link lifetimes, lockout, password length,
//! two-step policy, organisation name). A row overrides the configuration's first
//! value; every node reads the table every few seconds.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{json, string, string_null, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Settings {
    Table,
    Name,
    Value,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(string(Settings::Name).primary_key())
                .col(json(Settings::Value))
                .col(timestamp_with_time_zone(Settings::UpdatedAt))
                .col(string_null(Settings::UpdatedBy))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Settings::Table).to_owned()).await
    }
}
