//! Password + authenticator-app logins: users made over SCIM Bulk (with passwords),
//! put in a group that requires a second factor, each setting up its app through the
//! sign-in pages once; then logins with a code computed here. The server takes each
//! code's time step once, so every login reserves a step no earlier one of that user
//! has used, and a user with none left in the window waits for the next step.
use crate::PASSWORD;
use crate::logins::{Account, Factor};
use crate::servers::Tessera;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Enough users that the logins of the rounds never run out of fresh steps: each user
/// has one or two per 30 seconds.
pub(crate) const TOTP_USERS: usize = 1500;

/// The current 30-second step, by this machine's clock (the server's too).
pub(crate) fn now_step() -> i64 {
    chrono::Utc::now().timestamp() / 30
}

/// The code for `step` under `key`: RFC 6238, SHA-1, 6 digits.
pub(crate) fn code(key: &[u8], step: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(key.to_vec())
        .with_account_name("bench")
        .build()
        .unwrap_or_else(|e| panic!("totp: {e}"));
    totp.generate(u64::try_from(step * 30).unwrap_or(0)).to_string()
}

impl Factor {
    pub(crate) fn new() -> Self {
        Factor {
            key: std::sync::Mutex::new(None),
            last_step: AtomicI64::new(0),
        }
    }

    /// Takes the next step this user may use now (the current one or the next, later than
    /// any used before), or None when both are spent.
    pub(crate) fn reserve(&self) -> Option<i64> {
        let now = now_step();
        let mut last = self.last_step.load(Ordering::Relaxed);
        loop {
            let step = now.max(last + 1);
            if step > now + 1 {
                return None;
            }
            match self
                .last_step
                .compare_exchange(last, step, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(step),
                Err(seen) => last = seen,
            }
        }
    }
}

/// The key a set-up page shows (`<code class="key">` in base32 groups).
pub(crate) fn key_on_page(html: &str) -> Option<Vec<u8>> {
    let at = html.find(r#"<code class="key">"#)? + r#"<code class="key">"#.len();
    let text: String = html[at..]
        .split('<')
        .next()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    totp_rs::Secret::try_from_base32(text).ok().map(|s| s.as_ref().to_vec())
}

/// Makes the users (SCIM Bulk, 500 per request) in a group requiring 2FA.
pub(crate) async fn provision(tessera: &Tessera) -> Vec<Account> {
    let token = tessera.cli_json(
        &[
            "scim-client",
            "create",
            "--name",
            "bench-hr",
            "--set-passwords",
            "--no-invites",
        ],
        None,
    )["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token"))
        .to_string();
    let http = reqwest::Client::new();
    let names: Vec<String> = (0..TOTP_USERS).map(|i| format!("ward{i:05}")).collect();
    let mut ids = Vec::new();
    for chunk in names.chunks(500) {
        let ops: Vec<Value> = chunk
            .iter()
            .map(|name| {
                json!({"method": "POST", "path": "/Users", "bulkId": name, "data": {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": name, "password": PASSWORD, "active": true,
                    "emails": [{"value": format!("{name}@bench.example"), "primary": true}],
                }})
            })
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
        let res = http
            .post(format!("{}/scim/v2/Bulk", tessera.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("bulk: {e}"));
        let v: Value = res.json().await.unwrap_or_else(|e| panic!("bulk JSON: {e}"));
        for op in v["Operations"].as_array().unwrap_or_else(|| panic!("bulk answer {v}")) {
            assert_eq!(op["status"], "201", "bulk create: {op}");
            let location = op["location"].as_str().unwrap_or_default();
            ids.push(location.rsplit('/').next().unwrap_or_default().to_string());
        }
    }
    let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "bench ward", "members": members});
    let res = http
        .post(format!("{}/scim/v2/Groups", tessera.base))
        .bearer_auth(&token)
        .json(&group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("group: {e}"));
    assert_eq!(res.status().as_u16(), 201, "group create");
    tessera.cli_json(&["group", "set", "bench ward", "--require-2fa", "true"], None);
    names
        .into_iter()
        .map(|username| Account {
            username,
            factor: Some(Arc::new(Factor::new())),
            passkey: None,
        })
        .collect()
}
