//! OpenID Connect figures on this machine, over real HTTP to the release binary:
//!   - client_credentials tokens/s, side by side with panva's `oidc-provider` (npm) issuing
//!     the same ES256 JWT access tokens (A B A B A B, median ratio), then once more each at
//!     64 connections;
//!   - refresh_token grants/s (each connection rotates its own refresh token chain);
//!   - full authorization-code logins/s (authorize + PKCE S256, the sign-in pages, argon2id,
//!     code exchange), against the bare argon2id hash rate on all cores measured in this
//!     process just before each login round (3 pairs, median ratio), and the server's CPU
//!     time per login beside the CPU time of one bare hash, split into the server's argon2
//!     threads, its SQLite connection threads and everything else, beside the total that
//!     90% of the bare rate allows, and the ratio once more from those CPU shares (steady
//!     while the machine's hash speed drifts between the bare and the login round);
//!   - discovery and JWKS requests/s;
//!   - RSS idle and under load (of the server process alone).
//!
//!     cargo bench --bench oidc                                   # SQLite
//!     TESSERA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench oidc   # and PostgreSQL
//!
//! `TESSERA_BENCH_ONLY=logins` (or `client_credentials`, `discovery`) runs one section,
//! for iterating on one figure; refresh runs after logins, which give its tokens.
//!
//! The load generator is this process on one thread (a current-thread runtime), like
//! `wrk -t1 -c8`: a minimal keep-alive HTTP/1.1 client, 8 connections, the same for both
//! servers (and one client_credentials pair at 64 connections). Logins use reqwest with a fresh cookie set per login. Needs `node` and `npm`
//! for the comparison (`npm ci` in benches/oidc-provider when node_modules is missing);
//! without them the comparison is skipped. Prints figures and targets; asserts nothing.
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections for the request/s figures (wrk -c8).
const CONNECTIONS: usize = 8;
/// One more client_credentials pair at this many connections: at 8, Tessera waits on its
/// audit commit more than it works; this shows what each server does with the cores full.
const WIDE_CONNECTIONS: usize = 64;
/// Concurrent browsers signing in.
const BROWSERS: usize = 8;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
const REFRESH_MEASURE: Duration = Duration::from_secs(15);
const LOGIN_WARM_UP: Duration = Duration::from_secs(1);
const LOGIN_MEASURE: Duration = Duration::from_secs(6);
/// The bare argon2id rate is measured right before each login round.
const ARGON2_MEASURE: Duration = Duration::from_secs(4);
/// Alternating client_credentials rounds, Tessera then oidc-provider; and alternating
/// bare-argon2id / login rounds (this machine's hash rate drifts by 20% between runs).
const ROUNDS: usize = 3;
const REDIRECT_URI: &str = "https://rp.example/cb";
const PASSWORD: &str = "copper kettle whistles at dawn";
/// Linux's USER_HZ, the unit of utime/stime in /proc/PID/stat.
const TICKS_PER_SECOND: f64 = 100.0;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(async {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!("# cargo bench --bench oidc  ({cores} cores)");
        println!(
            "# load generator: this process, one thread, {CONNECTIONS} keep-alive connections; \
             {}s warm-up + {}s measured per figure",
            WARM_UP.as_secs(),
            MEASURE.as_secs()
        );
        let hashers = Hashers::start();
        let mut node = NodeProvider::start().await;
        let mut results = vec![run("SQLite", None, node.as_mut(), &hashers).await];
        if let Ok(url) = std::env::var("TESSERA_BENCH_DATABASE_URL")
            && !url.is_empty()
        {
            results.push(run("PostgreSQL", Some(url), node.as_mut(), &hashers).await);
        }
        let node_figures = node.as_ref().map(|n| (n.rss_idle, n.rss_peak, n.version.clone()));
        drop(node);
        table(&results, node_figures);
    });
}

// ---------------------------------------------------------------------------------------
// Figures

#[derive(Default)]
struct Results {
    label: String,
    argon2_per_s: Vec<f64>,
    argon2_ms: Vec<f64>,
    client_credentials: Vec<f64>,
    oidc_provider: Vec<f64>,
    /// client_credentials at WIDE_CONNECTIONS: Tessera, and oidc-provider when it ran.
    wide: Option<(f64, Option<f64>)>,
    refresh: Option<f64>,
    logins: Vec<f64>,
    /// Server CPU milliseconds per login, per round.
    login_cpu_ms: Vec<f64>,
    /// Of those, in the server's argon2 threads, SQLite threads and the rest, per round.
    login_split_ms: Vec<CpuSplit>,
    /// The server CPU per login that 90% of the bare rate allows, on the cores the server
    /// got in that round (the load generator takes a little), per round.
    login_allowed_ms: Vec<f64>,
    /// Logins ÷ bare rate from CPU shares, per round (see `run`).
    login_cpu_share: Vec<f64>,
    /// Server page faults per login, per round.
    login_faults: Vec<f64>,
    /// Page faults per bare hash, per round.
    argon2_faults: Vec<f64>,
    discovery: f64,
    jwks: f64,
    rss_idle: f64,
    rss_peak: f64,
}

