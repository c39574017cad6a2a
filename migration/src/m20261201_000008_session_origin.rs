//! Where a session was signed in from (the browser's own description and its address),
//! so the account page can list a person's sessions and they can end the ones they do
//! not know.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SsoSessions {
    Table,
    UserAgent,
    Ip,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in [SsoSessions::UserAgent, SsoSessions::Ip] {
            m.alter_table(
                Table::alter()
                    .table(SsoSessions::Table)
                    .add_column(string_null(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [SsoSessions::UserAgent, SsoSessions::Ip] {
            m.alter_table(Table::alter().table(SsoSessions::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
