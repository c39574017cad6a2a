//! The signing keys every node uses, loaded from the database and refreshed now and
//! then so a rotation made by `tessera keys rotate` reaches running servers.
use super::OidcError;
use super::key_set::{self, Alg, KeySet, StoredKey};
use crate::json::JsonFields;
use crate::model::signing_key::SigningKey;
use crate::services::Services;
use crate::store;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// How often a node reloads the key set.
const RELOAD: Duration = Duration::from_secs(60);
/// A token naming a key this node has not loaded makes it reload, at most this often.
const RELOAD_ON_UNKNOWN_KID: Duration = Duration::from_secs(5);

/// How long after creation a rotated-in key starts signing, and how long a retired key
/// keeps signing: every node reloads within RELOAD, so by then every JWKS shows the
/// new key before any token signed by it reaches a relying party.
fn handover() -> chrono::Duration {
    chrono::Duration::seconds(RELOAD.as_secs() as i64)
}

/// A retired key stays in the JWKS until every token it signed has expired, counting
/// the handover and a node that loaded its key set just before the handover ended.
fn published_for() -> chrono::Duration {
    super::id_token_lifetime().max(super::access_token_lifetime()) + handover() + handover()
}

#[derive(Default)]
pub struct Keys {
    loaded: RwLock<Option<(Instant, Arc<KeySet>)>>,
}

impl Keys {
    pub async fn current(&self, svc: &Services) -> Result<Arc<KeySet>, OidcError> {
        if let Some((at, set)) = self.loaded.read().await.as_ref()
            && at.elapsed() < RELOAD
        {
            return Ok(set.clone());
        }
        let mut slot = self.loaded.write().await;
        if let Some((at, set)) = slot.as_ref()
            && at.elapsed() < RELOAD
        {
            return Ok(set.clone());
        }
        let set = Arc::new(load(svc).await?);
        *slot = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    /// Forgets the loaded set, so the next use reads the database.
    pub async fn invalidate(&self) {
        *self.loaded.write().await = None;
    }

    /// Checks a JWT signed by any node: a key id this node has not seen yet (another
    /// node rotated) makes it reload once before answering.
    pub async fn verify(
        &self,
        svc: &Services,
        token: &str,
    ) -> Result<Option<(jsonwebtoken::Header, Value)>, OidcError> {
        let set = self.current(svc).await?;
        if let Some(found) = set.verify(token) {
            return Ok(Some(found));
        }
        let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
        let stale = self
            .loaded
            .read()
            .await
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() >= RELOAD_ON_UNKNOWN_KID);
        match kid {
            Some(kid) if !set.knows(&kid) && stale => {
                self.invalidate().await;
                Ok(self.current(svc).await?.verify(token))
            }
            _ => Ok(None),
        }
    }
}

/// Every stored key, newest first (private parts still sealed).
pub async fn list(svc: &Services) -> Result<Vec<SigningKey>, OidcError> {
    Ok(store::signing_keys::list(svc.store.reader()).await?)
}

async fn load(svc: &Services) -> Result<KeySet, OidcError> {
    let rows = store::signing_keys::list(svc.store.conn()).await?;
    let now = svc.now();
    let published_after = now - published_for();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| r.retired_at.is_none_or(|at| at >= published_after))
        .collect();
    let signing = signing_kids(&rows, now);
    let mut stored = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(alg) = Alg::parse(&row.alg) else {
            continue;
        };
        let der = key_set::open(&svc.secret, &row.kid, &row.sealed)?;
        stored.push(StoredKey {
            signs: signing.contains(&row.kid),
            kid: row.kid,
            alg,
            der,
        });
    }
    KeySet::build(stored)
}

/// Per algorithm, the key that signs: the newest key old enough that every node
/// publishes it, else (first start) the newest key at all. A retired key is a
/// candidate only during the handover after its retirement.
pub fn signing_kids(rows: &[SigningKey], now: DateTime<Utc>) -> Vec<String> {
    let mut kids = Vec::new();
    for alg in Alg::ALL {
        let candidates: Vec<_> = rows
            .iter()
            .filter(|r| r.alg == alg.as_str())
            .filter(|r| r.retired_at.is_none_or(|at| at > now - handover()))
            .collect();
        // Rows come newest first.
        let settled = candidates.iter().find(|r| r.created_at <= now - handover());
        let newest_unretired = candidates.iter().find(|r| r.retired_at.is_none());
        if let Some(r) = settled.or(newest_unretired).or(candidates.first()) {
            kids.push(r.kid.clone());
        }
    }
    kids
}

