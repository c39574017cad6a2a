//! A client may authenticate with `private_key_jwt` (RFC 7523, OIDC Core §9): its
//! public keys, as a JWK Set, are kept with it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::json_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OidcClients {
    Table,
    Jwks,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OidcClients::Table)
                .add_column(json_null(OidcClients::Jwks))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OidcClients::Table)
                .drop_column(OidcClients::Jwks)
                .to_owned(),
        )
        .await
    }
}
