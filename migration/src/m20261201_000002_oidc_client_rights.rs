//! What a client may do beyond signing users in: the scopes it may be given with
//! client_credentials (none until an admin registers some), and whether it is a
//! resource server that may introspect other clients' access tokens.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::boolean;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OidcClients {
    Table,
    Scopes,
    MayIntrospect,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(OidcClients::Table)
                .add_column(ColumnDef::new(OidcClients::Scopes).json().not_null().default("[]"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OidcClients::Table)
                .add_column(boolean(OidcClients::MayIntrospect).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [OidcClients::MayIntrospect, OidcClients::Scopes] {
            m.alter_table(Table::alter().table(OidcClients::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
