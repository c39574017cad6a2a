//! What a SCIM client may do beyond provisioning ordinary staff: manage users who
//! hold admin rights, and set passwords. Both are off unless an admin registers the
//! client with them, so an HR feed's token can never take over an administrator.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::boolean;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScimClients {
    Table,
    ManageAdmins,
    SetPasswords,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in [ScimClients::ManageAdmins, ScimClients::SetPasswords] {
            m.alter_table(
                Table::alter()
                    .table(ScimClients::Table)
                    .add_column(boolean(col).default(false))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [ScimClients::ManageAdmins, ScimClients::SetPasswords] {
            m.alter_table(Table::alter().table(ScimClients::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
