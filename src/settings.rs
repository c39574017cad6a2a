//! The settings an admin changes in the console: link lifetimes, lockout, password
//! length, the two-step policy and the organisation's name. The configuration gives
//! their first values; a stored row overrides one. Each node reloads them every few
//! seconds, so a change made on one is seen by all within `RELOAD`.
use crate::audit::{self, Actor, Event};
use crate::config::Config;
pub use crate::model::settings::{Settings, SettingsCache};
use crate::services::Services;
use crate::store::{self, StoreError};
use serde_json::{Value, json};

/// How stale a node's settings may be.
pub const RELOAD: std::time::Duration = std::time::Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name} {why}")]
    Invalid { name: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The configuration's values, before any stored row.
pub fn from_config(c: &Config) -> Settings {
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

/// The configuration's values with the stored rows over them.
pub async fn load(c: &impl store::Conn, config: &Config) -> Result<Settings, StoreError> {
    Ok(from_config(config).with_rows(&store::settings::all(c).await?))
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
    let configured = from_config(&svc.config);
    if (configured.require_2fa && !after.require_2fa) || (configured.admins_require_2fa && !after.admins_require_2fa) {
        return Err(SettingsError::Invalid {
            name: "two-step sign-in".into(),
            why: "is required by the server's configuration (TESSERA_REQUIRE_2FA, TESSERA_ADMINS_REQUIRE_2FA): \
                  it cannot be turned off here"
                .into(),
        });
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
        let base = from_config(&Config::for_data_dir(std::path::Path::new("/tmp")).expect("config"));
        let s = base.clone().with_rows(&[
            ("lockout_threshold".into(), json!(0)),
            ("password_min_length".into(), json!(16)),
            ("organisation_name".into(), json!("North Clinics")),
        ]);
        assert_eq!(s.lockout_threshold, base.lockout_threshold);
        assert_eq!(s.password_min_length, 16);
        assert_eq!(s.organisation_name, "North Clinics");
    }
}
