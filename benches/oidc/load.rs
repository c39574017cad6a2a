//! The load generator: a minimal HTTP/1.1 keep-alive client, the same for both servers,
//! driving one connection per task and measuring what the server spent meanwhile.
use crate::figures::percentile;
use crate::process::{cpu_seconds, minor_faults, postgres_cpu_seconds, rss_mib};
use crate::{MEASURE, WARM_UP};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    pub(crate) async fn fill(&mut self) -> std::io::Result<()> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Sends one request, reads one response: (status, body, whether the server closes).
    pub(crate) async fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>, bool)> {
        let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("head is not UTF-8"))?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        self.buf.drain(..head_end + 4);
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break at;
                    }
                    self.fill().await?;
                };
                let size_text = std::str::from_utf8(&self.buf[..line_end]).map_err(|_| bad("chunk size"))?;
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| bad("chunk size"))?;
                self.buf.drain(..line_end + 2);
                if size == 0 {
                    // No trailers are expected: the final CRLF.
                    while self.buf.len() < 2 {
                        self.fill().await?;
                    }
                    self.buf.drain(..2);
                    break body;
                }
                while self.buf.len() < size + 2 {
                    self.fill().await?;
                }
                body.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
            }
        } else if let Some(n) = length {
            while self.buf.len() < n {
                self.fill().await?;
            }
            self.buf.drain(..n).collect()
        } else if status == 204 || status == 304 {
            Vec::new()
        } else {
            close = true;
            loop {
                match self.fill().await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            std::mem::take(&mut self.buf)
        };
        Ok((status, body, close))
    }
}

pub(crate) fn get_request(addr: &SocketAddr, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n").into_bytes()
}

pub(crate) fn token_request(addr: &SocketAddr, basic: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /token HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {basic}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// RFC 6749 §2.3.1: client_id and secret form-urlencoded, then Basic.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", urlencode(id), urlencode(secret)))
    )
}

pub(crate) fn fixed(request: Vec<u8>) -> impl Fn(&mut ()) -> Vec<u8> + Clone + Send + 'static {
    let request = Arc::new(request);
    move |_| request.to_vec()
}

pub(crate) fn expect_200(_: &mut (), status: u16, body: &[u8]) -> Result<(), String> {
    if status == 200 {
        Ok(())
    } else {
        Err(format!("{status} {}", String::from_utf8_lossy(body)))
    }
}

pub(crate) fn expect_access_token(_: &mut (), status: u16, body: &[u8]) -> Result<(), String> {
    if status == 200 && body.windows(14).any(|w| w == b"\"access_token\"") {
        Ok(())
    } else {
        Err(format!("{status} {}", String::from_utf8_lossy(body)))
    }
}

pub(crate) struct Refresher {
    pub(crate) addr: SocketAddr,
    pub(crate) basic: String,
    pub(crate) token: String,
}

/// Server CPU per operation by where it ran.
pub(crate) struct CpuSplit {
    pub(crate) hash_ms: f64,
    pub(crate) sqlite_ms: f64,
    pub(crate) rest_ms: f64,
}

/// What one measured load gave.
pub(crate) struct Load {
    pub(crate) ok: usize,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
    pub(crate) latencies_ms: Vec<f64>,
    pub(crate) secs: f64,
    pub(crate) server_cores: f64,
    /// The server's minor page faults per second.
    pub(crate) server_faults: f64,
    pub(crate) generator_cores: f64,
    /// Of `server_cores`, what the server's password-hashing threads and its SQLite
    /// connection threads used (logins only).
    pub(crate) thread_cores: Option<(f64, f64)>,
    /// CPU of the local PostgreSQL server's processes, when Tessera runs on it.
    pub(crate) db_cores: Option<f64>,
    /// The server's RSS when the load stopped.
    pub(crate) server_rss: f64,
}

