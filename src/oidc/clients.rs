//! Relying parties: registration by an admin, and client authentication at the
//! token, revocation and introspection endpoints.
use super::key_set::Alg;
use super::{OidcError, SCOPES, is_scope_token, request_limits, scope_list};
use crate::audit::{self, Actor, Event, Target};
use crate::crypto::{random_token, token_hash};
use crate::oidc::Provider;
use crate::store::{self, StoreError};
use uuid::Uuid;

pub use crate::store::oidc_clients::ClientRecord as Client;

pub const AUTHORIZATION_CODE: &str = "authorization_code";
pub const REFRESH_TOKEN: &str = "refresh_token";
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

impl Client {
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }

    pub fn id_token_alg(&self) -> Alg {
        Alg::parse(&self.id_token_alg).unwrap_or(Alg::RS256)
    }

    /// Redirect URIs compare exactly (OAuth 2.1 §4.1.1), except that a loopback URI's
    /// port may vary for native apps (RFC 8252 §7.3).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|r| r == uri || same_loopback_except_port(r, uri))
    }
}

fn same_loopback_except_port(registered: &str, given: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(given)) else {
        return false;
    };
    let loopback = |u: &url::Url| u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1") | Some("[::1]"));
    loopback(&a)
        && loopback(&b)
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
        && a.port().is_none()
}

#[derive(Debug, Default, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub post_logout_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub extra_grants: Vec<String>,
    pub consent: bool,
    pub groups: Vec<String>,
    pub id_token_alg: Option<String>,
    pub pkce_optional: bool,
    /// Public keys (a JWK Set): the client authenticates with private_key_jwt, no secret.
    pub jwks: Option<serde_json::Value>,
    /// What client_credentials may grant (each may hold several, space-separated).
    pub scopes: Vec<String>,
    /// A resource server: may introspect access tokens issued to other clients.
    pub introspect: bool,
}

