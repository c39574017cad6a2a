//! Storage: the only module that names sea-orm entities. Functions take any
//! connection (`&Store::conn()` or an open transaction) and return domain types.
pub mod audit;
pub mod auth_requests;
pub mod backchannel;
pub mod grants;
pub mod groups;
pub mod oidc_clients;
pub mod outbox;
pub mod purge;
pub mod scim;
pub mod scim_clients;
pub mod scim_filter;
pub mod sessions;
pub mod signing_keys;
pub mod tokens;
pub mod users;

use crate::config::{Config, redacted_url};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{
    self,
    sqlite::{SqliteJournalMode, SqliteSynchronous},
};
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

/// SQLite read connections beside the one writer: one per core, at most 8. Each runs on
/// its own thread, and the pool hands them out in turn, so connections beyond the cores
/// only spread reads over more threads with cold caches (4 on 2 cores cost sign-ins ~3%).
fn readers() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8) as u32
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// For reads that need not wait behind writes: SQLite's WAL lets readers run
    /// beside its one writer; on PostgreSQL it is the same pool.
    reader: DatabaseConnection,
}

/// SQLite's one writer, to be held across several statements.
pub struct SqliteWriter(sqlx::SqlitePool);

/// The writer while held: every other write waits until this is dropped.
pub struct HeldWriter(sqlx::pool::PoolConnection<sqlx::Sqlite>);

impl SqliteWriter {
    pub async fn hold(&self) -> Result<HeldWriter> {
        self.0
            .acquire()
            .await
            .map(HeldWriter)
            .map_err(|e| StoreError::Query(e.to_string()))
    }
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
            // sqlx pings a pooled connection on every checkout by default: for SQLite that
            // is one more hand-off to the connection's thread per statement, to test a
            // file that cannot hang up.
            options
                .max_connections(1)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(5))
                        .foreign_keys(true)
                        // A checkpoint runs inside whichever commit crosses the threshold and
                        // fsyncs twice; at SQLite's default (1,000 pages) that was every ~250
                        // token-issue batches and the p99 of /token. At 10,000 pages (~40 MiB
                        // of WAL) it is ten times rarer, and copies each hot page once, not ten times.
                        .pragma("wal_autocheckpoint", "10000")
                });
        } else {
            // A ping per checkout is a network round trip per statement; only a
            // connection idle long enough for a firewall or restart to have cut it is
            // tested.
            options
                .max_connections(16)
                .min_connections(1)
                .test_before_acquire_if_idle_for(Duration::from_secs(30));
        }
        let open_error = |e: DbErr| format!("cannot open database {}: {}", redacted_url(&config.database_url), e);
        let db = Database::connect(options.clone()).await.map_err(open_error)?;
        let in_memory = config.database_url.contains(":memory:") || config.database_url.contains("mode=memory");
        let reader = if config.is_sqlite() && !in_memory {
            options
                .max_connections(readers())
                .map_sqlx_sqlite_opts(|o| o.read_only(true).busy_timeout(Duration::from_secs(5)));
            Database::connect(options).await.map_err(open_error)?
        } else {
            db.clone()
        };
        Ok(Self { db, reader })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Read-only queries (lists, lookups) that may run beside a write.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// SQLite's one writer connection, for a task that keeps it across several
    /// statements; None on PostgreSQL.
    pub fn sqlite_writer(&self) -> Option<SqliteWriter> {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => Some(SqliteWriter(self.db.get_sqlite_connection_pool().clone())),
            _ => None,
        }
    }

    /// How many writes may usefully run at once: SQLite has one writer.
    pub fn concurrent_writers(&self) -> usize {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => 1,
            _ => 4,
        }
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
        let _ = self.reader.close().await;
        let _ = self.db.close().await;
    }
}
