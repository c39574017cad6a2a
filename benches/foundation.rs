//! Foundation figures: time from `tessera serve` to /readyz answering 200 (fresh
//! data directory, and warm: already migrated), idle RSS, and one argon2id hash.
//!
//!     cargo bench --bench foundation
//!
//! Runs the release binary as a user would. Prints medians; asserts nothing.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;

fn main() {
    println!(
        "# cargo bench --bench foundation  ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    argon2_hash();
    startup_and_rss();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn argon2_hash() {
    let _ = tessera::accounts::password::hash_blocking("warm up the allocator");
    let times: Vec<f64> = (0..15)
        .map(|i| {
            let start = Instant::now();
            let _ = tessera::accounts::password::hash_blocking(&format!("correct horse battery {i}"));
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let m = median(times);
    println!(
        "argon2id m=19456 t=2 p=1 hash: median {m:.1} ms ({:.0} hashes/s per core)",
        1000.0 / m
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18_099)
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 32];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

fn spawn(data_dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("TESSERA_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start tessera: {e}"))
}

/// Milliseconds from spawn to the first 200 from /readyz; the child is left running.
fn time_to_ready(data_dir: &Path) -> (f64, Child) {
    let port = free_port();
    let start = Instant::now();
    let child = spawn(data_dir, port);
    while !ready(port) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "tessera did not become ready"
        );
        std::thread::sleep(Duration::from_micros(500));
    }
    (start.elapsed().as_secs_f64() * 1000.0, child)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn startup_and_rss() {
    let mut fresh = Vec::new();
    let mut warm = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..RUNS {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let data = dir.path().join("data");
        // Fresh and warm alternate, so machine noise falls on both alike.
        let (ms, child) = time_to_ready(&data);
        fresh.push(ms);
        stop(child);
        let (ms, child) = time_to_ready(&data);
        warm.push(ms);
        std::thread::sleep(Duration::from_secs(2));
        if let Some(kib) = rss_kib(child.id()) {
            rss.push(kib as f64 / 1024.0);
        }
        stop(child);
    }
    println!(
        "serve -> /readyz 200, fresh data dir (creates SQLite, migrates, secret key): median {:.0} ms",
        median(fresh)
    );
    println!(
        "serve -> /readyz 200, warm (already migrated): median {:.0} ms",
        median(warm)
    );
    println!("idle RSS 2 s after ready: median {:.1} MiB", median(rss));
}
