//! Start-up and shutdown: data directory, secret key, database, migrations,
//! listener, setup link, mail worker, HTTP server.
use crate::accounts::setup;
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::crypto::SecretKey;
use crate::http;
use crate::mail::transport::Transport;
use crate::mail::worker::Worker;
use crate::oidc::Provider;
use crate::services::Services;
use crate::store::Store;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Opens everything the domain needs. With `migrate` false, a database that
/// still needs migrations is refused rather than used half-ready.
pub async fn open(config: Config, clock: Arc<dyn Clock>, migrate: bool) -> Result<Services, ConfigError> {
    prepare_data_dir(&config.data_dir)?;
    let secret = load_secret_key(&config)?;
    let store = Store::connect(&config)
        .await
        .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", e))?;
    if migrate {
        let applied = store
            .migrate()
            .await
            .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", format!("migrations failed: {e}")))?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "database migrated");
        }
    } else {
        let pending = store
            .pending_migrations()
            .await
            .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", e.to_string()))?;
        if pending > 0 {
            return Err(ConfigError::new(
                "TESSERA_DATABASE_URL",
                format!("{pending} migration(s) pending: run `tessera migrate` first"),
            ));
        }
    }
    let passkeys = crate::accounts::passkeys::relying_party(&config.issuer, &config.organisation_name);
    let settings = crate::settings::load(store.conn(), &config)
        .await
        .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", format!("cannot read the settings: {e}")))?;
    Ok(Services {
        passkeys,
        settings: Arc::new(crate::settings::SettingsCache::new(settings)),
        limits: Arc::new(crate::limits::Limits::new(
            config.sign_in_per_minute,
            config.pending_sign_ins_per_address,
            Duration::from_secs(crate::oidc::pending_request_lifetime().num_seconds().unsigned_abs()),
        )),
        config: Arc::new(config),
        audit: Arc::new(crate::audit::batch::Batcher::start(store.clone())),
        store,
        clock,
        secret,
        mail_wake: Arc::new(Notify::new()),
    })
}

fn prepare_data_dir(dir: &Path) -> Result<(), ConfigError> {
    let fail =
        |e: std::io::Error| ConfigError::new("TESSERA_DATA_DIR", format!("{} is not writable: {e}", dir.display()));
    if !dir.exists() {
        // The directory holds the secret key, the SQLite file and outgoing mail: owner only.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(fail)?;
    }
    // Fail now, with a clear line, rather than at the first mail or SQLite write.
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// From config, else `<data_dir>/secret.key`, created (mode 0600) on first start.
/// Several nodes sharing one database must share the key: set TESSERA_SECRET_KEY.
fn load_secret_key(config: &Config) -> Result<SecretKey, ConfigError> {
    if let Some(text) = &config.secret_key {
        return SecretKey::from_base64(text)
            .ok_or_else(|| ConfigError::new("TESSERA_SECRET_KEY", "must be base64 of exactly 32 bytes"));
    }
    let path = config.data_dir.join("secret.key");
    let setting = "TESSERA_SECRET_KEY";
    match std::fs::read_to_string(&path) {
        Ok(text) => SecretKey::from_base64(&text)
            .ok_or_else(|| ConfigError::new(setting, format!("{} does not hold base64 of 32 bytes", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_private(&path, &key.to_base64())
                .map_err(|e| ConfigError::new(setting, format!("cannot write {}: {e}", path.display())))?;
            tracing::info!(path = %path.display(), "generated a new secret key");
            Ok(key)
        }
        Err(e) => Err(ConfigError::new(
            setting,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

pub struct ServeOptions {
    pub migrate: bool,
    pub mail_poll: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            migrate: true,
            mail_poll: Duration::from_secs(5),
        }
    }
}

/// A running server: HTTP, the mail and back-channel workers and housekeeping,
/// stopped together.
pub struct Server {
    pub addr: SocketAddr,
    /// Present while no admin can sign in. A secret: shown to the operator, never logged.
    pub setup_link: Option<String>,
    pub services: Services,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    worker: JoinHandle<()>,
    logouts: JoinHandle<()>,
    purge: JoinHandle<()>,
    access_ends: JoinHandle<()>,
    settings: JoinHandle<()>,
}

impl Server {
    pub async fn start(config: Config, clock: Arc<dyn Clock>, options: ServeOptions) -> Result<Self, ConfigError> {
        let transport = Transport::from_config(&config).map_err(|e| ConfigError::new("TESSERA_SMTP_URL", e))?;
        let listen = config.listen;
        // Bind first: a port in use stops start-up before anything is written.
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| ConfigError::new("TESSERA_LISTEN", format!("cannot listen on {listen}: {e}")))?;
        let services = open(config, clock, options.migrate).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| ConfigError::new("TESSERA_LISTEN", e.to_string()))?;
        let setup_link = setup::offer_if_needed(&services)
            .await
            .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", format!("cannot check for an admin: {e}")))?;

        let provider = Provider::new(services.clone());
        let created = crate::oidc::signing_keys::ensure(&provider)
            .await
            .map_err(|e| ConfigError::new("TESSERA_SECRET_KEY", format!("cannot prepare signing keys: {e}")))?;
        for (kid, alg) in created {
            tracing::info!(kid = %kid, alg = alg.as_str(), "signing key created");
        }
        crate::oidc::console::ensure_client(&services)
            .await
            .map_err(|e| ConfigError::new("TESSERA_DATABASE_URL", format!("cannot register the console: {e}")))?;

        let (shutdown, stop) = watch::channel(false);
        let logouts =
            tokio::spawn(crate::oidc::backchannel::Worker::new(provider.clone(), options.mail_poll).run(stop.clone()));
        let purge = tokio::spawn(crate::oidc::purge::run(services.clone(), stop.clone()));
        let access_ends = tokio::spawn(crate::accounts::access_ends::run(services.clone(), stop.clone()));
        let settings = tokio::spawn(crate::settings::run(services.clone(), stop.clone()));
        let worker = Worker {
            svc: services.clone(),
            transport,
            poll: options.mail_poll,
        };
        let worker = tokio::spawn(worker.run(stop.clone()));
        let mut stop_http = stop;
        let http = tokio::spawn(http::serve(listener, provider, async move {
            let _ = stop_http.wait_for(|stopped| *stopped).await;
        }));
        Ok(Self {
            addr,
            setup_link,
            services,
            shutdown,
            http,
            worker,
            logouts,
            purge,
            access_ends,
            settings,
        })
    }

    /// Stops accepting connections; requests in flight finish.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    pub async fn wait(self) -> std::io::Result<()> {
        let served = self.http.await.map_err(std::io::Error::other)?;
        let _ = self.worker.await;
        let _ = self.logouts.await;
        let _ = self.purge.await;
        let _ = self.access_ends.await;
        let _ = self.settings.await;
        self.services.store.close().await;
        served
    }
}
