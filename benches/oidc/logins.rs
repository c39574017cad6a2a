//! Logins: a browser per task, walking the sign-in pages with fresh cookies each time.
use crate::load::{Load, basic};
use crate::process::{cpu_seconds, minor_faults, postgres_cpu_seconds, rss_mib, threads_cpu_seconds};
use crate::{BROWSERS, LOGIN_MEASURE, LOGIN_WARM_UP, PASSWORD, REDIRECT_URI};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct OidcClient {
    pub(crate) id: String,
    pub(crate) secret: String,
}

impl OidcClient {
    pub(crate) fn of(v: &Value) -> Self {
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

    pub(crate) fn basic(&self) -> String {
        basic(&self.id, &self.secret)
    }
}

/// Who signs in, and their authenticator app or passkey when they have one.
#[derive(Clone)]
pub(crate) struct Account {
    pub(crate) username: String,
    pub(crate) factor: Option<Arc<Factor>>,
    /// Signs in alone from the identify page.
    pub(crate) passkey: Option<Arc<std::sync::Mutex<crate::passkeys::Authenticator>>>,
}

/// A user's authenticator app as the bench holds it: the key (known once set up) and
/// the last time step used.
pub(crate) struct Factor {
    pub(crate) key: std::sync::Mutex<Option<Vec<u8>>>,
    pub(crate) last_step: std::sync::atomic::AtomicI64,
}

pub(crate) fn random_text() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The cookies of one sign-in.
#[derive(Default)]
pub(crate) struct Cookies(Vec<(String, String)>);

impl Cookies {
    pub(crate) fn absorb(&mut self, res: &reqwest::Response) {
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

    pub(crate) fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(crate) fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `<input type="hidden" name="NAME" value="...">`, as the interface promises them.
pub(crate) fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let at = html.find(&marker)? + marker.len();
    let end = html[at..].find('"')?;
    Some(html_unescape(&html[at..at + end]))
}

/// The form's action, if it names one.
pub(crate) fn form_action(html: &str) -> Option<String> {
    let form = html.find("<form")?;
    let tag_end = form + html[form..].find('>')?;
    let tag = &html[form..tag_end];
    let at = tag.find("action=\"")? + "action=\"".len();
    let end = tag[at..].find('"')?;
    Some(html_unescape(&tag[at..at + end]))
}

/// One full login: GET /authorize (code, PKCE S256) → sign-in pages → code → POST /token.
/// The token response's JSON, and the browser's cookies after it.
pub(crate) async fn login(
    http: &reqwest::Client,
    base: &str,
    client: &OidcClient,
    username: &str,
    factor: Option<(&Factor, i64)>,
    passkey: Option<&std::sync::Mutex<crate::passkeys::Authenticator>>,
) -> Result<(Value, Cookies), String> {
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
        let mut form = vec![("csrf", csrf.clone()), ("r", r.clone())];
        let mut target = target;
        match target.path() {
            p if p.ends_with("/signin/identify") && passkey.is_some() => {
                let key = passkey.ok_or("no passkey")?;
                form.push((
                    "credential",
                    crate::passkeys::answer(http, base, &cookies, key, &csrf, &r).await?,
                ));
                target = url.join("/signin/passkey").map_err(|e| e.to_string())?;
            }
            p if p.ends_with("/signin/identify") => form.push(("username", username.to_string())),
            p if p.ends_with("/signin/password") => {
                if html.contains("Wrong username or password") {
                    return Err(format!("the password was refused for {username}"));
                }
                form.push(("password", PASSWORD.to_string()))
            }
            p if p.ends_with("/signin/consent") => form.push(("decision", "allow".to_string())),
            p if p.ends_with("/signin/enrol-totp") => {
                let (f, step) = factor.ok_or("asked to set up an app")?;
                let key = crate::totp::key_on_page(&html).ok_or("no key on the set-up page")?;
                form.push(("code", crate::totp::code(&key, step)));
                *f.key.lock().map_err(|_| "key lock")? = Some(key);
            }
            p if p.ends_with("/signin/second-factor") => {
                let (f, step) = factor.ok_or("asked for a code")?;
                let key = f.key.lock().map_err(|_| "key lock")?.clone().ok_or("no key yet")?;
                if html.contains("not right") {
                    return Err(format!("the code was refused for {username}"));
                }
                form.push(("code", crate::totp::code(&key, step)));
            }
            p if p.ends_with("/signin/recovery-codes") => {}
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
    let tokens = serde_json::from_str(&body).map_err(|e| format!("token JSON: {e}: {body}"))?;
    Ok((tokens, cookies))
}

/// BROWSERS tasks signing in over and over, each as its own user; the rate in the measured
/// window, and each task's last refresh token.
/// Task `i` signs in as accounts i, i + BROWSERS, i + 2·BROWSERS, … in turn; one with an
/// app only when a fresh time step is left for it.
pub(crate) async fn logins(
    base: &str,
    client: &OidcClient,
    accounts: &Arc<Vec<Account>>,
    server_pid: u32,
) -> (Load, Vec<String>) {
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
    let tasks: Vec<_> = (0..BROWSERS.min(accounts.len()))
        .map(|task| {
            let (http, base, client, accounts) = (http.clone(), base.to_string(), client.clone(), accounts.clone());
            tokio::spawn(async move {
                let (mut ok, mut errors, mut first_error, mut last_refresh) = (0usize, 0usize, None, None);
                let mut latencies = Vec::new();
                let mut next = task;
                while Instant::now() < until {
                    let account = &accounts[next % accounts.len()];
                    next += BROWSERS;
                    let factor = match &account.factor {
                        Some(f) => match f.reserve() {
                            Some(step) => Some((f.as_ref(), step)),
                            None => {
                                // Its steps are spent: on to the next account, without spinning.
                                tokio::time::sleep(Duration::from_millis(1)).await;
                                continue;
                            }
                        },
                        None => None,
                    };
                    let t = Instant::now();
                    let passkey = account.passkey.as_deref();
                    match login(&http, &base, &client, &account.username, factor, passkey).await {
                        Ok((tokens, _)) => {
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
