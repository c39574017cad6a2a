//! Configuration: optional `tessera.toml`, then `TESSERA_*` environment variables, which win.
//! Every error names the setting it is about, so a bad value stops start-up with one clear line.
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The shortest password accepted unless configured otherwise.
pub const DEFAULT_PASSWORD_MIN_LENGTH: usize = 12;

#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub issuer: Url,
    pub data_dir: PathBuf,
    pub smtp_url: Option<String>,
    pub mail_from: lettre::message::Mailbox,
    /// Base64 of 32 bytes; when absent the key is kept in `<data_dir>/secret.key`.
    pub secret_key: Option<String>,
    pub log_format: LogFormat,
    /// Password attempts allowed per client address per minute (a clinic behind one
    /// NAT address signs in together at opening time, so not too few).
    pub sign_in_per_minute: std::num::NonZeroU32,
    /// Sign-ins one client address may start per 30 minutes (the longest a started one
    /// is kept), since each keeps its authorization request in the database until then.
    pub pending_sign_ins_per_address: std::num::NonZeroU32,
    /// Named in every mail and page header, so staff know who writes to them.
    pub organisation_name: String,
    /// How long an invite link stays good.
    pub invite_lifetime: chrono::Duration,
    /// How long a password reset link stays good.
    pub reset_link_lifetime: chrono::Duration,
    /// How long an admin's temporary password works if it is never used.
    pub temporary_password_lifetime: chrono::Duration,
    /// Failed sign-ins in a row (password or second factor) that lock an account.
    pub lockout_threshold: u32,
    /// How long the first lockout lasts; each lockout in a row lasts twice as long,
    /// up to a day.
    pub lockout_duration: chrono::Duration,
    /// Everyone must sign in with a second factor.
    pub require_2fa: bool,
    /// Anyone with admin rights (the admin role, or admin of a group) must.
    pub admins_require_2fa: bool,
    /// The shortest password accepted (NIST SP 800-63B: 8 at least; 12 by default).
    pub password_min_length: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed: behind one, every request
    /// comes from the proxy, and per-address limits would throttle everyone at once.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a client has to send a request's head: from connecting for the first,
    /// from its first byte for later ones (trickled headers, silent sockets).
    pub header_read_timeout: Duration,
    /// A connection with no request in flight is closed after this long.
    pub idle_timeout: Duration,
    /// A request without a response after this long is answered 408.
    pub request_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: u32,
    /// Connections open at once from one client address (IPv6: one /64), trusted
    /// proxies exempt; more are closed at once, so one address cannot take every slot.
    pub max_connections_per_address: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Keys of `tessera.toml`; each maps to `TESSERA_<KEY>` in the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    issuer: Option<String>,
    data_dir: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    secret_key: Option<String>,
    log_format: Option<String>,
    sign_in_per_minute: Option<String>,
    pending_sign_ins_per_address: Option<String>,
    organisation_name: Option<String>,
    invite_lifetime_hours: Option<String>,
    reset_link_lifetime_hours: Option<String>,
    temporary_password_lifetime_hours: Option<String>,
    lockout_threshold: Option<String>,
    lockout_minutes: Option<String>,
    require_2fa: Option<String>,
    admins_require_2fa: Option<String>,
    password_min_length: Option<String>,
    trusted_proxies: Option<String>,
    header_read_timeout_secs: Option<String>,
    idle_timeout_secs: Option<String>,
    request_timeout_secs: Option<String>,
    max_connections: Option<String>,
    max_connections_per_address: Option<String>,
}

