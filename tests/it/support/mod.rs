pub mod console;
pub mod mailbox;
pub mod oidc;
pub mod passkey;
pub mod second_factor;
pub mod smtp;

use chrono::Utc;
use sea_orm::{ConnectionTrait, Database};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;
use tessera::app::{ServeOptions, Server};
use tessera::clock::ManualClock;
use tessera::config::Config;
use tessera::services::Services;

/// Runs an async test body once per storage backend.
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }

            // Ignored, visibly, unless TESSERA_TEST_DATABASE_URL was set at build time
            // (build.rs); set, a missing server fails the test.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(tessera_postgres_tests),
                ignore = "set TESSERA_TEST_DATABASE_URL to run on PostgreSQL"
            )]
            async fn postgres() {
                let backend = $crate::support::Backend::postgres()
                    .expect("TESSERA_TEST_DATABASE_URL is set when this test is built to run");
                super::$name(backend).await
            }
        }
    )*};
}

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// The server URL of a PostgreSQL instance; each test creates its own database on it.
    Postgres(String),
}

impl Backend {
    pub fn postgres() -> Option<Self> {
        std::env::var("TESSERA_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(Backend::Postgres)
    }
}

/// A database for one test: a SQLite file in the test's directory, or a fresh
/// PostgreSQL database dropped at the end.
pub struct TestDb {
    pub url: String,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn create(backend: &Backend, dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}?mode=rwc", dir.join("tessera.db").display()),
                postgres: None,
            },
            Backend::Postgres(admin_url) => {
                let name = format!("tessera_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(admin_url).expect("PostgreSQL URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    postgres: Some((admin_url.clone(), name)),
                }
            }
        }
    }

    pub async fn drop_database(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            drop_postgres(&admin_url, &name).await;
        }
    }
}

async fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        admin.close().await.ok();
    }
}

/// A test that fails (panics) never reaches `stop`: its database goes here instead,
/// on a thread of its own, as Drop cannot wait on the test's runtime.
impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            let dropped = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(drop_postgres(&admin_url, &name));
                }
            });
            let _ = dropped.join();
        }
    }
}

/// Real time at the start, so the server's clock and a CLI run beside it agree.
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc::now()
}

pub struct TestServer {
    pub base: String,
    pub svc: Services,
    pub clock: Arc<ManualClock>,
    pub setup_link: Option<String>,
    pub client: reqwest::Client,
    pub db: TestDb,
    _dir: tempfile::TempDir,
    server: Server,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::create(&backend, dir.path()).await;
        let mut config = Config::for_data_dir(&dir.path().join("data")).expect("config");
        config.database_url = db.url.clone();
        config.listen = "127.0.0.1:0".parse().expect("address");
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new(start_time()));
        let options = ServeOptions {
            migrate: true,
            mail_poll: Duration::from_millis(50),
        };
        let server = Server::start(config, clock.clone(), options)
            .await
            .expect("server starts");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: format!("http://{}", server.addr),
            svc: server.services.clone(),
            setup_link: server.setup_link.clone(),
            clock,
            client,
            db,
            _dir: dir,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The setup link's path and query, to request from this server.
    pub fn setup_path(&self) -> String {
        let link = self.setup_link.as_deref().expect("a setup link");
        let at = link.find("/setup").expect("setup path");
        link[at..].to_string()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.svc.config.data_dir.clone()
    }

    /// Runs the `tessera` binary against this server's database and data directory.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli(&self.db.url, &self.data_dir(), args, stdin, &[]).await
    }

    pub async fn stop(mut self) {
        self.server.shutdown();
        self.server.wait().await.expect("server stops cleanly");
        self.db.drop_database().await;
    }
}

pub async fn run_cli(
    db_url: &str,
    data_dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESSERA_DATABASE_URL", db_url)
        .env("TESSERA_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run tessera");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        // Best effort: a command that fails early (bad arguments) never reads stdin.
        let _ = input.write_all(text.as_bytes()).await;
    }
    drop(input);
    child.wait_with_output().await.expect("tessera finished")
}

/// Parses a command's stdout as its one JSON object.
pub fn json_of(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}):\n{text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls until `check` is true, for at most 10 seconds of real time.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}