/// Whether this run measures `section` (all unless TESSERA_BENCH_ONLY names another).
fn wants(section: &str) -> bool {
    std::env::var("TESSERA_BENCH_ONLY").map_or(true, |only| only.is_empty() || only == section)
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn mark(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

fn table(results: &[Results], node: Option<(f64, f64, String)>) {
    println!();
    println!("## Results (medians of this run)");
    println!();
    print!("| figure |");
    for r in results {
        print!(" {} |", r.label);
    }
    println!(" target | met |");
    print!("|---|");
    for _ in results {
        print!("---|");
    }
    println!("---|---|");
    let row = |name: &str, cells: Vec<String>, target: &str, met: Option<bool>| {
        print!("| {name} |");
        for c in cells {
            print!(" {c} |");
        }
        println!(" {target} | {} |", met.map_or("", mark));
    };
    let all = |f: &dyn Fn(&Results) -> f64| results.iter().map(f).collect::<Vec<_>>();
    let fmt0 = |v: &[f64]| v.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>();

    let cc = all(&|r| median(&r.client_credentials));
    row(
        "client_credentials tokens/s",
        fmt0(&cc),
        "≥ 5,000/s",
        Some(cc.iter().all(|&x| x >= 5000.0)),
    );
    let ratios: Vec<Option<f64>> = results.iter().map(ratio).collect();
    let have_node = ratios.iter().all(Option::is_some);
    row(
        "oidc-provider client_credentials tokens/s (same run, JWT ES256)",
        results
            .iter()
            .map(|r| {
                if r.oidc_provider.is_empty() {
                    "skipped".into()
                } else {
                    format!("{:.0}", median(&r.oidc_provider))
                }
            })
            .collect(),
        "",
        None,
    );
    row(
        "Tessera / oidc-provider (median of pair ratios)",
        ratios
            .iter()
            .map(|r| r.map_or("skipped".into(), |x| format!("{x:.2}x")))
            .collect(),
        "≥ 3x",
        have_node.then(|| ratios.iter().all(|r| r.is_some_and(|x| x >= 3.0))),
    );
    row(
        &format!("client_credentials at {WIDE_CONNECTIONS} connections: Tessera, oidc-provider, ratio"),
        results
            .iter()
            .map(|r| match r.wide {
                Some((t, Some(n))) => format!("{t:.0}, {n:.0}, {:.2}x", t / n),
                Some((t, None)) => format!("{t:.0}, skipped"),
                None => "not run".into(),
            })
            .collect(),
        "",
        None,
    );
    let refresh = all(&|r| r.refresh.unwrap_or(f64::NAN));
    row(
        "refresh_token grants/s",
        fmt0(&refresh),
        "≥ 1,500/s on SQLite",
        Some(refresh.first().is_some_and(|&x| x >= 1500.0)),
    );
    row(
        "full logins/s (authorize → sign-in → token)",
        results
            .iter()
            .map(|r| {
                format!(
                    "{:.0} ({:.1} ms server CPU, {:.0} page faults per login)",
                    median(&r.logins),
                    median(&r.login_cpu_ms),
                    median(&r.login_faults)
                )
            })
            .collect(),
        "",
        None,
    );
    row(
        "bare argon2id hashes/s, all cores (m=19456 t=2 p=1)",
        results
            .iter()
            .map(|r| {
                format!(
                    "{:.0} ({:.1} ms CPU, {:.0} page faults per hash)",
                    median(&r.argon2_per_s),
                    median(&r.argon2_ms),
                    median(&r.argon2_faults)
                )
            })
            .collect(),
        "",
        None,
    );
    row(
        "server CPU per login: argon2 threads + SQLite threads + the rest (the total 90% allows)",
        results
            .iter()
            .map(|r| {
                let part = |f: fn(&CpuSplit) -> f64| median(&r.login_split_ms.iter().map(f).collect::<Vec<_>>());
                format!(
                    "{:.1} + {:.1} + {:.1} ms (≤ {:.1} ms)",
                    part(|s| s.hash_ms),
                    part(|s| s.sqlite_ms),
                    part(|s| s.rest_ms),
                    median(&r.login_allowed_ms)
                )
            })
            .collect(),
        "",
        None,
    );
    let share: Vec<f64> = results.iter().map(login_share).collect();
    row(
        "logins/s ÷ bare argon2id rate (median of pair ratios)",
        share.iter().map(|x| format!("{:.0}%", x * 100.0)).collect(),
        "≥ 90%",
        Some(share.iter().all(|&x| x >= 0.9)),
    );
    row(
        "the same from CPU shares, steady while the hash speed drifts (median)",
        results
            .iter()
            .map(|r| format!("{:.0}%", 100.0 * median(&r.login_cpu_share)))
            .collect(),
        "",
        None,
    );
    row("discovery requests/s", fmt0(&all(&|r| r.discovery)), "", None);
    row("JWKS requests/s", fmt0(&all(&|r| r.jwks)), "", None);
    row(
        "Tessera RSS idle (MiB)",
        all(&|r| r.rss_idle).iter().map(|x| format!("{x:.1}")).collect(),
        "",
        None,
    );
    row(
        "Tessera RSS peak under load (MiB)",
        all(&|r| r.rss_peak).iter().map(|x| format!("{x:.1}")).collect(),
        "",
        None,
    );
    if let Some((idle, peak, version)) = node {
        println!();
        println!("oidc-provider ({version}): RSS idle {idle:.1} MiB, peak under load {peak:.1} MiB");
    }
}

/// Each login round against the bare hash rate measured just before it.
fn login_share(r: &Results) -> f64 {
    let pairs: Vec<f64> = r.logins.iter().zip(&r.argon2_per_s).map(|(l, a)| l / a).collect();
    median(&pairs)
}

fn ratio(r: &Results) -> Option<f64> {
    if r.oidc_provider.is_empty() || r.oidc_provider.len() != r.client_credentials.len() {
        return None;
    }
    let pairs: Vec<f64> = r
        .client_credentials
        .iter()
        .zip(&r.oidc_provider)
        .map(|(t, n)| t / n)
        .collect();
    Some(median(&pairs))
}

// ---------------------------------------------------------------------------------------
// One backend

async fn run(label: &str, postgres: Option<String>, mut node: Option<&mut NodeProvider>, hashers: &Hashers) -> Results {
    let mut results = Results {
        label: label.to_string(),
        ..Results::default()
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut pg_db = None;
    let database_url = match &postgres {
        Some(admin) => {
            let (url, name) = fresh_postgres(admin).await;
            pg_db = Some(name);
            Some(url)
        }
        None => None,
    };
    ON_POSTGRES.store(postgres.is_some(), Ordering::Relaxed);
    let tessera = Tessera::start(dir.path(), database_url);
    let base = tessera.base.clone();
    let addr = tessera.addr;

    // Set-up through the CLI, as an operator does it.
    let cc = tessera.cli_json(
        &[
            "client",
            "create",
            "--name",
            "bench-service",
            "--grant",
            "client_credentials",
        ],
        None,
    );
    let cc = OidcClient::of(&cc);
    let web = tessera.cli_json(
        &[
            "client",
            "create",
            "--name",
            "bench-web",
            "--redirect-uri",
            REDIRECT_URI,
        ],
        None,
    );
    let web = OidcClient::of(&web);
    let users: Vec<String> = (0..BROWSERS)
        .map(|i| {
            let name = format!("bench{i}");
            let v = tessera.cli_json(
                &[
                    "user",
                    "create",
                    "--username",
                    &name,
                    "--email",
                    &format!("{name}@bench.example"),
                    "--given-name",
                    "Bench",
                    "--family-name",
                    &format!("User{i}"),
                    "--password-stdin",
                ],
                Some(&format!("{PASSWORD}\n")),
            );
            assert_eq!(v["state"], "active", "user create: {v}");
            name
        })
        .collect();

    std::thread::sleep(Duration::from_secs(1));
    results.rss_idle = rss_mib(tessera.pid()).unwrap_or(f64::NAN);
    println!(
        "[{label}] Tessera on {base}: idle RSS {:.1} MiB (after set-up: 2 clients, {BROWSERS} users)",
        results.rss_idle
    );
    let rss = RssSampler::start(tessera.pid());

    // Sanity: what each server's access token looks like.
    let cc_request = token_request(&addr, &cc.basic(), "grant_type=client_credentials");
    check_access_token("Tessera", addr, &cc_request).await;
    if let Some(n) = node.as_deref() {
        let req = token_request(&n.addr, &n.basic, "grant_type=client_credentials");
        check_access_token("oidc-provider", n.addr, &req).await;
    }

    // 1. Discovery and JWKS.
    let pages = [
        ("/.well-known/openid-configuration", &mut results.discovery),
        ("/jwks", &mut results.jwks),
    ];
    for (path, slot) in pages.into_iter().filter(|_| wants("discovery")) {
        let req = get_request(&addr, path);
        let load = drive(
            addr,
            vec![(); CONNECTIONS],
            WARM_UP,
            MEASURE,
            tessera.pid(),
            fixed(req),
            expect_200,
        )
        .await;
        load.print(label, &format!("GET {path}"), "req/s");
        *slot = load.rate();
    }

    // 2. client_credentials, alternating with oidc-provider.
    for round in (1..=ROUNDS).filter(|_| wants("client_credentials")) {
        let load = client_credentials(addr, tessera.pid(), CONNECTIONS, &cc_request).await;
        load.print(label, &format!("client_credentials round {round}/{ROUNDS}"), "tokens/s");
        results.client_credentials.push(load.rate());
        if let Some(n) = node.as_deref_mut() {
            let req = token_request(&n.addr, &n.basic, "grant_type=client_credentials");
            let sampler = RssSampler::start(n.pid());
            let load = client_credentials(n.addr, n.pid(), CONNECTIONS, &req).await;
            n.rss_peak = n.rss_peak.max(sampler.stop());
            load.print(
                "oidc-provider",
                &format!("client_credentials round {round}/{ROUNDS}"),
                "tokens/s",
            );
            results.oidc_provider.push(load.rate());
        }
    }
    if wants("client_credentials") {
        let wide = client_credentials(addr, tessera.pid(), WIDE_CONNECTIONS, &cc_request).await;
        wide.print(
            label,
            &format!("client_credentials, {WIDE_CONNECTIONS} connections"),
            "tokens/s",
        );
        let node_wide = match node.as_mut() {
            Some(n) => {
                let req = token_request(&n.addr, &n.basic, "grant_type=client_credentials");
                let load = client_credentials(n.addr, n.pid(), WIDE_CONNECTIONS, &req).await;
                load.print(
                    "oidc-provider",
                    &format!("client_credentials, {WIDE_CONNECTIONS} connections"),
                    "tokens/s",
                );
                Some(load.rate())
            }
            None => None,
        };
        results.wide = Some((wide.rate(), node_wide));
    }
    if let Some(r) = ratio(&results) {
        println!(
            "[{label}] client_credentials: Tessera median {:.0}/s, oidc-provider median {:.0}/s, median pair ratio {r:.2}x",
            median(&results.client_credentials),
            median(&results.oidc_provider)
        );
    }

    // 3. Full logins, each round against the bare hash rate measured just before it.
    let mut refresh_tokens = Vec::new();
    for round in (1..=ROUNDS).filter(|_| wants("logins")) {
        let (per_s, ms, faults) = hashers.measure();
        results.argon2_per_s.push(per_s);
        results.argon2_ms.push(ms);
        results.argon2_faults.push(faults);
        println!(
            "[{label}] bare argon2id m=19456 t=2 p=1 on {} threads, round {round}/{ROUNDS}: {per_s:.1} hashes/s \
             ({ms:.1} ms CPU, {faults:.0} page faults per hash)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        let (load, tokens) = logins(&base, &web, &users, tessera.pid()).await;
        load.print(
            label,
            &format!("full login (authorize, identify, password, token) round {round}/{ROUNDS}"),
            "logins/s",
        );
        results.logins.push(load.rate());
        results.login_cpu_ms.push(load.server_cpu_ms_per_op());
        // logins/s = server cores ÷ CPU per login, so 90% of the bare rate allows this much.
        results
            .login_allowed_ms
            .push(1000.0 * load.server_cores / (0.9 * per_s));
        results.login_faults.push(load.server_faults / load.rate());
        println!(
            "[{label}] logins/s = {:.0}% of the bare argon2id rate measured just before",
            100.0 * load.rate() / per_s
        );
        if let Some(split) = load.cpu_split_ms() {
            // The same ratio from where the CPU went, taking one hash to cost the server what
            // its argon2 threads spent: this machine's hash speed drifts by several percent
            // between the bare round and the login round, this does not.
            let bare_cores = per_s * ms / 1000.0;
            let share = load.server_cores / bare_cores * split.hash_ms / load.server_cpu_ms_per_op();
            results.login_cpu_share.push(share);
            println!(
                "[{label}]   from CPU shares: {:.0}% (the hash's share of the server's CPU × the server's cores ÷ the bare round's)",
                100.0 * share
            );
            results.login_split_ms.push(split);
        }
        refresh_tokens = tokens;
    }

    // 4. Refresh: each connection rotates its own chain.
    if refresh_tokens.len() == BROWSERS {
        let states: Vec<Refresher> = refresh_tokens
            .into_iter()
            .map(|token| Refresher {
                addr,
                basic: web.basic(),
                token,
            })
            .collect();
        let load = drive(
            addr,
            states,
            WARM_UP,
            // One long window instead of rounds: the chains cannot be handed between rounds.
            REFRESH_MEASURE,
            tessera.pid(),
            |s: &mut Refresher| {
                let body = format!("grant_type=refresh_token&refresh_token={}", urlencode(&s.token));
                token_request(&s.addr, &s.basic, &body)
            },
            |s: &mut Refresher, status, body| {
                if status != 200 {
                    return Err(format!("{status} {}", String::from_utf8_lossy(body)));
                }
                let v: Value = serde_json::from_slice(body).map_err(|e| format!("JSON: {e}"))?;
                match v["refresh_token"].as_str() {
                    Some(t) => {
                        s.token = t.to_string();
                        Ok(())
                    }
                    None => Err(format!("no refresh_token in {v}")),
                }
            },
        )
        .await;
        load.print(label, "refresh_token (rotating, one chain per connection)", "grants/s");
        results.refresh = Some(load.rate());
    } else {
        println!("[{label}] refresh_token: skipped, the logins gave no refresh tokens");
    }

    results.rss_peak = rss.stop();
    println!(
        "[{label}] Tessera RSS: idle {:.1} MiB, peak under load {:.1} MiB (VmHWM {:.1} MiB)",
        results.rss_idle,
        results.rss_peak,
        hwm_mib(tessera.pid()).unwrap_or(f64::NAN)
    );

    drop(tessera);
    if let (Some(admin), Some(name)) = (postgres, pg_db)
        && let Ok(a) = Database::connect(admin.as_str()).await
    {
        let _ = a
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    results
}

async fn fresh_postgres(admin_url: &str) -> (String, String) {
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

/// Argon2id with Tessera's own parameters (its `hash_blocking`) on one thread per core.
/// The threads live for the whole run and hash twice before the first measure, so the
/// figure is the steady state: a fresh thread's first hashes fault in their 19 MiB afresh.
struct Hashers {
    starts: Vec<std::sync::mpsc::Sender<Instant>>,
    counts: std::sync::mpsc::Receiver<u64>,
}

impl Hashers {
    fn start() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (count_tx, counts) = std::sync::mpsc::channel();
        let starts = (0..threads)
            .map(|t| {
                let (start_tx, start_rx) = std::sync::mpsc::channel::<Instant>();
                let count_tx = count_tx.clone();
                std::thread::spawn(move || {
                    let mut i = 0u64;
                    let mut hash = || {
                        let _ = tessera::accounts::password::hash_blocking(&format!("correct horse battery {t} {i}"));
                        i += 1;
                    };
                    hash();
                    hash();
                    let _ = count_tx.send(0);
                    // Until the Hashers are dropped: hash until each deadline, say how many.
                    while let Ok(until) = start_rx.recv() {
                        let mut n = 0u64;
                        while Instant::now() < until {
                            hash();
                            n += 1;
                        }
                        if count_tx.send(n).is_err() {
                            break;
                        }
                    }
                });
                start_tx
            })
            .collect::<Vec<_>>();
        // Warmed up.
        for _ in &starts {
            let _ = counts.recv();
        }
        Self { starts, counts }
    }

    /// Hashes/s on all threads for ARGON2_MEASURE, CPU ms per hash, page faults per hash.
    fn measure(&self) -> (f64, f64, f64) {
        let (own_cpu, own_faults) = (cpu_seconds("self"), minor_faults("self"));
        let start = Instant::now();
        for s in &self.starts {
            let _ = s.send(start + ARGON2_MEASURE);
        }
        let n: u64 = self.starts.iter().map(|_| self.counts.recv().unwrap_or(0)).sum();
        // The last hashes end after the deadline: count the whole time.
        let secs = start.elapsed().as_secs_f64();
        let n = n as f64;
        (
            n / secs,
            1000.0 * (cpu_seconds("self") - own_cpu) / n,
            (minor_faults("self") - own_faults) / n,
        )
    }
}

// ---------------------------------------------------------------------------------------
// The servers

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"))
}

/// One raw GET; true on a 200.
fn answers_200(port: u16, path: &str) -> bool {
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

fn wait_until(what: &str, child: &mut Child, log: &Path, port: u16, path: &str) {
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

fn stop_child(child: &mut Child) {
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
struct Tessera {
    child: Child,
    base: String,
    addr: SocketAddr,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl Tessera {
    fn start(dir: &Path, database_url: Option<String>) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let data = dir.join("data");
        let mut env = vec![
            ("TESSERA_DATA_DIR".to_string(), data.display().to_string()),
            ("TESSERA_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("TESSERA_ISSUER".into(), base.clone()),
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

    fn command(dir: &Path, env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `tessera ARGS` beside the running server; its JSON.
    fn cli_json(&self, args: &[&str], stdin: Option<&str>) -> Value {
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
struct NodeProvider {
    child: Child,
    addr: SocketAddr,
    basic: String,
    version: String,
    rss_idle: f64,
    rss_peak: f64,
    _log_dir: tempfile::TempDir,
}

impl NodeProvider {
    async fn start() -> Option<Self> {
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

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NodeProvider {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

// ---------------------------------------------------------------------------------------
// Process figures

fn status_kib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok()
}

fn rss_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmRSS:").map(|k| k / 1024.0)
}

fn hwm_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmHWM:").map(|k| k / 1024.0)
}

/// Field `i + 3` of /proc/PID/stat as proc(5) numbers them from 1: `i` counts from the
/// state, the first field after the command name.
fn stat_field(pid: &str, i: usize) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(i)
        .and_then(|f| f.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: &str) -> f64 {
    // utime and stime are fields 14 and 15 of stat.
    (stat_field(pid, 11) + stat_field(pid, 12)) / TICKS_PER_SECOND
}

/// User + system CPU seconds so far of the threads of `pid` whose name starts with `prefix`.
fn threads_cpu_seconds(pid: &str, prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return f64::NAN;
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let tid = format!("{pid}/task/{}", t.file_name().to_str()?);
            let comm = std::fs::read_to_string(format!("/proc/{tid}/comm")).ok()?;
            comm.starts_with(prefix).then(|| cpu_seconds(&tid))
        })
        .sum()
}

/// Minor page faults of a process so far (field 10 of stat).
fn minor_faults(pid: &str) -> f64 {
    stat_field(pid, 7)
}

/// Whether the Tessera under load runs on PostgreSQL (whose CPU is then counted too).
static ON_POSTGRES: AtomicBool = AtomicBool::new(false);

/// User + system CPU seconds of every local process named `postgres` (the server and its
/// backends), when the run is on PostgreSQL.
fn postgres_cpu_seconds() -> Option<f64> {
    if !ON_POSTGRES.load(Ordering::Relaxed) {
        return None;
    }
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            let cpu = cpu_seconds(pid);
            if cpu.is_finite() {
                total += cpu;
            }
        }
    }
    Some(total)
}

/// Samples a process's RSS every 50 ms on a thread of its own; `stop` gives the peak in MiB.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = status_kib(pid, "VmRSS:") {
                        peak.fetch_max(kib as u64, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Self {
            stop,
            peak,
            handle: Some(handle),
        }
    }

    fn stop(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

// ---------------------------------------------------------------------------------------
// The load generator: a minimal HTTP/1.1 keep-alive client, the same for both servers

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    async fn fill(&mut self) -> std::io::Result<()> {
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
    async fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>, bool)> {
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

fn get_request(addr: &SocketAddr, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n").into_bytes()
}

fn token_request(addr: &SocketAddr, basic: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /token HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {basic}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// RFC 6749 §2.3.1: client_id and secret form-urlencoded, then Basic.
fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", urlencode(id), urlencode(secret)))
    )
}

fn fixed(request: Vec<u8>) -> impl Fn(&mut ()) -> Vec<u8> + Clone + Send + 'static {
    let request = Arc::new(request);
    move |_| request.to_vec()
}

fn expect_200(_: &mut (), status: u16, body: &[u8]) -> Result<(), String> {
    if status == 200 {
        Ok(())
    } else {
        Err(format!("{status} {}", String::from_utf8_lossy(body)))
    }
}

fn expect_access_token(_: &mut (), status: u16, body: &[u8]) -> Result<(), String> {
    if status == 200 && body.windows(14).any(|w| w == b"\"access_token\"") {
        Ok(())
    } else {
        Err(format!("{status} {}", String::from_utf8_lossy(body)))
    }
}

struct Refresher {
    addr: SocketAddr,
    basic: String,
    token: String,
}

/// Server CPU per operation by where it ran.
struct CpuSplit {
    hash_ms: f64,
    sqlite_ms: f64,
    rest_ms: f64,
}

/// What one measured load gave.
struct Load {
    ok: usize,
    errors: usize,
    first_error: Option<String>,
    latencies_ms: Vec<f64>,
    secs: f64,
    server_cores: f64,
    /// The server's minor page faults per second.
    server_faults: f64,
    generator_cores: f64,
    /// Of `server_cores`, what the server's password-hashing threads and its SQLite
    /// connection threads used (logins only).
    thread_cores: Option<(f64, f64)>,
    /// CPU of the local PostgreSQL server's processes, when Tessera runs on it.
    db_cores: Option<f64>,
    /// The server's RSS when the load stopped.
    server_rss: f64,
}

impl Load {
    fn new(secs: f64) -> Self {
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

    fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }

    /// Server CPU time per completed operation (warm-up and measured window alike).
    fn server_cpu_ms_per_op(&self) -> f64 {
        1000.0 * self.server_cores / self.rate()
    }

    /// Server CPU ms per op in the hashing threads, the SQLite threads and the rest.
    fn cpu_split_ms(&self) -> Option<CpuSplit> {
        let (hash, sqlite) = self.thread_cores?;
        let per_op = |cores: f64| 1000.0 * cores / self.rate();
        Some(CpuSplit {
            hash_ms: per_op(hash),
            sqlite_ms: per_op(sqlite),
            rest_ms: per_op(self.server_cores - hash - sqlite),
        })
    }

    fn print(&self, label: &str, what: &str, unit: &str) {
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

/// Runs one task per state, each on its own keep-alive connection, for warm-up + measure;
/// counts the responses completed inside the measured window.
/// client_credentials grants from `connections` connections, each answer checked.
async fn client_credentials(addr: SocketAddr, server_pid: u32, connections: usize, request: &[u8]) -> Load {
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

async fn drive<S, Req, Res>(
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
async fn check_access_token(who: &str, addr: SocketAddr, request: &[u8]) {
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

// ---------------------------------------------------------------------------------------
// Logins: a browser per task, walking the sign-in pages with fresh cookies each time

struct OidcClient {
    id: String,
    secret: String,
}

impl OidcClient {
    fn of(v: &Value) -> Self {
        let field = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("no {k} in client create output {v}"))
                .to_string()
        };
        Self {
            id: field("client_id"),
            secret: field("client_secret"),
        }
    }

    fn basic(&self) -> String {
        basic(&self.id, &self.secret)
    }
}

fn random_text() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The cookies of one sign-in.
#[derive(Default)]
struct Cookies(Vec<(String, String)>);

impl Cookies {
    fn absorb(&mut self, res: &reqwest::Response) {
        for h in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(text) = h.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            let expired = parts.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("max-age=-")
            });
            self.0.retain(|(n, _)| *n != name);
            if !expired && !value.is_empty() {
                self.0.push((name, value));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `<input type="hidden" name="NAME" value="...">`, as the interface promises them.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let at = html.find(&marker)? + marker.len();
    let end = html[at..].find('"')?;
    Some(html_unescape(&html[at..at + end]))
}

/// The form's action, if it names one.
fn form_action(html: &str) -> Option<String> {
    let form = html.find("<form")?;
    let tag_end = form + html[form..].find('>')?;
    let tag = &html[form..tag_end];
    let at = tag.find("action=\"")? + "action=\"".len();
    let end = tag[at..].find('"')?;
    Some(html_unescape(&tag[at..at + end]))
}

/// One full login: GET /authorize (code, PKCE S256) → sign-in pages → code → POST /token.
/// The token response's JSON.
async fn login(http: &reqwest::Client, base: &str, client: &OidcClient, username: &str) -> Result<Value, String> {
    let verifier = format!("{}{}", random_text(), random_text());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_text();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid profile email")
        .append_pair("state", &state)
        .append_pair("nonce", &random_text())
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let mut cookies = Cookies::default();
    let mut url = url::Url::parse(&format!("{base}/authorize?{query}")).map_err(|e| e.to_string())?;
    let mut res = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    let mut code = None;
    for _ in 0..12 {
        cookies.absorb(&res);
        let status = res.status().as_u16();
        if status == 303 || status == 302 {
            let location = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or("a redirect without Location")?;
            let next = url.join(location).map_err(|e| format!("Location {location}: {e}"))?;
            if next.as_str().starts_with(REDIRECT_URI) {
                let q: std::collections::HashMap<String, String> = next.query_pairs().into_owned().collect();
                if q.get("state") != Some(&state) {
                    return Err(format!("state mismatch in {next}"));
                }
                code = Some(q.get("code").cloned().ok_or_else(|| format!("no code in {next}"))?);
                break;
            }
            url = next;
            res = http
                .get(url.clone())
                .header(reqwest::header::COOKIE, cookies.header())
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            continue;
        }
        let html = res.text().await.map_err(|e| format!("{url}: {e}"))?;
        if status != 200 {
            return Err(format!(
                "{status} at {url}: {}",
                html.chars().take(400).collect::<String>()
            ));
        }
        let (csrf, r) = match (hidden(&html, "csrf"), hidden(&html, "r")) {
            (Some(c), Some(r)) => (c, r),
            _ => {
                return Err(format!(
                    "no csrf/r on {url}: {}",
                    html.chars().take(400).collect::<String>()
                ));
            }
        };
        // Which step this page is: where its form posts (a step's answer may carry the
        // next step's page).
        let target = match form_action(&html) {
            Some(a) => url.join(&a).map_err(|e| format!("action {a}: {e}"))?,
            None => url.clone(),
        };
        let mut form = vec![("csrf", csrf), ("r", r)];
        match target.path() {
            p if p.ends_with("/signin/identify") => form.push(("username", username.to_string())),
            p if p.ends_with("/signin/password") => {
                if html.contains("Wrong username or password") {
                    return Err(format!("the password was refused for {username}"));
                }
                form.push(("password", PASSWORD.to_string()))
            }
            p if p.ends_with("/signin/consent") => form.push(("decision", "allow".to_string())),
            p => {
                return Err(format!(
                    "unexpected page {p}: {}",
                    html.chars().take(400).collect::<String>()
                ));
            }
        }
        url = target;
        res = http
            .post(url.clone())
            .header(reqwest::header::COOKIE, cookies.header())
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
    }
    let code = code.ok_or("the sign-in did not come back to the client")?;
    let res = http
        .post(format!("{base}/token"))
        .header(reqwest::header::AUTHORIZATION, client.basic())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(|e| format!("token: {e}"))?;
    let status = res.status().as_u16();
    let body = res.text().await.map_err(|e| format!("token: {e}"))?;
    if status != 200 {
        return Err(format!("token: {status} {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("token JSON: {e}: {body}"))
}

/// BROWSERS tasks signing in over and over, each as its own user; the rate in the measured
/// window, and each task's last refresh token.
async fn logins(base: &str, client: &OidcClient, users: &[String], server_pid: u32) -> (Load, Vec<String>) {
    let client = Arc::new(OidcClient {
        id: client.id.clone(),
        secret: client.secret.clone(),
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(BROWSERS * 2)
        .build()
        .unwrap_or_else(|e| panic!("http: {e}"));
    let server = server_pid.to_string();
    let (server_cpu, own_cpu, db_cpu) = (cpu_seconds(&server), cpu_seconds("self"), postgres_cpu_seconds());
    // The server names its password-hashing threads `argon2-N` (started at the first hash);
    // sqlx runs each SQLite connection on a thread of its own, `sqlx-sqlite-worker-N`
    // (which /proc cuts to 15 bytes).
    let threads_cpu = || {
        (
            threads_cpu_seconds(&server, "argon2-"),
            threads_cpu_seconds(&server, "sqlx-sqlite-wor"),
        )
    };
    let (hash_cpu, sqlite_cpu) = threads_cpu();
    let server_faults = minor_faults(&server);
    let start = Instant::now();
    let (from, until) = (start + LOGIN_WARM_UP, start + LOGIN_WARM_UP + LOGIN_MEASURE);
    let tasks: Vec<_> = users
        .iter()
        .map(|user| {
            let (http, base, client, user) = (http.clone(), base.to_string(), client.clone(), user.clone());
            tokio::spawn(async move {
                let (mut ok, mut errors, mut first_error, mut last_refresh) = (0usize, 0usize, None, None);
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let t = Instant::now();
                    match login(&http, &base, &client, &user).await {
                        Ok(tokens) => {
                            let done = Instant::now();
                            if done >= from && done < until {
                                ok += 1;
                                latencies.push((done - t).as_secs_f64() * 1000.0);
                            }
                            last_refresh = tokens["refresh_token"].as_str().map(str::to_string);
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                (ok, errors, first_error, latencies, last_refresh)
            })
        })
        .collect();
    let mut load = Load::new(LOGIN_MEASURE.as_secs_f64());
    let mut refresh_tokens = Vec::new();
    for t in tasks {
        let (ok, errors, first_error, latencies, last_refresh) = t.await.unwrap_or_else(|e| panic!("login task: {e}"));
        load.ok += ok;
        load.errors += errors;
        if load.first_error.is_none() {
            load.first_error = first_error;
        }
        load.latencies_ms.extend(latencies);
        refresh_tokens.extend(last_refresh);
    }
    let wall = start.elapsed().as_secs_f64();
    load.server_cores = (cpu_seconds(&server) - server_cpu) / wall;
    let (hash_after, sqlite_after) = threads_cpu();
    load.thread_cores = Some(((hash_after - hash_cpu) / wall, (sqlite_after - sqlite_cpu) / wall));
    load.server_faults = (minor_faults(&server) - server_faults) / wall;
    load.db_cores = db_cpu.map(|before| (postgres_cpu_seconds().unwrap_or(before) - before) / wall);
    load.generator_cores = (cpu_seconds("self") - own_cpu) / wall;
    load.server_rss = rss_mib(server_pid).unwrap_or(f64::NAN);
    load.latencies_ms.sort_by(|a, b| a.total_cmp(b));
    (load, refresh_tokens)
}
