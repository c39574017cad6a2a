//! What the benches share: a PostgreSQL database of their own, and percentiles.
use sea_orm::{ConnectionTrait, Database};

/// The `p` quantile of sorted figures (NaN when there are none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A new, empty database on the server at `admin_url`: its URL and its name.
pub async fn fresh_postgres(admin_url: &str) -> (String, String) {
    let name = format!("tessera_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap_or_else(|e| panic!("create db: {e}"));
    admin.close().await.ok();
    let mut url = url::Url::parse(admin_url).unwrap_or_else(|e| panic!("url: {e}"));
    url.set_path(&name);
    (url.to_string(), name)
}

/// Drops a database `fresh_postgres` made, if the server is still there.
pub async fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(a) = Database::connect(admin_url).await {
        let _ = a
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
}
