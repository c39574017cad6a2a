//! The console's settings as data: the configuration's first values, stored rows over
//! them, and each node's copy. `crate::settings` loads, refreshes and changes them.
use chrono::Duration;
use serde_json::{Value, json};
use std::sync::Arc;

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
    /// The configuration's values with the stored rows over them; a row that no longer
    /// fits its bounds (an older release's) is skipped.
    pub fn with_rows(mut self, rows: &[(String, Value)]) -> Self {
        let floor = (self.require_2fa, self.admins_require_2fa);
        for (name, value) in rows {
            let _ = self.apply(name, value);
        }
        self.hold_floors(floor);
        self
    }

    /// A two-step rule the operator configured on stays on: the console may add
    /// requirements, not remove the operator's.
    pub fn hold_floors(&mut self, (require_2fa, admins_require_2fa): (bool, bool)) {
        self.require_2fa |= require_2fa;
        self.admins_require_2fa |= admins_require_2fa;
    }

    pub fn apply(&mut self, name: &str, value: &Value) -> Result<(), String> {
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
            "invite_lifetime_hours" => self.invite_lifetime = Duration::hours(number(1, 24 * 366, "hours")?),
            "reset_link_lifetime_hours" => self.reset_link_lifetime = Duration::hours(number(1, 24 * 366, "hours")?),
            "temporary_password_lifetime_hours" => {
                self.temporary_password_lifetime = Duration::hours(number(1, 24 * 366, "hours")?)
            }
            "lockout_threshold" => self.lockout_threshold = u32::try_from(number(1, 100, "attempts")?).unwrap_or(5),
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

    pub fn set(&self, s: Settings) {
        match self.current.write() {
            Ok(mut current) => *current = Arc::new(s),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(s),
        }
    }
}
