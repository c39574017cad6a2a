//! Usernames are identified by their RFC 8265 UsernameCaseMapped key from now on
//! (NFC, width-mapped, case-folded), kept in `users.username_lower`. The rule lives in
//! the server (`accounts::username`), so the server recomputes the keys just before
//! it applies this migration (`store::Store::migrate`); the migration itself only
//! marks that done, and a crash between the two repeats the idempotent re-keying.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
