//! Storage: the only module that names sea-orm entities. Functions take any
//! connection (`&Store::conn()` or an open transaction) and return domain types.
pub mod audit;
pub mod auth_requests;
pub mod backchannel;
mod db;
pub mod devices;
pub mod grants;
pub mod groups;
pub mod oidc_clients;
pub mod outbox;
pub mod passkeys;
pub mod purge;
pub mod scim;
pub mod scim_clients;
mod scim_filter;
pub mod second_factors;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
mod sqlite;
pub mod tokens;
pub mod user_listing;
pub mod users;

use crate::config::{Config, redacted_url};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, ConnectOptions as _};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};
use std::str::FromStr;
use std::time::Duration;

pub use db::{Conn, Db, Tx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (the string names the constraint or column).
    #[error("already exists ({0})")]
    Conflict(String),
    /// A filter the store cannot express: an unknown or unsupported attribute (bad input).
    #[error("{0}")]
    UnsupportedFilter(String),
    /// A statement could not be built: a bug, never the caller's input.
    #[error("cannot build the statement: {0}")]
    Statement(String),
    /// The writer that commits audit events in groups has stopped, or its batch failed.
    #[error("audit writer: {0}")]
    AuditWriter(String),
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
/// its own thread; more than the cores only spread reads over more threads with cold
/// caches.
fn readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8)
}

/// A JSON column holding a list of strings (amr); anything else reads as empty.
fn json_strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// One connection is SQLite's one writer: no SQLITE_BUSY between our own transactions;
/// the busy timeout covers the CLI working beside the server.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// For reads that need not wait behind writes: SQLite's WAL lets readers run
    /// beside its one writer; on PostgreSQL it is the same pool.
    reader: Db,
    /// How sea-orm connects, for the migrations (they need its own connection type).
    orm: ConnectOptions,
}

impl Store {
    /// Connects, creating the SQLite file (WAL mode) when needed.
    pub async fn connect(config: &Config) -> Result<Self, String> {
        let open_error = |e: String| format!("cannot open database {}: {}", redacted_url(&config.database_url), e);
        let mut orm = ConnectOptions::new(config.database_url.clone());
        orm.sqlx_logging(false)
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(ACQUIRE_TIMEOUT);
        let in_memory = config.database_url.contains(":memory:") || config.database_url.contains("mode=memory");
        if config.is_sqlite() && !in_memory {
            let writer = sqlite_options(&config.database_url).map_err(|e| open_error(e.to_string()))?;
            let reader = writer.clone().read_only(true);
            // sea-orm's connection here only runs the migrations. Without idle or lifetime
            // limits sqlx starts no maintenance task for it: one left behind by a pool that
            // was never closed spins at runtime shutdown (its sleeps end at once), which
            // hung a CLI process in CI.
            orm.max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .map_sqlx_sqlite_opts(configure_sqlite);
            let db = Db::Sqlite(sqlite::pool(writer, 1, ACQUIRE_TIMEOUT).map_err(open_error)?);
            // Opens (and creates) the file now, so a bad path fails at start-up.
            db.execute_unprepared("SELECT 1")
                .await
                .map_err(|e| open_error(e.to_string()))?;
            let reader = sqlite::pool(reader, readers(), ACQUIRE_TIMEOUT).map_err(open_error)?;
            return Ok(Self {
                db,
                reader: Db::Sqlite(reader),
                orm,
            });
        }
        if config.is_sqlite() {
            // In memory, every connection is a database of its own: only one.
            orm.max_connections(1)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(configure_sqlite);
        } else {
            // A ping per checkout is a network round trip per statement; only a
            // connection idle long enough for a firewall or restart to have cut it is
            // tested.
            orm.max_connections(16)
                .min_connections(1)
                .test_before_acquire_if_idle_for(Duration::from_secs(30));
        }
        let db = Database::connect(orm.clone())
            .await
            .map_err(|e: DbErr| open_error(e.to_string()))?;
        Ok(Self {
            db: Db::Orm(db.clone()),
            reader: Db::Orm(db),
            orm,
        })
    }

    pub fn conn(&self) -> &Db {
        &self.db
    }

    /// Read-only queries (lists, lookups) that may run beside a write.
    pub fn reader(&self) -> &Db {
        &self.reader
    }

    /// How many writes may usefully run at once: SQLite has one writer.
    pub fn concurrent_writers(&self) -> usize {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => 1,
            _ => 4,
        }
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.db.begin().await?)
    }

    /// Runs `work` on sea-orm's own connection, which the migrations need; on a SQLite
    /// file, one opened for it and closed after.
    async fn with_orm<T>(&self, work: impl AsyncFnOnce(&DatabaseConnection) -> Result<T, DbErr>) -> Result<T> {
        match &self.db {
            Db::Orm(db) => Ok(work(db).await?),
            Db::Sqlite(_) => {
                let db = Database::connect(self.orm.clone()).await?;
                let result = work(&db).await;
                let _ = db.close().await;
                Ok(result?)
            }
        }
    }

    /// Applies pending migrations; returns their names.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        self.with_orm(async |db| {
            let pending: Vec<String> = Migrator::get_pending_migrations(db)
                .await?
                .iter()
                .map(|m| m.name().to_string())
                .collect();
            // Keys are recomputed just before the migration that marks them done, so a
            // crash in between only repeats the (idempotent) re-keying.
            if let Some(at) = pending.iter().position(|m| m == migration::USERNAME_KEYS) {
                if at > 0 {
                    Migrator::up(db, u32::try_from(at).ok()).await?;
                }
                users::rekey(db).await.map_err(|e| DbErr::Custom(e.to_string()))?;
            }
            if !pending.is_empty() {
                Migrator::up(db, None).await?;
            }
            Ok(pending)
        })
        .await
    }

    pub async fn pending_migrations(&self) -> Result<usize> {
        self.with_orm(async |db| Ok(Migrator::get_pending_migrations(db).await?.len()))
            .await
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(self) {
        self.reader.close().await;
        self.db.close().await;
    }
}

/// The file named by a `sqlite:` URL, with Tessera's settings.
fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(configure_sqlite(SqliteConnectOptions::from_str(url)?).disable_statement_logging())
}

fn configure_sqlite(o: SqliteConnectOptions) -> SqliteConnectOptions {
    o.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        // A checkpoint runs inside whichever commit crosses the threshold and
        // fsyncs twice: at 10,000 pages (~40 MiB of WAL) rather than SQLite's
        // 1,000 it is ten times rarer, and copies each hot page once, not ten times.
        .pragma("wal_autocheckpoint", "10000")
}
