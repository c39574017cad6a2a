//! What makes the console's user list fast at 100,000 users: an index for its search
//! words and indexes in each of its sort orders (so a page starts at its cursor).
//!
//! The search text of a user is `search_text` below; `src/store/user_listing.rs`
//! matches against the same expression, which must stay the same text for PostgreSQL
//! to use its index. Words never contain whitespace, so a word found in the joined text
//! is found in one of the four values.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The search text of the row `row` (`new.` in a trigger, empty for the table itself).
fn search_text(row: &str) -> String {
    format!(
        "({row}username_lower || ' ' || coalesce({row}email_lower, '') || ' ' || \
         lower(coalesce({row}given_name, '')) || ' ' || lower(coalesce({row}family_name, '')))"
    )
}

/// The sort orders' indexes; the Name order treats a missing name as empty, so a row
/// comparison (keyset paging) needs no NULL cases.
const SORT_INDEXES: [&str; 2] = [
    "CREATE INDEX idx_users_family_sort ON users \
     (coalesce(family_name, ''), coalesce(given_name, ''), username_lower)",
    "CREATE INDEX idx_users_created_sort ON users (created_at, username_lower)",
];

/// SQLite: an FTS5 trigram index over a copy of each user's search text, kept in step
/// by triggers, so every write to `users` from any code path updates it. The copy has
/// an INTEGER PRIMARY KEY because the FTS rowid must not move, and the rowid of `users`
/// (keyed by UUID) may change on VACUUM.
fn sqlite_up() -> Vec<String> {
    let new = search_text("new.");
    vec![
        "CREATE TABLE user_search_text (row INTEGER PRIMARY KEY, user_id BLOB NOT NULL UNIQUE, text TEXT NOT NULL)"
            .into(),
        "CREATE VIRTUAL TABLE user_search USING fts5 \
         (text, content = 'user_search_text', content_rowid = 'row', tokenize = 'trigram')"
            .into(),
        "CREATE TRIGGER user_search_text_ai AFTER INSERT ON user_search_text BEGIN \
         INSERT INTO user_search (rowid, text) VALUES (new.row, new.text); END"
            .into(),
        "CREATE TRIGGER user_search_text_ad AFTER DELETE ON user_search_text BEGIN \
         INSERT INTO user_search (user_search, rowid, text) VALUES ('delete', old.row, old.text); END"
            .into(),
        "CREATE TRIGGER user_search_text_au AFTER UPDATE ON user_search_text BEGIN \
         INSERT INTO user_search (user_search, rowid, text) VALUES ('delete', old.row, old.text); \
         INSERT INTO user_search (rowid, text) VALUES (new.row, new.text); END"
            .into(),
        // The users there already are, copied once: the triggers on users come after.
        format!(
            "INSERT INTO user_search_text (user_id, text) SELECT id, {} FROM users",
            search_text("")
        ),
        format!(
            "CREATE TRIGGER users_search_ai AFTER INSERT ON users BEGIN \
             INSERT INTO user_search_text (user_id, text) VALUES (new.id, {new}); END"
        ),
        format!(
            "CREATE TRIGGER users_search_au AFTER UPDATE OF username_lower, email_lower, given_name, family_name \
             ON users BEGIN UPDATE user_search_text SET text = {new} WHERE user_id = new.id; END"
        ),
        "CREATE TRIGGER users_search_ad AFTER DELETE ON users BEGIN \
         DELETE FROM user_search_text WHERE user_id = old.id; END"
            .into(),
    ]
}

const SQLITE_DOWN: [&str; 5] = [
    "DROP TRIGGER IF EXISTS users_search_ai",
    "DROP TRIGGER IF EXISTS users_search_au",
    "DROP TRIGGER IF EXISTS users_search_ad",
    "DROP TABLE IF EXISTS user_search",
    "DROP TABLE IF EXISTS user_search_text",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in SORT_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                for sql in sqlite_up() {
                    db.execute_unprepared(&sql).await?;
                }
            }
            DbBackend::Postgres => {
                // pg_trgm came with m20261123_000003 where the server may create it;
                // without it the search still works, by scanning.
                let trgm = db
                    .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT 1 AS one FROM pg_extension WHERE extname = 'pg_trgm'",
                    ))
                    .await?;
                if trgm.is_none() {
                    tracing::warn!("pg_trgm is not available: the console's user search will scan");
                    return Ok(());
                }
                // Without fastupdate: new rows go into the index at once rather than into a
                // pending list that every search reads through until a vacuum.
                db.execute_unprepared(&format!(
                    "CREATE INDEX idx_users_search_trgm ON users USING gin ({} gin_trgm_ops) \
                     WITH (fastupdate = off)",
                    search_text("")
                ))
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Sqlite {
            for sql in SQLITE_DOWN {
                db.execute_unprepared(sql).await?;
            }
        } else {
            db.execute_unprepared("DROP INDEX IF EXISTS idx_users_search_trgm")
                .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS idx_users_family_sort")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_users_created_sort")
            .await?;
        Ok(())
    }
}