/// Absolute, no fragment, and https unless it is loopback; a native app's private
/// scheme (`com.example.app:/cb`) is allowed for public clients.
pub(super) fn check_uri(uri: &str, what: &str, public: bool) -> Result<(), OidcError> {
    let bad = |why: &str| OidcError::invalid_request(format!("{what} '{uri}' {why}"));
    let parsed = url::Url::parse(uri).map_err(|_| bad("is not an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if matches!(parsed.host_str(), Some("localhost") | Some("127.0.0.1") | Some("[::1]")) => Ok(()),
        "http" => Err(bad("must use https (http is allowed only for localhost)")),
        _ if public && parsed.scheme().contains('.') => Ok(()),
        _ => Err(bad("has a scheme Tessera does not redirect to")),
    }
}

/// The scopes a client_credentials client is registered with: scope-tokens, none of them
/// one of Tessera's user scopes, together no longer than a request's `scope` may be.
fn registered_scopes(given: &[String], client_credentials: bool) -> Result<Vec<String>, OidcError> {
    let scopes = scope_list(&given.join(" "));
    if scopes.is_empty() {
        return Ok(scopes);
    }
    if !client_credentials {
        return Err(OidcError::invalid_request(
            "--scope is what client_credentials may grant: add --grant client_credentials",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| !is_scope_token(s)) {
        return Err(OidcError::invalid_request(format!(
            "scope '{bad}' may hold only printable ASCII other than \" and \\"
        )));
    }
    if let Some(user) = scopes.iter().find(|s| SCOPES.contains(&s.as_str())) {
        return Err(OidcError::invalid_request(format!(
            "scope '{user}' is about a user: client_credentials cannot grant it"
        )));
    }
    if scopes.join(" ").len() > request_limits::SCOPE {
        return Err(OidcError::invalid_request(format!(
            "the scopes together must fit in {} bytes",
            request_limits::SCOPE
        )));
    }
    Ok(scopes)
}

/// 22 letters and digits (about 131 bits): an id starting with '-' would read as an
/// option on the command line (`tessera client delete ID`).
fn new_client_id() -> String {
    let mut id = String::new();
    while id.len() < 22 {
        id.extend(random_token().chars().filter(char::is_ascii_alphanumeric));
    }
    id.truncate(22);
    id
}

/// Registers a client; returns it and its secret (shown once; only its hash is kept).
pub async fn create(svc: &Provider, actor: &Actor, new: NewClient) -> Result<(Client, Option<String>), OidcError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(OidcError::invalid_request("a client needs a name"));
    }
    for uri in &new.redirect_uris {
        check_uri(uri, "redirect URI", new.public)?;
    }
    for uri in &new.post_logout_uris {
        check_uri(uri, "post-logout URI", new.public)?;
    }
    if let Some(uri) = &new.backchannel_logout_uri {
        check_uri(uri, "back-channel logout URI", false)?;
    }
    let mut grants = Vec::new();
    if !new.redirect_uris.is_empty() {
        grants.extend([AUTHORIZATION_CODE.to_string(), REFRESH_TOKEN.to_string()]);
    }
    for g in &new.extra_grants {
        match g.as_str() {
            CLIENT_CREDENTIALS if new.public => {
                return Err(OidcError::invalid_request(
                    "a public client cannot use client_credentials",
                ));
            }
            AUTHORIZATION_CODE | REFRESH_TOKEN | CLIENT_CREDENTIALS => {
                if !grants.contains(g) {
                    grants.push(g.clone());
                }
            }
            other => return Err(OidcError::invalid_request(format!("unknown grant '{other}'"))),
        }
    }
    if grants.is_empty() {
        return Err(OidcError::invalid_request(
            "give the client a --redirect-uri, or --grant client_credentials",
        ));
    }
    let scopes = registered_scopes(&new.scopes, grants.iter().any(|g| g == CLIENT_CREDENTIALS))?;
    if new.introspect && new.public {
        return Err(OidcError::invalid_request("a public client cannot introspect tokens"));
    }
    let id_token_alg = match new.id_token_alg.as_deref() {
        None => Alg::RS256,
        Some(a) => Alg::parse(a).ok_or_else(|| {
            OidcError::invalid_request(format!("unknown ID token algorithm '{a}' (RS256, ES256 or EdDSA)"))
        })?,
    };
    if let Some(jwks) = &new.jwks {
        if new.public {
            return Err(OidcError::invalid_request("a public client has no keys to register"));
        }
        super::jwks::check(jwks).map_err(OidcError::invalid_request)?;
    }
    let c = svc.store.conn();
    let mut groups = Vec::new();
    for g in &new.groups {
        let group = store::groups::find_by_name(c, g)
            .await?
            .ok_or_else(|| OidcError::invalid_request(format!("no group named '{g}'")))?;
        groups.push(group.id);
    }
    let secret = (!new.public && new.jwks.is_none()).then(random_token);
    let client = Client {
        id: new_client_id(),
        name: name.to_string(),
        secret_hash: secret.as_deref().map(token_hash),
        public: new.public,
        redirect_uris: new.redirect_uris,
        post_logout_uris: new.post_logout_uris,
        backchannel_logout_uri: new.backchannel_logout_uri,
        grants,
        consent: new.consent,
        // Public clients always need PKCE; confidential ones unless an admin says otherwise.
        pkce_required: new.public || !new.pkce_optional,
        id_token_alg: id_token_alg.as_str().to_string(),
        limited_to_groups: !groups.is_empty(),
        groups,
        created_at: svc.now(),
        jwks: new.jwks,
        scopes,
        may_introspect: new.introspect,
    };
    let tx = svc.store.begin().await?;
    store::oidc_clients::insert(&tx, &client).await?;
    audit::record(
        &tx,
        &Event::new(actor, "client.create", Some(Target::client(&client.id, &client.name))).with_detail(
            serde_json::json!({
                "public": client.public,
                "grants": client.grants,
                "redirect_uris": client.redirect_uris,
                "scopes": client.scopes,
                "introspect": client.may_introspect,
            }),
        ),
        client.created_at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((client, secret))
}

/// The clients admins registered (the console's own is Tessera's, not theirs).
pub async fn list(svc: &Provider) -> Result<Vec<Client>, OidcError> {
    let mut all = store::oidc_clients::list(svc.store.conn()).await?;
    all.retain(|c| c.id != super::console::CLIENT_ID);
    Ok(all)
}

pub async fn delete(svc: &Provider, actor: &Actor, id: &str) -> Result<Client, OidcError> {
    if id == super::console::CLIENT_ID {
        return Err(OidcError::invalid_request(
            "the admin console's client is part of Tessera and cannot be deleted",
        ));
    }
    let tx = svc.store.begin().await?;
    let client = store::oidc_clients::find(&tx, id)
        .await?
        .ok_or_else(|| OidcError::invalid_request(format!("no client with id '{id}'")))?;
    store::oidc_clients::delete(&tx, id).await?;
    audit::record(
        &tx,
        &Event::new(actor, "client.delete", Some(Target::client(&client.id, &client.name))),
        svc.now(),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    svc.clients.forget(id);
    Ok(client)
}

/// The client as stored now; for checking tokens, where a deleted client must count at once.
pub async fn find(svc: &Provider, id: &str) -> Result<Option<Client>, OidcError> {
    Ok(store::oidc_clients::find(svc.store.reader(), id).await?)
}

/// The client as stored at most a second ago (`client_cache`); for authenticating
/// requests and sign-in steps.
pub async fn lookup(svc: &Provider, id: &str) -> Result<Option<Client>, OidcError> {
    if let Some(client) = svc.clients.get(id) {
        return Ok(Some(client));
    }
    let client = find(svc, id).await?;
    if let Some(c) = &client {
        svc.clients.put(c);
    }
    Ok(client)
}

/// Whether `user` may use `client`: clients limited to groups admit only their members.
pub async fn admits(svc: &Provider, client: &Client, user_id: Uuid) -> Result<bool, OidcError> {
    // The flag, not the list: a client whose groups were all deleted admits no one.
    if !client.limited_to_groups {
        return Ok(true);
    }
    let groups = store::groups::of_user(svc.store.reader(), user_id).await?;
    Ok(groups.iter().any(|(id, _)| client.groups.contains(id)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_ids_are_22_letters_and_digits() {
        for _ in 0..2000 {
            let id = super::new_client_id();
            assert_eq!(id.len(), 22, "{id}");
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        }
    }
}
