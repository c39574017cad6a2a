//! What became of the link in a mail: a token remembers when its link was first opened
//! and whether a newer one voided it, and a mail names the token it carries, so "she
//! never got the invitation" is answered per user (queued, sent, opened, accepted,
//! expired, voided).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{timestamp_with_time_zone_null, uuid_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OneTimeTokens {
    Table,
    OpenedAt,
    VoidedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    TokenId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in [OneTimeTokens::OpenedAt, OneTimeTokens::VoidedAt] {
            m.alter_table(
                Table::alter()
                    .table(OneTimeTokens::Table)
                    .add_column(timestamp_with_time_zone_null(col))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(MailOutbox::Table)
                .add_column(uuid_null(MailOutbox::TokenId))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MailOutbox::Table)
                .drop_column(MailOutbox::TokenId)
                .to_owned(),
        )
        .await?;
        for col in [OneTimeTokens::OpenedAt, OneTimeTokens::VoidedAt] {
            m.alter_table(Table::alter().table(OneTimeTokens::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
