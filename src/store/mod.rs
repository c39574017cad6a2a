//! Storage: the only module that names sea-orm entities. Functions take any
//! connection (`&Store::conn()` or an open transaction) and return domain types.
pub mod audit;
pub mod groups;
pub mod outbox;
pub mod scim;
pub mod scim_clients;
pub mod scim_filter;
pub mod tokens;
pub mod users;

use crate::config::{Config, redacted_url};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr, SqlErr, TransactionTrait,
};
use std::time::Duration;

pub use sea_orm::ConnectionTrait as Connection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (the string names the constraint or column).
    #[error("already exists ({0})")]
    Conflict(String),
    /// A query the store cannot express (an unknown or unsupported attribute in a filter).
    #[error("{0}")]
    Query(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(what)) => StoreError::Conflict(what),
            _ => StoreError::Db(err),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Connects, creating the SQLite file (WAL mode) when needed.
    pub async fn connect(config: &Config) -> Result<Self, String> {
        let mut options = ConnectOptions::new(config.database_url.clone());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10));
        if config.is_sqlite() {
            // One connection is SQLite's one writer: no SQLITE_BUSY between our own
            // transactions; the busy timeout covers the CLI working beside the server.
            options.max_connections(1).map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
            });
        } else {
            options.max_connections(16).min_connections(1);
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| format!("cannot open database {}: {}", redacted_url(&config.database_url), e))?;
        Ok(Self { db })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn begin(&self) -> Result<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Applies pending migrations; returns their names.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        let pending: Vec<String> = Migrator::get_pending_migrations(&self.db)
            .await?
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        if !pending.is_empty() {
            Migrator::up(&self.db, None).await?;
        }
        Ok(pending)
    }

    pub async fn pending_migrations(&self) -> Result<usize> {
        Ok(Migrator::get_pending_migrations(&self.db).await?.len())
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}
