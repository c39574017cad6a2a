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
//! `TESSERA_BENCH_ONLY=logins` (or `totp`, `passkeys`, `client_credentials`, `discovery`) runs one section,
//! for iterating on one figure; refresh runs after logins, which give its tokens.
//!
//! The load generator is this process on one thread (a current-thread runtime), like
//! `wrk -t1 -c8`: a minimal keep-alive HTTP/1.1 client, 8 connections, the same for both
//! servers (and one client_credentials pair at 64 connections). Logins use reqwest with a fresh cookie set per login. Needs `node` and `npm`
//! for the comparison (`npm ci` in benches/oidc-provider when node_modules is missing);
//! without them the comparison is skipped. Prints figures and targets; asserts nothing.

#[path = "../support/databases.rs"]
mod databases;
mod figures;
mod hashers;
mod load;
mod logins;
mod passkeys;
mod process;
mod run;
mod servers;
mod totp;

use figures::table;
use hashers::Hashers;
use run::run;
use servers::NodeProvider;
use std::time::Duration;

/// Connections for the request/s figures (wrk -c8).
const CONNECTIONS: usize = 8;
/// One more client_credentials pair at this many connections, to show what each server
/// does with the cores full.
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
/// bare-argon2id / login rounds, so a drift in the machine's speed falls on both alike.
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
