//! SCIM figures on this machine, over real HTTP to the real server:
//!   - 10,000 POST /Users from 8 concurrent clients (users/s), each new user mailed an
//!     invite (the default), then 10,000 more from a client registered `--no-invites`;
//!   - `userName eq` and `emails.value co` filters on 100,000 users (p50/p99 ms);
//!   - PATCH adding 100 members to a 10,000-member group (ms).
//!
//!     cargo bench --bench scim                                   # SQLite
//!     TESSERA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench scim   # and PostgreSQL
//!
//! Seeding from 10,000 to 100,000 users is plain SQL in batches: it is set-up, not what
//! is measured. Prints figures; asserts nothing.
#[path = "support/databases.rs"]
mod databases;
use databases::{drop_postgres, fresh_postgres, percentile};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Order, Query};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera::app::{ServeOptions, Server};
use tessera::clock::SystemClock;
use tessera::config::Config;

const CREATES: usize = 10_000;
const DIRECTORY: usize = 100_000;
const CLIENTS: usize = 8;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(async {
        println!(
            "# cargo bench --bench scim  ({} cores)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        run("SQLite", None).await;
        if let Ok(url) = std::env::var("TESSERA_BENCH_DATABASE_URL") {
            run("PostgreSQL", Some(url)).await;
        }
    });
}

async fn run(label: &str, postgres: Option<String>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut config = Config::for_data_dir(&dir.path().join("data")).unwrap_or_else(|e| panic!("config: {e}"));
    config.listen = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("addr: {e}"));
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
    let base = format!("http://{}/scim/v2", server.addr);
    let actor = tessera::audit::Actor::cli();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap_or_else(|e| panic!("http: {e}"));

    // 1. Creates through POST /Users, 8 clients at once: invited (an invite token, its
    // mail in the outbox and the worker writing it out), then without invites.
    // The later figures use the last round's client.
    let mut token = String::new();
    for (round, no_invites) in [(0, false), (1, true)] {
        let rights = tessera::scim::clients::ClientRights {
            no_invites,
            ..Default::default()
        };
        (_, token) = tessera::scim::clients::create(&svc, &actor, &format!("bench {round}"), &[], rights)
            .await
            .unwrap_or_else(|e| panic!("client: {e}"));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                for i in (round * CREATES + c..(round + 1) * CREATES).step_by(CLIENTS) {
                    let body = json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": format!("user{i:06}"),
                        "name": {"givenName": "Given", "familyName": format!("Family{i}")},
                        "emails": [{"value": format!("user{i:06}@clinic.org"), "type": "work", "primary": true}],
                        "active": true,
                    });
                    let r = http
                        .post(format!("{base}/Users"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    assert!(r.is_ok_and(|r| r.status() == 201), "create failed");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap_or_else(|e| panic!("task: {e}"));
        }
        let secs = start.elapsed().as_secs_f64();
        let invites = if no_invites { "no invites" } else { "each invited" };
        println!(
            "[{label}] POST /Users x{CREATES}, {CLIENTS} clients, {invites}: {:.0} users/s ({secs:.1} s)",
            CREATES as f64 / secs
        );
    }

    // 2. Seed to 100,000 users with plain SQL (set-up only, not measured).
    let now = svc.now();
    for batch in (2 * CREATES..DIRECTORY).collect::<Vec<_>>().chunks(2000) {
        let tx = svc.store.begin().await.unwrap_or_else(|e| panic!("tx: {e}"));
        seed_users(&tx, batch, now).await;
        tx.commit().await.unwrap_or_else(|e| panic!("commit: {e}"));
    }

    // The planner's statistics after a bulk load, as autovacuum would gather them; SQLite
    // folds the seeding's WAL into the database.
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

    // 3. Filters on 100,000 users, one client, latency per request (after 20 unmeasured).
    for (name, n, make) in [
        (
            "userName eq",
            500usize,
            (|i: usize| format!("userName eq \"user{:06}\"", (i * 7919) % DIRECTORY)) as fn(usize) -> String,
        ),
        ("emails.value co", 200, |i: usize| {
            format!("emails.value co \"{:06}@\"", (i * 7919) % DIRECTORY)
        }),
    ] {
        let mut times = Vec::with_capacity(n);
        for i in 0..n + 20 {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("filter", &make(i))
                .finish();
            let t = Instant::now();
            let r = http
                .get(format!("{base}/Users?{q}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get: {e}"));
            let body: Value = r.json().await.unwrap_or_else(|e| panic!("json: {e}"));
            if i >= 20 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            assert_eq!(body["totalResults"], 1, "{}", make(i));
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "[{label}] GET /Users?filter={name} on {DIRECTORY} users: p50 {:.2} ms, p99 {:.2} ms ({n} requests)",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }

    // 4. A 10,000-member group, then PATCH adding 100 members (several rounds).
    let all: Vec<uuid::Uuid> = {
        let q = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("users"))
            .order_by(Alias::new("created_at"), Order::Asc)
            .order_by(Alias::new("id"), Order::Asc)
            .limit(10_600)
            .to_owned();
        let rows = svc
            .store
            .conn()
            .query_all(&q)
            .await
            .unwrap_or_else(|e| panic!("list: {e}"));
        rows.iter()
            .map(|r| r.try_get::<uuid::Uuid>("", "id").unwrap_or_else(|e| panic!("id: {e}")))
            .collect()
    };
    let r = http
        .post(format!("{base}/Groups"))
        .bearer_auth(&token)
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Big clinic"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("group: {e}"));
    let group: Value = r.json().await.unwrap_or_else(|e| panic!("json: {e}"));
    let gid = group["id"].as_str().unwrap_or_else(|| panic!("group id")).to_string();
    let gid_uuid = uuid::Uuid::parse_str(&gid).unwrap_or_else(|e| panic!("uuid: {e}"));
    let tx = svc.store.begin().await.unwrap_or_else(|e| panic!("tx: {e}"));
    for chunk in all[..10_000].chunks(2000) {
        let mut insert = Query::insert()
            .into_table(Alias::new("group_members"))
            .columns(["group_id", "member_user_id", "is_admin", "created_at"].map(Alias::new))
            .to_owned();
        for id in chunk {
            insert.values_panic([gid_uuid.into(), (*id).into(), false.into(), now.into()]);
        }
        tx.execute(&insert).await.unwrap_or_else(|e| panic!("members: {e}"));
    }
    tx.commit().await.unwrap_or_else(|e| panic!("commit: {e}"));
    let mut times = Vec::new();
    for round in 0..5 {
        let members: Vec<Value> = all[10_000 + round * 100..10_000 + (round + 1) * 100]
            .iter()
            .map(|id| json!({"value": id}))
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": members}]});
        let t = Instant::now();
        let r = http
            .patch(format!("{base}/Groups/{gid}?excludedAttributes=members"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("patch: {e}"));
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "[{label}] PATCH +100 members to a 10,000-member group (excludedAttributes=members): median {:.1} ms, max {:.1} ms (5 rounds)",
        percentile(&times, 0.5),
        times[times.len() - 1]
    );

    server.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(10), server.wait()).await;
    if let (Some(admin), Some(name)) = (postgres, pg_db) {
        drop_postgres(&admin, &name).await;
    }
}

