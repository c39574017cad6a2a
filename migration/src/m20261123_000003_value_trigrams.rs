//! On PostgreSQL, a trigram index so `co`, `sw` and `ew` filters on multi-valued
//! attributes (`emails.value co "@clinic"`) do not scan every value.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Outside a transaction: if the extension cannot be created, the index is skipped
    // and filters still work, only slower.
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        // pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        if let Err(e) = db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await {
            tracing::warn!(error = %e, "pg_trgm is not available: substring filters will scan");
            return Ok(());
        }
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_user_values_value_trgm ON user_values USING gin (value_lower gin_trgm_ops)",
        )
        .await?;
        Ok(())
    }
}
