//! The settings an admin changes in the console: link lifetimes, lockout, password
//! length, the two-step policy and the organisation's name. The configuration gives
//! their first values; a stored row overrides one. Each node reloads them every few
//! seconds, so a change made on one is seen by all within `RELOAD`.
use crate::audit::{self, Actor, Event};
use crate::config::Config;
use crate::services::Services;
use crate::store::{self, StoreError};
use chrono::Duration;
use serde_json::{Value, json};
use std::sync::Arc;

/// How stale a node's settings may be.
pub const RELOAD: std::time::Duration = std::time::Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub organisation_name: String,
    pub invite_lifetime: Duration,
    pub reset_link_lifetime: Duration,
    pub temporary_password_lifetime: Duration,
    pub lockout_threshold: u32,
    pub lockout_duration: Duration,
    pub password_min_length: usize,
    pub require_2fa: bool,
    pub admins_require_2fa: bool,
    /// Not a setting: the issuer, which mail names as the site.
    pub site: String,
}

impl Settings {
    pub fn from_config(c: &Config) -> Self {
        Settings {
            organisation_name: c.organisation_name.clone(),
            invite_lifetime: c.invite_lifetime,
            reset_link_lifetime: c.reset_link_lifetime,
            temporary_password_lifetime: c.temporary_password_lifetime,
            lockout_threshold: c.lockout_threshold,
            lockout_duration: c.lockout_duration,
            password_min_length: c.password_min_length,
            require_2fa: c.require_2fa,
            admins_require_2fa: c.admins_require_2fa,
            site: c.issuer_id().to_string(),
        }
    }

    /// The configuration's values with the stored rows over them; a row that no longer
    /// fits its bounds (an older release's) is skipped.
    fn with_rows(mut self, rows: &[(String, Value)]) -> Self {
        for (name, value) in rows {
            let _ = self.apply(name, value);
        }
        self
    }

    fn apply(&mut self, name: &str, value: &Value) -> Result<(), String> {
        let number = |min: i64, max: i64, unit: &str| -> Result<i64, String> {
            value
                .as_i64()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("must be a whole number of {unit} from {min} to {max}"))
        };
        let flag = || value.as_bool().ok_or_else(|| "must be on or off".to_string());
        match name {
            "organisation_name" => {
                let text = value.as_str().map(str::trim).unwrap_or("");
                if text.is_empty() || text.chars().count() > 100 || text.chars().any(char::is_control) {
                    return Err("must be 1 to 100 characters on one line".into());
                }
                self.organisation_name = text.to_string();
            }
            "invite_lifetime_hours" => self.invite_lifetime = Duration::hours(number(1, 24 * 30, "hours")?),
            "reset_link_lifetime_hours" => self.reset_link_lifetime = Duration::hours(number(1, 24 * 7, "hours")?),
            "temporary_password_lifetime_hours" => {
                self.temporary_password_lifetime = Duration::hours(number(1, 24 * 30, "hours")?)
            }
            "lockout_threshold" => self.lockout_threshold = u32::try_from(number(3, 100, "attempts")?).unwrap_or(5),
            "lockout_minutes" => self.lockout_duration = Duration::minutes(number(1, 24 * 60, "minutes")?),
            "password_min_length" => {
                self.password_min_length = usize::try_from(number(8, 64, "characters")?).unwrap_or(12)
            }
            "require_2fa" => self.require_2fa = flag()?,
            "admins_require_2fa" => self.admins_require_2fa = flag()?,
            _ => return Err("is not a setting".into()),
        }
        Ok(())
    }

    /// The settings as stored rows would hold them.
    pub fn rows(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("organisation_name", json!(self.organisation_name)),
            ("invite_lifetime_hours", json!(self.invite_lifetime.num_hours())),
            ("reset_link_lifetime_hours", json!(self.reset_link_lifetime.num_hours())),
            (
                "temporary_password_lifetime_hours",
                json!(self.temporary_password_lifetime.num_hours()),
            ),
            ("lockout_threshold", json!(self.lockout_threshold)),
            ("lockout_minutes", json!(self.lockout_duration.num_minutes())),
            ("password_min_length", json!(self.password_min_length)),
            ("require_2fa", json!(self.require_2fa)),
            ("admins_require_2fa", json!(self.admins_require_2fa)),
        ]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name} {why}")]
    Invalid { name: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// This node's copy of the settings: read without waiting on every request, and
/// replaced by `refresh` every `RELOAD` (and at once by this node's own changes).
pub struct SettingsCache {
    current: std::sync::RwLock<Arc<Settings>>,
}

impl SettingsCache {
    pub fn new(first: Settings) -> Self {
        Self {
            current: std::sync::RwLock::new(Arc::new(first)),
        }
    }

    pub fn get(&self) -> Arc<Settings> {
        match self.current.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, s: Settings) {
        match self.current.write() {
            Ok(mut current) => *current = Arc::new(s),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(s),
        }
    }
}

/// The configuration's values with the stored rows over them.
pub async fn load(c: &impl store::Conn, config: &Config) -> Result<Settings, StoreError> {
    Ok(Settings::from_config(config).with_rows(&store::settings::all(c).await?))
}

/// Reads the stored settings again: another node may have changed them.
pub async fn refresh(svc: &Services) -> Result<(), StoreError> {
    svc.settings.set(load(svc.store.reader(), &svc.config).await?);
    Ok(())
}

/// Refreshes every `RELOAD` until `stop`.
pub async fn run(svc: Services, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RELOAD) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = refresh(&svc).await {
            tracing::warn!(error = %e, "could not reload the settings; keeping the last ones");
        }
    }
}

/// Stores what the admin changed (only the values that differ from those in force);
/// audited with each change's old and new value.
pub async fn update(svc: &Services, actor: &Actor, changes: &[(&str, Value)]) -> Result<Settings, SettingsError> {
    let before = load(svc.store.conn(), &svc.config).await?;
    let mut after = before.clone();
    for (name, value) in changes {
        after.apply(name, value).map_err(|why| SettingsError::Invalid {
            name: name.replace('_', " "),
            why,
        })?;
    }
    let old = before.rows();
    let changed: Vec<(&str, Value, Value)> = after
        .rows()
        .into_iter()
        .zip(old)
        .filter(|((_, new), (_, was))| new != was)
        .map(|((name, new), (_, was))| (name, was, new))
        .collect();
    if changed.is_empty() {
        return Ok(after);
    }
    let now = svc.now();
    let tx = svc.store.begin().await?;
    for (name, _, new) in &changed {
        store::settings::put(&tx, name, new.clone(), &actor.label, now).await?;
    }
    let detail: serde_json::Map<String, Value> = changed
        .iter()
        .map(|(name, was, new)| (name.to_string(), json!({ "from": was, "to": new })))
        .collect();
    audit::record(
        &tx,
        &Event::new(actor, "settings.update", None).with_detail(Value::Object(detail)),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.settings.set(after.clone());
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_out_of_bounds_are_skipped() {
        let base = Settings::from_config(&Config::for_data_dir(std::path::Path::new("/tmp")).expect("config"));
        let s = base.clone().with_rows(&[
            ("lockout_threshold".into(), json!(1)),
            ("password_min_length".into(), json!(16)),
            ("organisation_name".into(), json!("North Clinics")),
        ]);
        assert_eq!(s.lockout_threshold, base.lockout_threshold);
        assert_eq!(s.password_min_length, 16);
        assert_eq!(s.organisation_name, "North Clinics");
    }
}