/// Users `user{i}` with one work email each, as SCIM would have stored them.
async fn seed_users(tx: &impl ConnectionTrait, batch: &[usize], now: chrono::DateTime<chrono::Utc>) {
    let mut users = Query::insert()
        .into_table(Alias::new("users"))
        .columns(
            [
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
                "must_change_password",
                "failed_logins",
                "created_at",
                "updated_at",
                "version",
            ]
            .map(Alias::new),
        )
        .to_owned();
    let mut values = Query::insert()
        .into_table(Alias::new("user_values"))
        .columns(
            [
                "user_id",
                "attr",
                "position",
                "kind",
                "kind_lower",
                "value",
                "value_lower",
                "is_primary",
                "data",
            ]
            .map(Alias::new),
        )
        .to_owned();
    for &i in batch {
        let id = uuid::Uuid::now_v7();
        let name = format!("user{i:06}");
        let email = format!("{name}@clinic.org");
        users.values_panic([
            id.into(),
            name.clone().into(),
            name.into(),
            email.clone().into(),
            email.clone().into(),
            "Given".into(),
            format!("Family{i}").into(),
            true.into(),
            false.into(),
            "member".into(),
            false.into(),
            0i32.into(),
            now.into(),
            now.into(),
            1i64.into(),
        ]);
        values.values_panic([
            id.into(),
            "emails".into(),
            0i32.into(),
            "work".into(),
            "work".into(),
            email.clone().into(),
            email.clone().into(),
            true.into(),
            json!({"value": email, "type": "work", "primary": true}).into(),
        ]);
    }
    tx.execute(&users).await.unwrap_or_else(|e| panic!("users: {e}"));
    tx.execute(&values).await.unwrap_or_else(|e| panic!("values: {e}"));
}
