//! SQLite connections pooled by Tessera rather than by sqlx. sqlx's pool tests every
//! connection given back with a ping, and on SQLite a ping is one more hand-off to the
//! connection's thread and back: after every statement, as costly as the statement
//! itself. A connection to a local file cannot hang up, so here a connection goes back
//! as it is. What a ping would also have flushed, a transaction left open by a
//! cancelled request, is rolled back by `Transaction`'s drop: sqlx queues that rollback
//! on the connection's own thread, ahead of the next caller's statements.
use deadpool::managed::{self, Metrics, PoolError, RecycleResult};
use sea_orm::sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{ConnAcquireErr, DbErr, ExecResult, QueryResult, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;
use sqlx_core::transaction::TransactionManager;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

type Transactions = <Sqlite as sqlx::Database>::TransactionManager;

/// Opens connections with the store's options; a connection given back needs no check.
#[derive(Debug)]
pub struct Opener(SqliteConnectOptions);

impl managed::Manager for Opener {
    type Type = SqliteConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<SqliteConnection, sqlx::Error> {
        self.0.connect().await
    }

    async fn recycle(&self, _: &mut SqliteConnection, _: &Metrics) -> RecycleResult<sqlx::Error> {
        Ok(())
    }
}

pub type Pool = managed::Pool<Opener>;
type Conn = managed::Object<Opener>;

/// A pool of at most `size` connections, opened when first needed. The connection given
/// back last goes out first: its thread and its page cache are the warm ones.
pub fn pool(options: SqliteConnectOptions, size: usize, wait: Duration) -> Result<Pool, String> {
    Pool::builder(Opener(options))
        .max_size(size)
        .queue_mode(managed::QueueMode::Lifo)
        .wait_timeout(Some(wait))
        .create_timeout(Some(wait))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
}

async fn checkout(pool: &Pool) -> Result<Conn, DbErr> {
    pool.get().await.map_err(|e| match e {
        PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        PoolError::Backend(e) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
        other => DbErr::Conn(RuntimeErr::Internal(other.to_string())),
    })
}

/// Closes the idle connections cleanly (the last one to close checkpoints the WAL) and
/// refuses further checkouts.
pub async fn close(pool: &Pool) {
    let idle = pool.retain(|_, _| false).removed;
    pool.close();
    for conn in idle {
        let _ = conn.close().await;
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// Bound as sea-orm binds its own statements, so values read back the same.
fn query(stmt: &Statement) -> sqlx::query::Query<'_, Sqlite, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

async fn execute_on(c: &mut SqliteConnection, stmt: &Statement) -> Result<ExecResult, DbErr> {
    query(stmt).execute(c).await.map(Into::into).map_err(exec_err)
}

async fn execute_unprepared_on(c: &mut SqliteConnection, sql: &str) -> Result<ExecResult, DbErr> {
    use sqlx::Executor as _;
    c.execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .map(Into::into)
        .map_err(exec_err)
}

async fn query_one_on(c: &mut SqliteConnection, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
    query(stmt)
        .fetch_optional(c)
        .await
        .map(|row| row.map(Into::into))
        .map_err(query_err)
}

async fn query_all_on(c: &mut SqliteConnection, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
    query(stmt)
        .fetch_all(c)
        .await
        .map(|rows| rows.into_iter().map(Into::into).collect())
        .map_err(query_err)
}

/// One statement on a connection of the pool, given back as soon as it is done.
pub async fn execute(pool: &Pool, stmt: &Statement) -> Result<ExecResult, DbErr> {
    execute_on(&mut *checkout(pool).await?, stmt).await
}

pub async fn execute_unprepared(pool: &Pool, sql: &str) -> Result<ExecResult, DbErr> {
    execute_unprepared_on(&mut *checkout(pool).await?, sql).await
}

pub async fn query_one(pool: &Pool, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
    query_one_on(&mut *checkout(pool).await?, stmt).await
}

pub async fn query_all(pool: &Pool, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
    query_all_on(&mut *checkout(pool).await?, stmt).await
}

/// A transaction holding one connection until it is committed or dropped; dropped
/// without a commit (an error, or the request cancelled), it is rolled back.
pub struct Transaction {
    conn: Mutex<Conn>,
    open: bool,
}

impl Transaction {
    pub async fn begin(pool: &Pool) -> Result<Self, DbErr> {
        // Made open before BEGIN is sent: if this future is dropped while BEGIN is on its
        // way, the drop still queues the rollback behind it.
        let mut tx = Self {
            conn: Mutex::new(checkout(pool).await?),
            open: true,
        };
        // IMMEDIATE: the write lock is taken at BEGIN, where SQLite's busy timeout waits
        // for another process (the CLI beside the server) to finish. A deferred BEGIN
        // that reads first and writes later fails at once (SQLITE_BUSY_SNAPSHOT) when
        // the other process wrote in between.
        Transactions::begin(
            &mut *tx.conn.get_mut(),
            Some(sqlx::SqlStr::from_static("BEGIN IMMEDIATE")),
        )
        .await
        .map_err(query_err)?;
        Ok(tx)
    }

    pub async fn commit(mut self) -> Result<(), DbErr> {
        Transactions::commit(&mut *self.conn.get_mut())
            .await
            .map_err(query_err)?;
        self.open = false;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), DbErr> {
        Transactions::rollback(&mut *self.conn.get_mut())
            .await
            .map_err(query_err)?;
        self.open = false;
        Ok(())
    }

    pub async fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        execute_on(&mut *self.conn.lock().await, stmt).await
    }

    pub async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        execute_unprepared_on(&mut *self.conn.lock().await, sql).await
    }

    pub async fn query_one(&self, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        query_one_on(&mut *self.conn.lock().await, stmt).await
    }

    pub async fn query_all(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        query_all_on(&mut *self.conn.lock().await, stmt).await
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.open {
            Transactions::start_rollback(&mut *self.conn.get_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    async fn writer(dir: &tempfile::TempDir) -> Pool {
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let options = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
        let pool = pool(options, 1, Duration::from_secs(2)).unwrap();
        execute_unprepared(&pool, "CREATE TABLE t (x INTEGER)").await.unwrap();
        pool
    }

    async fn count(pool: &Pool) -> i64 {
        let stmt = Statement::from_string(sea_orm::DbBackend::Sqlite, "SELECT COUNT(*) AS n FROM t");
        query_one(pool, &stmt).await.unwrap().unwrap().try_get("", "n").unwrap()
    }

    fn insert() -> Statement {
        Statement::from_string(sea_orm::DbBackend::Sqlite, "INSERT INTO t (x) VALUES (1)")
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_is_rolled_back_before_the_next_statement() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer(&dir).await;
        let tx = Transaction::begin(&pool).await.unwrap();
        tx.execute(&insert()).await.unwrap();
        drop(tx);
        // The pool's one connection is the one the transaction had.
        assert_eq!(count(&pool).await, 0);
        execute(&pool, &insert()).await.unwrap();
        assert_eq!(
            count(&pool).await,
            1,
            "later statements are not inside the dropped transaction"
        );

        let tx = Transaction::begin(&pool).await.unwrap();
        tx.execute(&insert()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&pool).await, 2);
    }

    #[tokio::test]
    async fn a_transaction_cancelled_at_any_point_leaves_the_connection_usable() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer(&dir).await;
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let options = SqliteConnectOptions::from_str(&url).unwrap().read_only(true);
        let reader = super::pool(options, 1, Duration::from_secs(2)).unwrap();
        // Each round is cut off at a different await: during BEGIN, the INSERT, or COMMIT.
        for polls in 0..12 {
            let work = async {
                let tx = Transaction::begin(&pool).await?;
                tx.execute(&insert()).await?;
                tx.commit().await
            };
            let mut work = Box::pin(work);
            let cut = std::future::poll_fn(|cx| {
                for _ in 0..=polls {
                    if let std::task::Poll::Ready(r) = work.as_mut().poll(cx) {
                        return std::task::Poll::Ready(Some(r));
                    }
                }
                std::task::Poll::Ready(None)
            })
            .await;
            drop(work);
            let before = count(&pool).await;
            // The writer sees only what is committed: nothing of a cut-off transaction is left open.
            assert_eq!(before, count(&reader).await, "round {polls} ({cut:?})");
            execute(&pool, &insert()).await.unwrap();
            assert_eq!(count(&pool).await, before + 1, "round {polls} ({cut:?})");
        }
    }
}
