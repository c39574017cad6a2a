use sea_orm::entity::prelude::*;

/// A relying party registered by an admin. Only the secret's SHA-256 is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub public: bool,
    pub redirect_uris: Json,
    pub post_logout_uris: Json,
    pub backchannel_logout_uri: Option<String>,
    pub grants: Json,
    pub consent: bool,
    pub pkce_required: bool,
    pub id_token_alg: String,
    pub created_at: DateTimeUtc,
    /// Public keys (a JWK Set) for `private_key_jwt`; such a client has no secret.
    pub jwks: Option<Json>,
    /// The scopes client_credentials may grant it (a JSON array of strings).
    pub scopes: Json,
    /// A resource server: may introspect access tokens issued to other clients.
    pub may_introspect: bool,
    /// Limited to groups (those in oidc_client_groups; none left admits no one).
    pub limited_to_groups: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
