//! The admin console on this machine, over real HTTP to the real server, signed in as
//! an admin through the sign-in pages:
//!   - `/admin/users` with a search and a state filter at 100,000 users (p50/p99 ms),
//!     and a deep page of one state sorted by family name;
//!   - the page of a user with 1,000 mails and 1,000 audit events (p50/p99 ms).
//!
//!     cargo bench --bench console                                   # SQLite
//!     TESSERA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench console   # and PostgreSQL
//!
//! Seeding is plain SQL in batches: set-up, not what is measured. The times are the
//! client's, on loopback: the server's time plus well under a millisecond. Prints
//! figures; asserts nothing.
#[path = "support/databases.rs"]
mod databases;
use databases::{drop_postgres, fresh_postgres, percentile};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Query};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera::app::{ServeOptions, Server};
use tessera::clock::SystemClock;
use tessera::config::Config;

const DIRECTORY: usize = 100_000;
const GROUPS: usize = 20;
const HISTORY: usize = 1_000;
const PASSWORD: &str = "lantern harbour quietly sings";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(async {
        println!(
            "# cargo bench --bench console  ({} cores)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        run("SQLite", None).await;
        if let Ok(url) = std::env::var("TESSERA_BENCH_DATABASE_URL") {
            run("PostgreSQL", Some(url)).await;
        }
    });
}

/// The value of the hidden input `name` on a page.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} on:\n{html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

/// The address of a page's "Next" link.
fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Signs in to the console through the sign-in pages (identify, password).
async fn sign_in(http: &reqwest::Client, base: &str) {
    let page = http
        .get(format!("{base}/admin"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("admin: {e}"));
    let html = page.text().await.unwrap_or_default();
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("r", hidden(&html, "r")),
        ("username", "bench.admin".into()),
    ];
    let html = http
        .post(format!("{base}/signin/identify"))
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("identify: {e}"))
        .text()
        .await
        .unwrap_or_default();
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("r", hidden(&html, "r")),
        ("password", PASSWORD.into()),
    ];
    let landed = http
        .post(format!("{base}/signin/password"))
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("password: {e}"));
    assert!(landed.url().path() == "/admin/users", "signed in at {}", landed.url());
}

async fn timed(http: &reqwest::Client, base: &str, label: &str, what: &str, paths: &[String]) {
    let mut times = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let t = Instant::now();
        let r = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get: {e}"));
        assert_eq!(r.status(), 200, "{path}");
        let _ = r.bytes().await;
        // The first few warm the caches and the connection.
        if i >= 20 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "[{label}] {what}: p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.len()
    );
}

