//! The servers under load: the release binary of Tessera, and panva's oidc-provider
//! beside it for comparison.
use crate::load::basic;
use crate::process::rss_mib;
use serde_json::Value;
use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"))
}

/// One raw GET; true on a 200.
pub(crate) fn answers_200(port: u16, path: &str) -> bool {
    let Ok(mut s) = StdTcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 32];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

pub(crate) fn wait_until(what: &str, child: &mut Child, log: &Path, port: u16, path: &str) {
    let start = Instant::now();
    while !answers_200(port, path) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before answering:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!(
                "{what} did not answer {path} within 60 s:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `tessera serve` (the release binary) on a free port, its issuer at that address.
pub(crate) struct Tessera {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) addr: SocketAddr,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) dir: PathBuf,
}

impl Tessera {
    pub(crate) fn start(dir: &Path, database_url: Option<String>) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let data = dir.join("data");
        let mut env = vec![
            ("TESSERA_DATA_DIR".to_string(), data.display().to_string()),
            ("TESSERA_LISTEN".into(), format!("127.0.0.1:{port}")),
            // A host name, not the address: passkeys need one (WebAuthn has no IP relying parties).
            ("TESSERA_ISSUER".into(), format!("http://localhost:{port}")),
            // Every sign-in comes from 127.0.0.1: lift the per-address limits.
            ("TESSERA_SIGN_IN_PER_MINUTE".into(), "100000000".into()),
            ("TESSERA_PENDING_SIGN_INS_PER_ADDRESS".into(), "100000000".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        if let Some(url) = database_url {
            env.push(("TESSERA_DATABASE_URL".into(), url));
        }
        let log = dir.join("tessera.log");
        let mut child = Self::command(dir, &env)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap_or_else(|e| panic!("log: {e}")))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tessera: {e}"));
        wait_until("tessera", &mut child, &log, port, "/readyz");
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            base,
            env,
            dir: dir.to_path_buf(),
        }
    }

    pub(crate) fn command(dir: &Path, env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `tessera ARGS` beside the running server; its JSON.
    pub(crate) fn cli_json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let mut child = Self::command(&self.dir, &self.env)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("tessera {}: {e}", args.join(" ")));
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.unwrap_or("").as_bytes());
        }
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("tessera {}: {e}", args.join(" ")));
        assert!(
            out.status.success(),
            "tessera {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tessera {}: not JSON ({e}): {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

impl Drop for Tessera {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// `node server.mjs` in benches/oidc-provider; None when node or the package is unavailable.
pub(crate) struct NodeProvider {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) basic: String,
    pub(crate) version: String,
    pub(crate) rss_idle: f64,
    pub(crate) rss_peak: f64,
    pub(crate) _log_dir: tempfile::TempDir,
}

impl NodeProvider {
    pub(crate) async fn start() -> Option<Self> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/oidc-provider");
        let version = match Command::new("node").arg("--version").output() {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
            _ => {
                println!("# node not found: the oidc-provider comparison is skipped");
                return None;
            }
        };
        if !dir.join("node_modules/oidc-provider").exists() {
            println!("# npm ci in {} ...", dir.display());
            let ok = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                println!("# npm ci failed: the oidc-provider comparison is skipped");
                return None;
            }
        }
        let package: Value = std::fs::read(dir.join("node_modules/oidc-provider/package.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let port = free_port();
        let (id, secret) = ("bench", "bench-secret-0123456789abcdef0123456789abcdef");
        let log_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let log = log_dir.path().join("oidc-provider.log");
        let mut child = match Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("CLIENT_ID", id)
            .env("CLIENT_SECRET", secret)
            .env("NODE_ENV", "production")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap_or_else(|e| panic!("log: {e}")))
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                println!("# cannot start node ({e}): the oidc-provider comparison is skipped");
                return None;
            }
        };
        wait_until(
            "oidc-provider",
            &mut child,
            &log,
            port,
            "/.well-known/openid-configuration",
        );
        std::thread::sleep(Duration::from_secs(1));
        let rss_idle = rss_mib(child.id()).unwrap_or(f64::NAN);
        let version = format!(
            "oidc-provider {} on node {version}",
            package["version"].as_str().unwrap_or("?")
        );
        println!("# {version} on port {port}: idle RSS {rss_idle:.1} MiB");
        Some(Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            basic: basic(id, secret),
            version,
            rss_idle,
            rss_peak: rss_idle,
            _log_dir: log_dir,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NodeProvider {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}
