//! One backend: a fresh Tessera (SQLite, or a fresh PostgreSQL database), set up through
//! the CLI, then each section measured in turn.
use crate::databases::{drop_postgres, fresh_postgres};
use crate::figures::{Results, median, ratio, wants};
use crate::hashers::Hashers;
use crate::load::{
    Refresher, check_access_token, client_credentials, drive, expect_200, fixed, get_request, token_request, urlencode,
};
use crate::logins::{Account, OidcClient, logins};
use crate::process::{ON_POSTGRES, RssSampler, hwm_mib, rss_mib};
use crate::servers::{NodeProvider, Tessera};
use crate::{
    BROWSERS, CONNECTIONS, MEASURE, PASSWORD, REDIRECT_URI, REFRESH_MEASURE, ROUNDS, WARM_UP, WIDE_CONNECTIONS,
};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub(crate) async fn run(
    label: &str,
    postgres: Option<String>,
    mut node: Option<&mut NodeProvider>,
    hashers: &Hashers,
) -> Results {
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
    let users: Vec<Account> = (0..BROWSERS)
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
            Account {
                username: name,
                factor: None,
                passkey: None,
            }
        })
        .collect();
    let users = std::sync::Arc::new(users);

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
            // its argon2 threads spent: unlike the ratio of rates, it does not move when the
            // machine's hash speed drifts between the bare round and the login round.
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

    // 3b. Logins with a second factor: password, then a code from the authenticator app.
    if wants("totp") {
        let all = crate::totp::provision(&tessera).await;
        let enrolled = |a: &Account| {
            a.factor
                .as_ref()
                .is_some_and(|f| f.key.lock().is_ok_and(|k| k.is_some()))
        };
        // Each sets up its app once, through the sign-in pages (not measured), in as many
        // login windows as that takes.
        for _ in 0..6 {
            let pending: Vec<Account> = all.iter().filter(|a| !enrolled(a)).cloned().collect();
            if pending.is_empty() {
                break;
            }
            let (setup, _) = logins(&base, &web, &std::sync::Arc::new(pending), tessera.pid()).await;
            if let Some(e) = &setup.first_error {
                println!("[{label}] while setting up apps: {} errors, first: {e}", setup.errors);
            }
        }
        let accounts: Vec<Account> = all.iter().filter(|a| enrolled(a)).cloned().collect();
        println!(
            "[{label}] {} of {} users set up an authenticator app while signing in",
            accounts.len(),
            all.len()
        );
        let accounts = std::sync::Arc::new(accounts);
        for round in 1..=2 {
            let (per_s, ms, _) = hashers.measure();
            println!("[{label}] bare argon2id, TOTP round {round}/2: {per_s:.1} hashes/s ({ms:.1} ms CPU per hash)");
            let (load, _) = logins(&base, &web, &accounts, tessera.pid()).await;
            load.print(
                label,
                &format!("full login with TOTP (authorize, identify, password, code, token) round {round}/2"),
                "logins/s",
            );
            println!(
                "[{label}] TOTP logins/s = {:.0}% of the bare argon2id rate measured just before",
                100.0 * load.rate() / per_s
            );
            if let Some(split) = load.cpu_split_ms() {
                let bare_cores = per_s * ms / 1000.0;
                let share = load.server_cores / bare_cores * split.hash_ms / load.server_cpu_ms_per_op();
                results.totp_cpu_share.push(share);
                println!("[{label}]   from CPU shares: {:.0}%", 100.0 * share);
            }
        }
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

    // 5. Passwordless passkey logins (last: with a passkey, the password alone no longer
    // finishes these users' sign-ins).
    if wants("passkeys") {
        let origin = base.replace("127.0.0.1", "localhost");
        let accounts = std::sync::Arc::new(crate::passkeys::enrol(&base, &origin, &web, &users).await);
        for round in 1..=ROUNDS {
            let (load, _) = logins(&base, &web, &accounts, tessera.pid()).await;
            load.print(
                label,
                &format!(
                    "passwordless passkey login (authorize, passkey options, passkey, token) round {round}/{ROUNDS}"
                ),
                "logins/s",
            );
            results.passkey_logins.push(load.rate());
        }
    }

    results.rss_peak = rss.stop();
    println!(
        "[{label}] Tessera RSS: idle {:.1} MiB, peak under load {:.1} MiB (VmHWM {:.1} MiB)",
        results.rss_idle,
        results.rss_peak,
        hwm_mib(tessera.pid()).unwrap_or(f64::NAN)
    );

    drop(tessera);
    if let (Some(admin), Some(name)) = (postgres, pg_db) {
        drop_postgres(&admin, &name).await;
    }
    results
}