/// Creates a key for each algorithm that has none in use (first start).
pub async fn ensure(svc: &Services) -> Result<Vec<(String, Alg)>, OidcError> {
    let rows = store::signing_keys::list(svc.store.conn()).await?;
    let mut created = Vec::new();
    for alg in Alg::ALL {
        if !rows.iter().any(|r| r.alg == alg.as_str() && r.retired_at.is_none()) {
            created.push(add(svc, alg).await?);
        }
    }
    Ok(created)
}

async fn add(svc: &Services, alg: Alg) -> Result<(String, Alg), OidcError> {
    let der = tokio::task::spawn_blocking(move || key_set::generate(alg))
        .await
        .map_err(|e| OidcError::Internal(e.to_string()))??;
    let kid = key_set::new_kid(alg);
    let sealed = key_set::seal(&svc.secret, &kid, &der)?;
    let public = KeySet::build(vec![StoredKey {
        kid: kid.clone(),
        alg,
        der,
        signs: true,
    }])?
    .jwks()
    .field("keys")
    .get(0)
    .cloned()
    .ok_or_else(|| OidcError::Internal("a new key has no JWK".into()))?;
    store::signing_keys::insert(svc.store.conn(), &kid, alg.as_str(), &sealed, &public, svc.now()).await?;
    Ok((kid, alg))
}

/// Adds a new key per algorithm and retires the old ones: they stay in the JWKS until
/// tokens they signed have expired, then are removed.
pub async fn rotate(svc: &Services, actor: &crate::audit::Actor) -> Result<Vec<(String, Alg)>, OidcError> {
    let now = svc.now();
    let c = svc.store.conn();
    store::signing_keys::remove_retired_before(c, now - published_for()).await?;
    let old = store::signing_keys::list(c).await?;
    // A second rotation inside the handover would make a key sign that some nodes
    // have not published yet. (A first start's keys sign at once; they retire fine.)
    let rotated_before = old.iter().any(|r| r.retired_at.is_some_and(|at| at > now - handover()));
    if rotated_before {
        return Err(OidcError::invalid_request(
            "the last rotation is still being handed over to every node: rotate again in two minutes",
        ));
    }
    let mut created = Vec::new();
    for alg in Alg::ALL {
        created.push(add(svc, alg).await?);
    }
    for row in old.iter().filter(|r| r.retired_at.is_none()) {
        store::signing_keys::retire(c, &row.kid, now).await?;
    }
    let added: Vec<_> = created
        .iter()
        .map(|(kid, alg)| serde_json::json!({ "kid": kid, "alg": alg.as_str() }))
        .collect();
    let event = crate::audit::Event::new(actor, "keys.rotate", None).with_detail(serde_json::json!({ "added": added }));
    crate::audit::record(c, &event, now).await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kid: &str, alg: Alg, created: DateTime<Utc>, retired: Option<DateTime<Utc>>) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            alg: alg.as_str().into(),
            sealed: Vec::new(),
            public_jwk: serde_json::json!({}),
            created_at: created,
            retired_at: retired,
        }
    }

    #[test]
    fn a_rotated_in_key_signs_only_after_the_handover() {
        let t0 = Utc::now();
        let first = vec![row("old", Alg::ES256, t0, None)];
        // First start: the only key signs at once.
        assert_eq!(signing_kids(&first, t0), vec!["old".to_string()]);

        // Rotation at t1: the new key is published, the old one keeps signing for now.
        let t1 = t0 + chrono::Duration::hours(5);
        let rotated = vec![row("new", Alg::ES256, t1, None), row("old", Alg::ES256, t0, Some(t1))];
        assert_eq!(signing_kids(&rotated, t1), vec!["old".to_string()]);
        assert_eq!(signing_kids(&rotated, t1 + handover() / 2), vec!["old".to_string()]);
        // Once every node has published it, the new key signs.
        assert_eq!(signing_kids(&rotated, t1 + handover()), vec!["new".to_string()]);
    }
}
