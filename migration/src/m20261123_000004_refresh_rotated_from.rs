//! A refresh token records the one it replaced. Rotation becomes one conditional
//! INSERT (a unique index lets each token have one successor) instead of a transaction
//! of an UPDATE and an INSERT: on SQLite that is one round trip to the writer, not four.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::blob_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    RotatedFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RefreshTokens::Table)
                .add_column(blob_null(RefreshTokens::RotatedFrom))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_rotated_from")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::RotatedFrom)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_refresh_tokens_rotated_from")
                .table(RefreshTokens::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(RefreshTokens::Table)
                .drop_column(RefreshTokens::RotatedFrom)
                .to_owned(),
        )
        .await
    }
}