async fn run(label: &str, postgres: Option<String>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut config = Config::for_data_dir(&dir.path().join("data")).unwrap_or_else(|e| panic!("config: {e}"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("port: {e}"))
        .port();
    config.listen = format!("127.0.0.1:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    config.issuer = format!("http://localhost:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("issuer: {e}"));
    // The bench signs in without a second factor: it measures pages, not sign-ins.
    config.admins_require_2fa = false;
    let mut pg_db = None;
    if let Some(admin) = &postgres {
        let (url, name) = fresh_postgres(admin).await;
        config.database_url = url;
        pg_db = Some(name);
    }
    let server = Server::start(config, Arc::new(SystemClock), ServeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("server: {e}"));
    let svc = server.services.clone();
    let base = format!("http://localhost:{port}");
    let new = tessera::accounts::users::NewUser {
        username: "bench.admin".into(),
        email: Some("bench.admin@clinic.org".into()),
        admin: true,
        ..Default::default()
    };
    let initial = tessera::accounts::users::InitialPassword::Chosen(PASSWORD.into());
    tessera::accounts::users::create(&svc, &tessera::audit::Actor::cli(), new, initial)
        .await
        .unwrap_or_else(|e| panic!("admin: {e}"));

    let now = svc.now();
    let groups: Vec<uuid::Uuid> = (0..GROUPS).map(|_| uuid::Uuid::now_v7()).collect();
    let mut insert = Query::insert()
        .into_table(Alias::new("groups"))
        .columns(
            [
                "id",
                "display_name",
                "display_name_lower",
                "created_at",
                "updated_at",
                "version",
            ]
            .map(Alias::new),
        )
        .to_owned();
    for (i, id) in groups.iter().enumerate() {
        let name = format!("Clinic {i:02}");
        insert.values_panic([
            (*id).into(),
            name.clone().into(),
            name.to_lowercase().into(),
            now.into(),
            now.into(),
            1i64.into(),
        ]);
    }
    svc.store
        .conn()
        .execute(&insert)
        .await
        .unwrap_or_else(|e| panic!("groups: {e}"));
    let mut heavy = None;
    for batch in (0..DIRECTORY).collect::<Vec<_>>().chunks(1000) {
        let tx = svc.store.begin().await.unwrap_or_else(|e| panic!("tx: {e}"));
        let ids = seed_users(&tx, batch, &groups, now).await;
        heavy = heavy.or(ids.first().copied());
        tx.commit().await.unwrap_or_else(|e| panic!("commit: {e}"));
    }
    let heavy = heavy.unwrap_or_else(|| panic!("no users"));
    seed_history(&svc, heavy, now).await;
    let maintenance = if postgres.is_some() {
        "ANALYZE"
    } else {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    };
    svc.store
        .conn()
        .execute_unprepared(maintenance)
        .await
        .unwrap_or_else(|e| panic!("{maintenance}: {e}"));

    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap_or_else(|e| panic!("http: {e}"));
    sign_in(&http, &base).await;

    let search: Vec<String> = (0..220)
        .map(|i| format!("/admin/users?q=family{}&state=active", (i * 7919) % DIRECTORY))
        .collect();
    let what = format!("/admin/users search one family name + state=active, {DIRECTORY} users");
    timed(&http, &base, label, &what, &search).await;
    let common: Vec<String> = (0..220)
        .map(|i| format!("/admin/users?q=given+{}&state=disabled", i % 10))
        .collect();
    let what = "/admin/users search matching ~1,000 + state=disabled (50 shown, counted to 1,001)".to_string();
    timed(&http, &base, label, &what, &common).await;
    // Pages follow from a cursor, so the deep ones are reached as a reader would: Next.
    let mut pages = vec!["/admin/users?state=invited&sort=name".to_string()];
    while pages.len() < 150 {
        let last = pages.last().cloned().unwrap_or_default();
        let html = http
            .get(format!("{base}{last}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get: {e}"))
            .text()
            .await
            .unwrap_or_default();
        pages.push(next_link(&html).unwrap_or_else(|| panic!("no next page after {last}")));
    }
    let deep: Vec<String> = (0..120).map(|i| pages[99 + i % 50].clone()).collect();
    let what = "/admin/users state=invited sorted by family name, pages 100-150".to_string();
    timed(&http, &base, label, &what, &deep).await;
    let user_page: Vec<String> = (0..220).map(|_| format!("/admin/users/{heavy}")).collect();
    let what = format!("a user's page, {HISTORY} mails and {HISTORY} audit events (50 of each shown)");
    timed(&http, &base, label, &what, &user_page).await;

    server.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(10), server.wait()).await;
    if let (Some(admin), Some(name)) = (postgres, pg_db) {
        drop_postgres(&admin, &name).await;
    }
}

/// Users `user{i}`, a tenth disabled, two thirds with a password (the rest invited),
/// each in one of the groups.
async fn seed_users(
    tx: &impl ConnectionTrait,
    batch: &[usize],
    groups: &[uuid::Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<uuid::Uuid> {
    let columns = [
        "id",
        "username",
        "username_lower",
        "email",
        "email_lower",
        "given_name",
        "family_name",
        "active",
        "active_unset",
        "role",
        "password_hash",
        "must_change_password",
        "failed_logins",
        "lockouts",
        "created_at",
        "updated_at",
        "version",
    ];
    let mut users = Query::insert()
        .into_table(Alias::new("users"))
        .columns(columns.map(Alias::new))
        .to_owned();
    let mut members = Query::insert()
        .into_table(Alias::new("group_members"))
        .columns(["group_id", "member_user_id", "is_admin", "created_at"].map(Alias::new))
        .to_owned();
    let mut ids = Vec::new();
    for &i in batch {
        let id = uuid::Uuid::now_v7();
        ids.push(id);
        let name = format!("user{i:06}");
        let email = format!("{name}@clinic.org");
        let hash: Option<String> = (i % 3 != 0).then(|| "$argon2id$seeded".into());
        users.values_panic([
            id.into(),
            name.clone().into(),
            name.into(),
            email.clone().into(),
            email.into(),
            format!("Given {}", i % 1000).into(),
            format!("Family{i}").into(),
            (i % 10 != 0).into(),
            false.into(),
            "member".into(),
            hash.into(),
            false.into(),
            0i32.into(),
            0i32.into(),
            now.into(),
            now.into(),
            1i64.into(),
        ]);
        members.values_panic([groups[i % groups.len()].into(), id.into(), false.into(), now.into()]);
    }
    tx.execute(&users).await.unwrap_or_else(|e| panic!("users: {e}"));
    tx.execute(&members).await.unwrap_or_else(|e| panic!("members: {e}"));
    ids
}

/// 1,000 mails (sent and failed) and 1,000 audit events about one user.
async fn seed_history(svc: &tessera::services::Services, user: uuid::Uuid, now: chrono::DateTime<chrono::Utc>) {
    let tx = svc.store.begin().await.unwrap_or_else(|e| panic!("tx: {e}"));
    let mut mails = Query::insert()
        .into_table(Alias::new("mail_outbox"))
        .columns(
            [
                "id",
                "purpose",
                "user_id",
                "to_address",
                "subject",
                "body_text",
                "status",
                "attempts",
                "next_attempt_at",
                "last_error",
                "created_at",
            ]
            .map(Alias::new),
        )
        .to_owned();
    let mut events = Query::insert()
        .into_table(Alias::new("audit_events"))
        .columns(
            [
                "at",
                "actor_kind",
                "actor_label",
                "action",
                "target_kind",
                "target_id",
                "target_label",
                "outcome",
            ]
            .map(Alias::new),
        )
        .to_owned();
    for i in 0..HISTORY {
        let failed = i % 7 == 0;
        let error: Option<String> = failed.then(|| "550 5.1.1 mailbox unavailable".into());
        mails.values_panic([
            uuid::Uuid::now_v7().into(),
            "reset".into(),
            user.into(),
            "user000000@clinic.org".into(),
            "Northside Clinics: choose a new password".into(),
            "(sent)".into(),
            if failed { "failed" } else { "sent" }.into(),
            1i32.into(),
            now.into(),
            error.into(),
            (now - chrono::Duration::minutes(i as i64)).into(),
        ]);
        events.values_panic([
            (now - chrono::Duration::minutes(i as i64)).into(),
            "user".into(),
            "bench.admin".into(),
            "user.reset_link".into(),
            "user".into(),
            user.to_string().into(),
            "user000000".into(),
            "success".into(),
        ]);
    }
    tx.execute(&mails).await.unwrap_or_else(|e| panic!("mails: {e}"));
    tx.execute(&events).await.unwrap_or_else(|e| panic!("events: {e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("commit: {e}"));
}
