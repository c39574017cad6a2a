//! An end to a user's access (agency nurses, locums, students): at that moment the
//! user is disabled, with everything disabling implies.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    AccessUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Users::AccessUntil))
                .to_owned(),
        )
        .await?;
        // The sweep that ends access reads by this; most users have none.
        m.create_index(
            Index::create()
                .name("idx_users_access_until")
                .table(Users::Table)
                .col(Users::AccessUntil)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_users_access_until")
                .table(Users::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::AccessUntil)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