impl Config {
    /// Reads `path` (or `./tessera.toml` when it exists) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("TESSERA_")).collect();
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| env.get("TESSERA_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(p) => Some(read_file(&p)?),
            None => {
                let default = Path::new("tessera.toml");
                if default.exists() {
                    Some(read_file(default)?)
                } else {
                    None
                }
            }
        };
        Self::from_sources(file.unwrap_or_default(), &env)
    }

    /// Defaults for a data directory, as tests and the benchmark use them.
    pub fn for_data_dir(data_dir: &Path) -> Result<Self, ConfigError> {
        let file = FileConfig {
            data_dir: Some(data_dir.display().to_string()),
            ..FileConfig::default()
        };
        Self::from_sources(file, &HashMap::new())
    }

    fn from_sources(file: FileConfig, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let pick = |key: &str, from_file: Option<String>| -> Option<String> {
            env.get(&format!("TESSERA_{}", key.to_uppercase()))
                .cloned()
                .or(from_file)
                .filter(|v| !v.trim().is_empty())
        };

        let data_dir = PathBuf::from(pick("data_dir", file.data_dir).unwrap_or_else(|| "./data".into()));
        let database_url = match pick("database_url", file.database_url) {
            Some(url) => {
                if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(ConfigError::new(
                        "TESSERA_DATABASE_URL",
                        "must start with sqlite: or postgres://",
                    ));
                }
                url
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("tessera.db").display()),
        };

        let listen_text = pick("listen", file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "TESSERA_LISTEN",
                format!("'{listen_text}' is not an address:port such as 127.0.0.1:8080"),
            )
        })?;

        let issuer_text = pick("issuer", file.issuer).unwrap_or_else(|| "http://localhost:8080".into());
        let issuer = parse_issuer(&issuer_text)?;

        let smtp_url = pick("smtp_url", file.smtp_url);
        if let Some(url) = &smtp_url {
            let scheme_ok = url.starts_with("smtp://") || url.starts_with("smtps://");
            if !scheme_ok || Url::parse(url).is_err() {
                return Err(ConfigError::new(
                    "TESSERA_SMTP_URL",
                    "must be smtp://host:port or smtps://host:port (user:password@ and ?tls=required allowed)",
                ));
            }
        }

        let from_text = pick("mail_from", file.mail_from).unwrap_or_else(|| "Tessera <tessera@localhost>".into());
        let mail_from = from_text.parse().map_err(|_| {
            ConfigError::new(
                "TESSERA_MAIL_FROM",
                format!("'{from_text}' is not a mail address such as Tessera <id@clinic.example>"),
            )
        })?;

        let secret_key = pick("secret_key", file.secret_key);
        if let Some(key) = &secret_key
            && crate::crypto::SecretKey::from_base64(key).is_none()
        {
            return Err(ConfigError::new(
                "TESSERA_SECRET_KEY",
                "must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)",
            ));
        }

        let log_format = match pick("log_format", file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "TESSERA_LOG_FORMAT",
                    format!("'{other}' is not text or json"),
                ));
            }
        };

        let limit_text = pick("sign_in_per_minute", file.sign_in_per_minute).unwrap_or_else(|| "120".into());
        let sign_in_per_minute = limit_text.trim().parse().map_err(|_| {
            ConfigError::new(
                "TESSERA_SIGN_IN_PER_MINUTE",
                format!("'{limit_text}' is not a whole number of attempts above 0"),
            )
        })?;

        let pending_text =
            pick("pending_sign_ins_per_address", file.pending_sign_ins_per_address).unwrap_or_else(|| "600".into());
        let pending_sign_ins_per_address = pending_text.trim().parse().map_err(|_| {
            ConfigError::new(
                "TESSERA_PENDING_SIGN_INS_PER_ADDRESS",
                format!("'{pending_text}' is not a whole number of sign-ins above 0"),
            )
        })?;

        let trusted_proxies = match pick("trusted_proxies", file.trusted_proxies) {
            Some(list) => parse_networks(&list).map_err(|bad| {
                ConfigError::new(
                    "TESSERA_TRUSTED_PROXIES",
                    format!("'{bad}' is not an IP address or network such as 10.0.0.0/8"),
                )
            })?,
            None => Vec::new(),
        };

        let organisation_name = pick("organisation_name", file.organisation_name)
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| "Tessera".into());
        if organisation_name.chars().count() > 100 || organisation_name.chars().any(char::is_control) {
            return Err(ConfigError::new(
                "TESSERA_ORGANISATION_NAME",
                "must be at most 100 characters on one line",
            ));
        }
        let hours = |key: &str, from_file: Option<String>, default: u64| -> Result<chrono::Duration, ConfigError> {
            let n = match pick(key, from_file) {
                None => default,
                // A year at most: a link is a key to an account.
                Some(text) => bounded(key, &text, 24 * 366, "hours")?,
            };
            Ok(chrono::Duration::hours(i64::try_from(n).unwrap_or(24)))
        };
        let invite_lifetime = hours("invite_lifetime_hours", file.invite_lifetime_hours, 7 * 24)?;
        let reset_link_lifetime = hours("reset_link_lifetime_hours", file.reset_link_lifetime_hours, 72)?;
        let temporary_password_lifetime = hours(
            "temporary_password_lifetime_hours",
            file.temporary_password_lifetime_hours,
            72,
        )?;
        // 100 at most: more wrong guesses than that is no lockout at all.
        let lockout_threshold = match pick("lockout_threshold", file.lockout_threshold) {
            None => 5,
            Some(text) => bounded("lockout_threshold", &text, 100, "attempts")?,
        };
        let lockout_threshold = u32::try_from(lockout_threshold).unwrap_or(5);
        let lockout_minutes = match pick("lockout_minutes", file.lockout_minutes) {
            None => 15,
            Some(text) => bounded("lockout_minutes", &text, 24 * 60, "minutes")?,
        };
        let lockout_duration = chrono::Duration::minutes(i64::try_from(lockout_minutes).unwrap_or(15));
        let flag = |key: &str, from_file: Option<String>, default: bool| -> Result<bool, ConfigError> {
            match pick(key, from_file).as_deref().map(str::trim) {
                None => Ok(default),
                Some("true" | "1" | "yes" | "on") => Ok(true),
                Some("false" | "0" | "no" | "off") => Ok(false),
                Some(other) => Err(ConfigError::new(
                    format!("TESSERA_{}", key.to_uppercase()),
                    format!("'{other}' is not true or false"),
                )),
            }
        };
        let require_2fa = flag("require_2fa", file.require_2fa, false)?;
        let admins_require_2fa = flag("admins_require_2fa", file.admins_require_2fa, true)?;
        let password_min_length = match pick("password_min_length", file.password_min_length) {
            None => DEFAULT_PASSWORD_MIN_LENGTH,
            Some(text) => match bounded("password_min_length", &text, 64, "characters")? {
                n @ 8..=64 => usize::try_from(n).unwrap_or(DEFAULT_PASSWORD_MIN_LENGTH),
                _ => {
                    return Err(ConfigError::new(
                        "TESSERA_PASSWORD_MIN_LENGTH",
                        format!("'{text}' is below 8: shorter passwords are guessed (NIST SP 800-63B)"),
                    ));
                }
            },
        };

        let seconds = |key: &str, from_file: Option<String>, default: u64| -> Result<Duration, ConfigError> {
            match pick(key, from_file) {
                None => Ok(Duration::from_secs(default)),
                Some(text) => bounded(key, &text, MAX_TIMEOUT_SECS, "seconds").map(Duration::from_secs),
            }
        };
        let header_read_timeout = seconds("header_read_timeout_secs", file.header_read_timeout_secs, 10)?;
        let idle_timeout = seconds("idle_timeout_secs", file.idle_timeout_secs, 60)?;
        let request_timeout = seconds("request_timeout_secs", file.request_timeout_secs, 30)?;
        let connections = |key: &str, from_file: Option<String>, default: u32| -> Result<u32, ConfigError> {
            match pick(key, from_file) {
                None => Ok(default),
                Some(text) => bounded(key, &text, MAX_CONNECTIONS.into(), "connections")
                    .map(|n| n.try_into().unwrap_or(MAX_CONNECTIONS)),
            }
        };
        let max_connections = connections("max_connections", file.max_connections, default_max_connections())?;
        // 64: room for the browsers of a clinic behind one NAT address (one HTTP/2
        // connection each, or up to six HTTP/1.1), a sixty-fourth of the default cap.
        let max_connections_per_address =
            connections("max_connections_per_address", file.max_connections_per_address, 256)?;

        Ok(Self {
            header_read_timeout,
            idle_timeout,
            request_timeout,
            max_connections,
            max_connections_per_address,
            sign_in_per_minute,
            pending_sign_ins_per_address,
            organisation_name,
            invite_lifetime,
            reset_link_lifetime,
            temporary_password_lifetime,
            lockout_threshold,
            lockout_duration,
            require_2fa,
            admins_require_2fa,
            password_min_length,
            trusted_proxies,
            database_url,
            listen,
            issuer,
            data_dir,
            smtp_url,
            mail_from,
            secret_key,
            log_format,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Cookies get `Secure` (and the `__Host-` prefix) when the issuer is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.scheme() == "https"
    }

    /// The Issuer Identifier (OIDC Core §2): the issuer URL without a trailing slash,
    /// exactly as it appears in `iss` and discovery, and the base of absolute links.
    pub fn issuer_id(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    pub fn base_url(&self) -> String {
        self.issuer_id().to_string()
    }
}

/// Longer would be no timeout at all; and a bound keeps deadline arithmetic in range.
const MAX_TIMEOUT_SECS: u64 = 86_400;
const MAX_CONNECTIONS: u32 = 1_000_000;

/// A whole number from 1 to `max`, or an error naming `TESSERA_<KEY>`.
fn bounded(key: &str, text: &str, max: u64, unit: &str) -> Result<u64, ConfigError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ConfigError::new(
                format!("TESSERA_{}", key.to_uppercase()),
                format!("'{text}' is not a whole number of {unit} from 1 to {max}"),
            )
        })
}

