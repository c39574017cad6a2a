//! What the OpenID provider works with: the services every layer shares, and the
//! provider's own caches, which nothing outside `oidc` needs to know of.
use super::Keys;
use super::client_cache::ClientCache;
use crate::services::Services;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct Provider {
    pub svc: Services,
    /// Token signing keys, loaded from the database on first use.
    pub keys: Arc<Keys>,
    /// Clients looked up in the last second (token requests and sign-in steps).
    pub clients: Arc<ClientCache>,
}

impl Provider {
    pub fn new(svc: Services) -> Self {
        Self {
            svc,
            keys: Arc::default(),
            clients: Arc::default(),
        }
    }
}

impl Deref for Provider {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.svc
    }
}
