//! Registered clients kept in memory for a second. Every token request and every
//! sign-in step authenticates or looks up its client; on SQLite each lookup is a hop
//! to a database thread and back, which cost more than signing the token itself.
//!
//! Staleness is bounded: this node forgets a client it deletes at once, and another
//! process's change (the CLI, another node) is seen within `FRESH_FOR`. A deleted
//! client's grants go with it in the same transaction (foreign keys cascade), so its
//! codes and refresh tokens stop at once; only a client_credentials token could still
//! be issued within that second. Token checks (introspection, userinfo) do not use
//! this cache.
use super::clients::Client;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

const FRESH_FOR: Duration = Duration::from_secs(1);
/// Far above any organisation's number of applications; a bound against memory use
/// when many distinct client ids are tried.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<String, (Client, Instant)>>,
}

impl ClientCache {
    /// The client, when this node loaded it less than `FRESH_FOR` ago.
    pub fn get(&self, id: &str) -> Option<Client> {
        let entries = self.entries.read().ok()?;
        let (client, loaded) = entries.get(id)?;
        (loaded.elapsed() < FRESH_FOR).then(|| client.clone())
    }

    pub fn put(&self, client: &Client) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (_, loaded)| loaded.elapsed() < FRESH_FOR);
            }
            if entries.len() < MAX_ENTRIES {
                entries.insert(client.id.clone(), (client.clone(), Instant::now()));
            }
        }
    }

    pub fn forget(&self, id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> Client {
        Client {
            id: id.into(),
            name: "n".into(),
            secret_hash: None,
            public: true,
            redirect_uris: vec![],
            post_logout_uris: vec![],
            backchannel_logout_uri: None,
            grants: vec![],
            consent: false,
            pkce_required: true,
            id_token_alg: "RS256".into(),
            groups: vec![],
            created_at: chrono::Utc::now(),
            jwks: None,
            scopes: vec![],
            may_introspect: false,
            limited_to_groups: false,
        }
    }

    #[test]
    fn keeps_a_client_for_a_second_and_forgets_on_delete() {
        let cache = ClientCache::default();
        assert!(cache.get("a").is_none());
        cache.put(&client("a"));
        assert_eq!(cache.get("a").map(|c| c.id), Some("a".to_string()));
        cache.forget("a");
        assert!(cache.get("a").is_none());

        cache.put(&client("b"));
        if let Ok(mut e) = cache.entries.write()
            && let Some((_, loaded)) = e.get_mut("b")
        {
            *loaded = loaded.checked_sub(FRESH_FOR).unwrap_or(*loaded);
        }
        assert!(cache.get("b").is_none(), "an entry older than FRESH_FOR is reloaded");
    }
}