impl Load {
    pub(crate) fn new(secs: f64) -> Self {
        Self {
            ok: 0,
            errors: 0,
            first_error: None,
            latencies_ms: Vec::new(),
            secs,
            server_cores: 0.0,
            server_faults: 0.0,
            generator_cores: 0.0,
            thread_cores: None,
            db_cores: None,
            server_rss: f64::NAN,
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }

    /// Server CPU time per completed operation (warm-up and measured window alike).
    pub(crate) fn server_cpu_ms_per_op(&self) -> f64 {
        1000.0 * self.server_cores / self.rate()
    }

    /// Server CPU ms per op in the hashing threads, the SQLite threads and the rest.
    pub(crate) fn cpu_split_ms(&self) -> Option<CpuSplit> {
        let (hash, sqlite) = self.thread_cores?;
        let per_op = |cores: f64| 1000.0 * cores / self.rate();
        Some(CpuSplit {
            hash_ms: per_op(hash),
            sqlite_ms: per_op(sqlite),
            rest_ms: per_op(self.server_cores - hash - sqlite),
        })
    }

    pub(crate) fn print(&self, label: &str, what: &str, unit: &str) {
        println!(
            "[{label}] {what}: {:.0} {unit} (p50 {:.2} ms, p99 {:.2} ms; {} ok, {} errors; \
             server {:.2} cores = {:.3} ms CPU/op, {:.0} page faults/op, RSS {:.1} MiB after; \
             load generator {:.2} cores)",
            self.rate(),
            percentile(&self.latencies_ms, 0.5),
            percentile(&self.latencies_ms, 0.99),
            self.ok,
            self.errors,
            self.server_cores,
            self.server_cpu_ms_per_op(),
            self.server_faults / self.rate(),
            self.server_rss,
            self.generator_cores,
        );
        // (Left out when PostgreSQL idles: discovery, JWKS, oidc-provider's rounds.)
        if let Some(db) = self.db_cores.filter(|&d| d >= 0.005) {
            println!(
                "[{label}]   PostgreSQL's processes meanwhile: {db:.2} cores = {:.3} ms CPU/op",
                1000.0 * db / self.rate()
            );
        }
        if let Some(s) = self.cpu_split_ms() {
            println!(
                "[{label}]   of which the argon2 threads {:.3} ms, the SQLite threads {:.3} ms, the rest {:.3} ms per op",
                s.hash_ms, s.sqlite_ms, s.rest_ms
            );
        }
        if let Some(e) = &self.first_error {
            println!("[{label}]   first error: {}", e.chars().take(300).collect::<String>());
        }
    }
}

/// client_credentials grants from `connections` connections, each answer checked.
pub(crate) async fn client_credentials(addr: SocketAddr, server_pid: u32, connections: usize, request: &[u8]) -> Load {
    drive(
        addr,
        vec![(); connections],
        WARM_UP,
        MEASURE,
        server_pid,
        fixed(request.to_vec()),
        expect_access_token,
    )
    .await
}

/// Runs one task per state, each on its own keep-alive connection, for warm-up + measure;
/// counts the responses completed inside the measured window.
pub(crate) async fn drive<S, Req, Res>(
    addr: SocketAddr,
    states: Vec<S>,
    warm: Duration,
    measure: Duration,
    server_pid: u32,
    request: Req,
    response: Res,
) -> Load
where
    S: Send + 'static,
    Req: Fn(&mut S) -> Vec<u8> + Clone + Send + 'static,
    Res: Fn(&mut S, u16, &[u8]) -> Result<(), String> + Clone + Send + 'static,
{
    let server = server_pid.to_string();
    let (server_cpu, own_cpu, db_cpu) = (cpu_seconds(&server), cpu_seconds("self"), postgres_cpu_seconds());
    let server_faults = minor_faults(&server);
    let start = Instant::now();
    let (from, until) = (start + warm, start + warm + measure);
    let tasks: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let (request, response) = (request.clone(), response.clone());
            tokio::spawn(async move {
                let mut conn = None;
                let (mut ok, mut errors, mut first_error) = (0usize, 0usize, None);
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    if conn.is_none() {
                        match Conn::open(addr).await {
                            Ok(c) => conn = Some(c),
                            Err(e) => {
                                errors += 1;
                                first_error.get_or_insert(format!("connect: {e}"));
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            }
                        }
                    }
                    let Some(c) = conn.as_mut() else { continue };
                    let bytes = request(&mut state);
                    let t = Instant::now();
                    let outcome = c.send(&bytes).await;
                    let done = Instant::now();
                    let counted = done >= from && done < until;
                    match outcome {
                        Ok((status, body, close)) => {
                            if close {
                                conn = None;
                            }
                            match response(&mut state, status, &body) {
                                Ok(()) if counted => {
                                    ok += 1;
                                    latencies.push((done - t).as_secs_f64() * 1000.0);
                                }
                                Ok(()) => {}
                                Err(e) => {
                                    errors += 1;
                                    first_error.get_or_insert(e);
                                    // A failed rotation cannot go on: keep the error, stop.
                                    if status != 200 {
                                        tokio::time::sleep(Duration::from_millis(10)).await;
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            conn = None;
                            errors += 1;
                            first_error.get_or_insert(format!("I/O: {e}"));
                        }
                    }
                }
                (ok, errors, first_error, latencies)
            })
        })
        .collect();
    let mut load = Load::new(measure.as_secs_f64());
    for t in tasks {
        let (ok, errors, first_error, latencies) = t.await.unwrap_or_else(|e| panic!("load task: {e}"));
        load.ok += ok;
        load.errors += errors;
        if load.first_error.is_none() {
            load.first_error = first_error;
        }
        load.latencies_ms.extend(latencies);
    }
    let wall = start.elapsed().as_secs_f64();
    load.server_cores = (cpu_seconds(&server) - server_cpu) / wall;
    load.server_faults = (minor_faults(&server) - server_faults) / wall;
    load.db_cores = db_cpu.map(|before| (postgres_cpu_seconds().unwrap_or(before) - before) / wall);
    load.generator_cores = (cpu_seconds("self") - own_cpu) / wall;
    load.server_rss = rss_mib(server_pid).unwrap_or(f64::NAN);
    load.latencies_ms.sort_by(|a, b| a.total_cmp(b));
    load
}

/// Fetches one access token and shows its JOSE header and claims, as a check that both
/// servers issue the same kind of token.
pub(crate) async fn check_access_token(who: &str, addr: SocketAddr, request: &[u8]) {
    let mut conn = Conn::open(addr).await.unwrap_or_else(|e| panic!("{who}: connect: {e}"));
    let (status, body, _) = conn
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("{who}: token request: {e}"));
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(token) = v["access_token"].as_str().filter(|_| status == 200) else {
        panic!(
            "{who}: client_credentials failed: {status} {}",
            String::from_utf8_lossy(&body)
        );
    };
    let part = |i: usize| -> Value {
        token
            .split('.')
            .nth(i)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    };
    let (header, claims) = (part(0), part(1));
    println!(
        "# {who} client_credentials access token: alg {} typ {} ({} bytes), claims {}",
        header["alg"],
        header["typ"],
        token.len(),
        claims
            .as_object()
            .map_or(String::new(), |o| o.keys().cloned().collect::<Vec<_>>().join(","))
    );
}
