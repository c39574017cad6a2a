//! Bad configuration and environment: one clear line naming the setting, non-zero exit.
use crate::support::{Backend, TestServer, run_cli, stderr_of};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

async fn serve_fails_with(env: &[(&str, &str)], data_dir: &std::path::Path, expected: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let out = run_cli(&db, data_dir, &["serve"], None, env).await;
    assert!(!out.status.success());
    let err = stderr_of(&out);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains(expected),
        "expected '{expected}' in: {err}"
    );
}

#[tokio::test]
async fn malformed_settings_name_the_setting() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    serve_fails_with(
        &[("TESSERA_LISTEN", "localhost")],
        &data,
        "TESSERA_LISTEN: 'localhost' is not an address:port",
    )
    .await;
    serve_fails_with(
        &[("TESSERA_ISSUER", "http://idp.clinic.example")],
        &data,
        "TESSERA_ISSUER",
    )
    .await;
    serve_fails_with(&[("TESSERA_SECRET_KEY", "abc")], &data, "TESSERA_SECRET_KEY").await;
    serve_fails_with(
        &[("TESSERA_DATABASE_URL", "mysql://db/x")],
        &data,
        "TESSERA_DATABASE_URL",
    )
    .await;
    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "listen = 8080\n").expect("write");
    serve_fails_with(
        &[("TESSERA_CONFIG", toml.to_str().expect("path"))],
        &data,
        "TESSERA_CONFIG",
    )
    .await;
}

#[tokio::test]
async fn unreachable_database_and_unwritable_data_dir_are_reported() {
    let dir = tempfile::tempdir().expect("dir");
    serve_fails_with(
        &[
            (
                "TESSERA_DATABASE_URL",
                "postgres://postgres:hunter2@127.0.0.1:1/nothing",
            ),
            ("TESSERA_LISTEN", "127.0.0.1:0"),
        ],
        &dir.path().join("data"),
        "TESSERA_DATABASE_URL: cannot open database postgres://postgres:***@127.0.0.1:1/nothing",
    )
    .await;
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    serve_fails_with(
        &[("TESSERA_LISTEN", "127.0.0.1:0")],
        &file.join("data"),
        "TESSERA_DATA_DIR",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_in_use_is_reported_before_anything_is_written() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    serve_fails_with(&[("TESSERA_LISTEN", &addr)], &data, "TESSERA_LISTEN: cannot listen on").await;
    assert!(!data.exists(), "nothing written when the port is taken");
}

/// The real binary: prints the setup link on stdout, keeps it (and any token) out of
/// the log even at debug level, and shuts down cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_the_setup_link_but_never_logs_it() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .env("TESSERA_DATA_DIR", dir.path().join("data"))
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "debug")
        .env_remove("TESSERA_DATABASE_URL")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let log_writer = log.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("tessera is serving")
                && let Some(addr) = line.split("address=").nth(1).and_then(|r| r.split_whitespace().next())
            {
                let _ = addr_tx.send(addr.to_string());
            }
            log_writer.lock().expect("lock").push_str(&line);
            log_writer.lock().expect("lock").push('\n');
        }
    });
    let addr = addr_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("server started");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut link = String::new();
    while !link.contains("/setup?token=") {
        link.clear();
        assert!(stdout.read_line(&mut link).expect("read") > 0, "no setup link printed");
    }
    let token = link.trim().split("token=").nth(1).expect("token").to_string();
    let page = reqwest::get(format!("http://{addr}/setup?token={token}"))
        .await
        .expect("get");
    assert_eq!(page.status(), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exit");
    reader.join().expect("reader");
    let log = log.lock().expect("lock").clone();
    assert!(status.success(), "graceful exit on SIGTERM: {log}");
    assert!(log.contains("shutting down"));
    assert!(!log.contains(&token), "the setup token leaked into the log");
    assert!(
        dir.path().join("data/tessera.db").exists(),
        "SQLite under the data dir by default"
    );
}

/// An admin created by the CLI on a fresh database means no setup link at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_setup_link_once_an_admin_exists() {
    let s = TestServer::start(Backend::Sqlite).await;
    assert!(s.setup_link.is_some());
    let out = s
        .cli(
            &[
                "user",
                "create",
                "--username",
                "root",
                "--email",
                "root@clinic.org",
                "--admin",
                "--password-stdin",
            ],
            Some("amber falcon meadow quartz\n"),
        )
        .await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        tessera::accounts::setup::offer_if_needed(&s.svc)
            .await
            .expect("offer")
            .is_none()
    );
    s.stop().await;
}
