//! Whether a SCIM or OpenID Connect client is limited to groups, kept apart from the
//! list of those groups: deleting a client's last group (its rows go by cascade) must
//! leave the client limited to nothing, not free of all limits.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::boolean;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScimClients {
    Table,
    Id,
    LimitedToGroups,
}

#[derive(DeriveIden)]
enum ScimClientGroups {
    Table,
    ClientId,
}

#[derive(DeriveIden)]
enum OidcClients {
    Table,
    Id,
    LimitedToGroups,
}

#[derive(DeriveIden)]
enum OidcClientGroups {
    Table,
    ClientId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ScimClients::Table)
                .add_column(boolean(ScimClients::LimitedToGroups).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OidcClients::Table)
                .add_column(boolean(OidcClients::LimitedToGroups).default(false))
                .to_owned(),
        )
        .await?;
        let scim = Query::update()
            .table(ScimClients::Table)
            .value(ScimClients::LimitedToGroups, true)
            .and_where(
                Expr::col(ScimClients::Id).in_subquery(
                    Query::select()
                        .column(ScimClientGroups::ClientId)
                        .from(ScimClientGroups::Table)
                        .to_owned(),
                ),
            )
            .to_owned();
        m.exec_stmt(scim).await?;
        let oidc = Query::update()
            .table(OidcClients::Table)
            .value(OidcClients::LimitedToGroups, true)
            .and_where(
                Expr::col(OidcClients::Id).in_subquery(
                    Query::select()
                        .column(OidcClientGroups::ClientId)
                        .from(OidcClientGroups::Table)
                        .to_owned(),
                ),
            )
            .to_owned();
        m.exec_stmt(oidc).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ScimClients::Table)
                .drop_column(ScimClients::LimitedToGroups)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OidcClients::Table)
                .drop_column(OidcClients::LimitedToGroups)
                .to_owned(),
        )
        .await
    }
}
