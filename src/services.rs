//! What the domain needs to do its work, shared by the HTTP server and the CLI.
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretKey;
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub secret: SecretKey,
    /// Wakes this node's mail worker when mail is queued (other nodes find it by polling).
    pub mail_wake: Arc<Notify>,
    pub limits: Arc<crate::limits::Limits>,
    /// Group commit for audit events written outside another transaction.
    pub audit: Arc<crate::audit::batch::Batcher>,
    /// The WebAuthn relying party; None when the issuer's host is an IP address.
    pub passkeys: Option<Arc<webauthn_rs::prelude::Webauthn>>,
    /// The console's settings as this node last read them (`settings::refresh`).
    pub settings: Arc<crate::model::settings::SettingsCache>,
}

impl Services {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The settings in force (the configuration's, with the console's changes over
    /// them), as this node last read them.
    pub fn settings(&self) -> Arc<crate::model::settings::Settings> {
        self.settings.get()
    }
}
