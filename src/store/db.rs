//! What store functions run on: a database handle or an open transaction, each either
//! sea-orm's own (PostgreSQL, in-memory SQLite) or Tessera's SQLite pool (sqlite.rs).
use super::sqlite;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult};
use sea_orm::{Statement, TransactionTrait};

#[derive(Clone, Debug)]
pub enum Db {
    Orm(DatabaseConnection),
    Sqlite(sqlite::Pool),
}

pub enum Tx {
    Orm(DatabaseTransaction),
    Sqlite(sqlite::Transaction),
}

impl Db {
    pub async fn begin(&self) -> Result<Tx, DbErr> {
        Ok(match self {
            Db::Orm(db) => Tx::Orm(db.begin().await?),
            Db::Sqlite(pool) => Tx::Sqlite(sqlite::Transaction::begin(pool).await?),
        })
    }

    pub async fn close(self) {
        match self {
            Db::Orm(db) => {
                let _ = db.close().await;
            }
            Db::Sqlite(pool) => sqlite::close(&pool).await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Tx::Orm(tx) => tx.commit().await,
            Tx::Sqlite(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Tx::Orm(tx) => tx.rollback().await,
            Tx::Sqlite(tx) => tx.rollback().await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Db::Orm(db) => db.get_database_backend(),
            Db::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Db::Orm(db) => db.execute_raw(stmt).await,
            Db::Sqlite(pool) => sqlite::execute(pool, &stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Db::Orm(db) => db.execute_unprepared(sql).await,
            Db::Sqlite(pool) => sqlite::execute_unprepared(pool, sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Db::Orm(db) => db.query_one_raw(stmt).await,
            Db::Sqlite(pool) => sqlite::query_one(pool, &stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Db::Orm(db) => db.query_all_raw(stmt).await,
            Db::Sqlite(pool) => sqlite::query_all(pool, &stmt).await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Tx::Orm(tx) => tx.get_database_backend(),
            Tx::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Tx::Orm(tx) => tx.execute_raw(stmt).await,
            Tx::Sqlite(tx) => tx.execute(&stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Tx::Orm(tx) => tx.execute_unprepared(sql).await,
            Tx::Sqlite(tx) => tx.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Tx::Orm(tx) => tx.query_one_raw(stmt).await,
            Tx::Sqlite(tx) => tx.query_one(&stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Tx::Orm(tx) => tx.query_all_raw(stmt).await,
            Tx::Sqlite(tx) => tx.query_all(&stmt).await,
        }
    }
}

/// What the domain hands to store functions: the database, or a transaction on it.
/// Sealed, so only the store's own `Db` and `Tx` are connections, and code outside the
/// store names no sea-orm type.
pub trait Conn: ConnectionTrait + sealed::Sealed {}

impl Conn for Db {}
impl Conn for Tx {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Db {}
    impl Sealed for super::Tx {}
}