/// Three quarters of the open-file limit, leaving the rest for the database pool,
/// mail and files, and at most 4096: past the limit, accept fails (EMFILE) instead
/// of connections waiting their turn.
fn default_max_connections() -> u32 {
    let cap = 4096;
    #[cfg(unix)]
    {
        if let Some(limit) = rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
            return u32::try_from(limit / 4 * 3).unwrap_or(cap).clamp(1, cap);
        }
    }
    cap
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("TESSERA_CONFIG", format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| ConfigError::new("TESSERA_CONFIG", format!("{}: {}", path.display(), e.message())))
}

/// A comma- or space-separated list of addresses and networks; a bare address is a
/// network of one. Returns the first entry that is neither.
fn parse_networks(list: &str) -> Result<Vec<ipnet::IpNet>, String> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| s.to_string())
        })
        .collect()
}

fn parse_issuer(text: &str) -> Result<Url, ConfigError> {
    let bad = |why: &str| ConfigError::new("TESSERA_ISSUER", format!("'{text}' {why}"));
    let url = Url::parse(text).map_err(|_| bad("is not a URL"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad("must be an http(s) URL"));
    }
    // OIDC Core §2: the issuer has no query or fragment.
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if url.scheme() == "http" && !matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) {
        return Err(bad("must be https unless the host is localhost"));
    }
    Ok(url)
}

