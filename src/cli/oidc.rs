//! `tessera client …` (OpenID Connect relying parties) and `tessera keys …`.
use crate::audit::Actor;
use crate::json::JsonFields;
use crate::oidc::Provider;
use crate::oidc::clients::{self, Client, NewClient};
use crate::oidc::signing_keys;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a relying party; prints its client_id, and its secret once.
    Create {
        #[arg(long)]
        name: String,
        /// Where the sign-in answer goes (repeatable; exact match).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A public client (SPA, native app): no secret, PKCE always.
        #[arg(long)]
        public: bool,
        /// Where RP-initiated logout may send the browser (repeatable).
        #[arg(long = "post-logout-uri", value_name = "URI")]
        post_logout_uris: Vec<String>,
        /// Where a logout token is POSTed when a user's session ends.
        #[arg(long, value_name = "URI")]
        backchannel_logout_uri: Option<String>,
        /// An extra grant (repeatable): client_credentials for a service client.
        #[arg(long = "grant", value_name = "GRANT")]
        grants: Vec<String>,
        /// Ask users to consent before the first sign-in (for third-party apps).
        #[arg(long)]
        consent: bool,
        /// Only members of this group may sign in to the client (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// ID token signature: RS256 (default), ES256 or EdDSA.
        #[arg(long, value_name = "ALG")]
        id_token_alg: Option<String>,
        /// Let this confidential client skip PKCE (for old relying parties).
        #[arg(long)]
        pkce_optional: bool,
        /// A JSON file with the client's public keys (a JWK Set): it then authenticates
        /// with private_key_jwt and gets no secret.
        #[arg(long, value_name = "FILE")]
        jwks: Option<std::path::PathBuf>,
        /// A scope client_credentials may grant this client (repeatable); it gets no other.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A resource server: may introspect access tokens issued to other clients.
        #[arg(long)]
        introspect: bool,
    },
    /// List relying parties.
    List,
    /// Delete a relying party: its grants and tokens stop working.
    Delete {
        // Ids made before letters-and-digits-only ids may start with '-'.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add new signing keys; the old ones stay published until their tokens expire.
    Rotate,
    /// The signing keys, newest first.
    List,
}

fn describe(c: &Client) -> Value {
    json!({
        "client_id": c.id,
        "name": c.name,
        "public": c.public,
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_uris,
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "grant_types": c.grants,
        "consent": c.consent,
        "pkce_required": c.pkce_required,
        "token_endpoint_auth_method": auth_method(c),
        "id_token_signed_response_alg": c.id_token_alg,
        "scopes": c.scopes,
        "introspect": c.may_introspect,
        "created_at": c.created_at,
    })
}

fn auth_method(c: &Client) -> &'static str {
    match (c.public, &c.jwks) {
        (true, _) => "none",
        (false, Some(_)) => "private_key_jwt",
        (false, None) => "client_secret_basic",
    }
}

pub async fn client(svc: &Provider, actor: &Actor, cmd: ClientCommand) -> Result<Value, String> {
    match cmd {
        ClientCommand::Create {
            name,
            redirect_uris,
            public,
            post_logout_uris,
            backchannel_logout_uri,
            grants,
            consent,
            groups,
            id_token_alg,
            pkce_optional,
            jwks,
            scopes,
            introspect,
        } => {
            let jwks = match jwks {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| format!("--jwks: cannot read {}: {e}", path.display()))?;
                    Some(
                        serde_json::from_str::<Value>(&text)
                            .map_err(|e| format!("--jwks: {} is not JSON: {e}", path.display()))?,
                    )
                }
                None => None,
            };
            let new = NewClient {
                name,
                redirect_uris,
                public,
                post_logout_uris,
                backchannel_logout_uri,
                extra_grants: grants,
                consent,
                groups,
                id_token_alg,
                pkce_optional,
                jwks,
                scopes,
                introspect,
            };
            let (client, secret) = clients::create(svc, actor, new).await.map_err(|e| e.to_string())?;
            let mut out = describe(&client);
            out.set("client_secret", secret.map(Value::String).unwrap_or(Value::Null));
            Ok(out)
        }
        ClientCommand::List => clients::list(svc)
            .await
            .map(|all| json!({ "clients": all.iter().map(describe).collect::<Vec<_>>() }))
            .map_err(|e| e.to_string()),
        ClientCommand::Delete { client_id } => clients::delete(svc, actor, &client_id)
            .await
            .map(|c| json!({ "client_id": c.id, "name": c.name, "deleted": true }))
            .map_err(|e| e.to_string()),
    }
}

pub async fn keys(svc: &Provider, actor: &Actor, cmd: KeysCommand) -> Result<Value, String> {
    match cmd {
        KeysCommand::Rotate => {
            let created = signing_keys::rotate(svc, actor).await.map_err(|e| e.to_string())?;
            let added: Vec<_> = created
                .iter()
                .map(|(kid, alg)| json!({ "kid": kid, "alg": alg.as_str() }))
                .collect();
            Ok(json!({ "added": added, "note": "running servers start signing with the new keys within 2 minutes" }))
        }
        KeysCommand::List => {
            let rows = signing_keys::list(svc).await.map_err(|e| e.to_string())?;
            let keys: Vec<_> = rows
                .iter()
                .map(|r| json!({ "kid": r.kid, "alg": r.alg, "created_at": r.created_at, "retired_at": r.retired_at }))
                .collect();
            Ok(json!({ "keys": keys }))
        }
    }
}
