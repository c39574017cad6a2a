//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): a worker POSTs a
//! signed logout token to each client whose session ended, retrying with backoff.
use super::OidcError;
use super::clients;
use crate::crypto::random_token;
use crate::json::JsonFields;
use crate::model::backchannel_logout::BackchannelLogout;
use crate::oidc::Provider;
use crate::store;
use chrono::Duration;
use serde_json::json;
use std::time::Duration as StdDuration;
use tokio::sync::watch;

pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// After this many failed attempts a logout is given up and left with its last error.
const MAX_ATTEMPTS: i32 = 8;

fn backoff(attempts: i32) -> Duration {
    Duration::seconds((10i64 << attempts.clamp(0, 9)).min(3600))
}

pub struct Worker {
    pub svc: Provider,
    pub poll: StdDuration,
    pub http: reqwest::Client,
}

impl Worker {
    pub fn new(svc: Provider, poll: StdDuration) -> Self {
        // No redirects: a logout token goes to the registered URI and nowhere else.
        let http = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { svc, poll, http }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "back-channel logout: could not read the outbox");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.wait_for(|stopped| *stopped) => return,
            }
        }
    }

    async fn deliver_due(&self) -> Result<(), OidcError> {
        let now = self.svc.now();
        let c = self.svc.store.conn();
        for row in store::backchannel::due(c, now, 50).await? {
            if row.attempts >= MAX_ATTEMPTS {
                continue;
            }
            if !store::backchannel::claim(c, &row, now + backoff(row.attempts)).await? {
                continue;
            }
            match self.send(&row).await {
                Ok(()) => store::backchannel::delivered(c, row.id, self.svc.now()).await?,
                Err(e) => {
                    tracing::warn!(client = %row.client_id, error = %e, "back-channel logout not delivered");
                    store::backchannel::failed(c, row.id, &e).await?;
                }
            }
        }
        Ok(())
    }

    async fn send(&self, row: &BackchannelLogout) -> Result<(), String> {
        let client = clients::find(&self.svc, &row.client_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the client was deleted")?;
        let now = self.svc.now();
        let mut claims = json!({
            "iss": self.svc.config.issuer_id(),
            "aud": client.id,
            "iat": now.timestamp(),
            "exp": (now + Duration::minutes(2)).timestamp(),
            "jti": random_token()[..22].to_string(),
            "sub": row.user_id.to_string(),
            "events": { EVENT: {} },
        });
        if let Some(sid) = row.session_id {
            claims.set("sid", json!(sid.to_string()));
        }
        let keys = self.svc.keys.current(&self.svc).await.map_err(|e| e.to_string())?;
        let token = keys
            .signer(client.id_token_alg())
            .and_then(|s| s.sign("logout+jwt", &claims))
            .map_err(|e| e.to_string())?;
        let response = self
            .http
            .post(&row.uri)
            .form(&[("logout_token", token)])
            .send()
            .await
            .map_err(|e| format!("POST {}: {e}", row.uri))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("POST {} answered {}", row.uri, response.status()))
        }
    }
}