/// A database URL safe to print: the password replaced.
pub fn redacted_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = Config::from_sources(FileConfig::default(), &env(&[])).expect("defaults");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.issuer.as_str(), "http://localhost:8080/");
        assert_eq!(c.database_url, "sqlite://./data/tessera.db?mode=rwc");
        assert!(!c.secure_cookies());
    }

    #[test]
    fn environment_wins_over_file() {
        let file = FileConfig {
            listen: Some("127.0.0.1:1".into()),
            ..FileConfig::default()
        };
        let c = Config::from_sources(file, &env(&[("TESSERA_LISTEN", "127.0.0.1:2")])).expect("ok");
        assert_eq!(c.listen.port(), 2);
    }

    #[test]
    fn bad_values_name_their_setting() {
        for (key, value) in [
            ("TESSERA_LISTEN", "nope"),
            ("TESSERA_ISSUER", "http://idp.clinic.example"),
            ("TESSERA_DATABASE_URL", "mysql://x"),
            ("TESSERA_SMTP_URL", "http://mail"),
            ("TESSERA_MAIL_FROM", "not an address"),
            ("TESSERA_SECRET_KEY", "short"),
            ("TESSERA_TRUSTED_PROXIES", "10.0.0.1, proxy.clinic.example"),
            ("TESSERA_PENDING_SIGN_INS_PER_ADDRESS", "0"),
            ("TESSERA_HEADER_READ_TIMEOUT_SECS", "0"),
            ("TESSERA_IDLE_TIMEOUT_SECS", "1.5"),
            ("TESSERA_REQUEST_TIMEOUT_SECS", "99999999999999999999"),
            ("TESSERA_MAX_CONNECTIONS", "-1"),
            ("TESSERA_MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ] {
            let err = Config::from_sources(FileConfig::default(), &env(&[(key, value)])).expect_err(key);
            assert_eq!(err.setting, key);
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_and_networks() {
        let c = Config::from_sources(
            FileConfig::default(),
            &env(&[("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ::1")]),
        )
        .expect("ok");
        let shown: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]);
    }

    #[test]
    fn connection_limits_have_defaults_and_settings() {
        let c = Config::from_sources(FileConfig::default(), &env(&[])).expect("defaults");
        assert_eq!(c.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert!((1..=4096).contains(&c.max_connections));
        assert_eq!(c.max_connections_per_address, 256);
        let file = FileConfig {
            idle_timeout_secs: Some("75".into()),
            ..FileConfig::default()
        };
        let c = Config::from_sources(
            file,
            &env(&[
                ("TESSERA_HEADER_READ_TIMEOUT_SECS", "5"),
                ("TESSERA_MAX_CONNECTIONS", "20000"),
                ("TESSERA_MAX_CONNECTIONS_PER_ADDRESS", "500"),
            ]),
        )
        .expect("ok");
        assert_eq!(c.header_read_timeout, Duration::from_secs(5));
        assert_eq!(c.idle_timeout, Duration::from_secs(75));
        assert_eq!(c.max_connections, 20_000);
        assert_eq!(c.max_connections_per_address, 500);
    }

    #[test]
    fn toml_rejects_unknown_keys() {
        assert!(toml::from_str::<FileConfig>("listen = \"127.0.0.1:1\"\nlisten_port = 3").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redacted_url("postgres://u:secret@db/x"), "postgres://u:***@db/x");
    }
}
