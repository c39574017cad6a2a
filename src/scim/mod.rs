//! SCIM 2.0 (RFC 7643/7644): wire model, filter parser, PATCH, and the operations
//! behind `/scim/v2`. No HTTP here: handlers in `http/scim` call these.
pub mod bulk;
pub mod canonical;
pub mod clients;
mod error;
pub mod etag;
pub mod filter;
pub mod groups;
pub mod list;
pub mod patch;
pub mod rights;
pub mod schema;
pub mod user_json;
pub mod users;

pub use error::ScimError;

use crate::audit::{Actor, ActorKind, Event, Target};
use crate::model::query::Scope;
use uuid::Uuid;

/// The authenticated SCIM client making a request.
#[derive(Debug, Clone)]
pub struct ScimClient {
    pub id: Uuid,
    pub name: String,
    /// Empty: the whole directory. Otherwise only what is inside these groups.
    pub scope: Scope,
    pub rights: clients::ClientRights,
    /// The address the request came from, for audit events.
    pub source_ip: Option<String>,
}

impl ScimClient {
    pub fn actor(&self) -> Actor {
        Actor {
            kind: ActorKind::Scim,
            id: Some(self.id.to_string()),
            label: format!("scim:{}", self.name),
        }
    }

    /// This client, from the request's address, as the domain operations name it.
    pub fn by(&self) -> crate::accounts::users::By {
        crate::accounts::users::By {
            actor: self.actor(),
            source_ip: self.source_ip.clone(),
        }
    }

    /// An audit event by this client, from the request's address.
    pub fn event(&self, action: &'static str, target: Option<Target>) -> Event {
        Event::new(&self.actor(), action, target).from_ip(self.source_ip.clone())
    }
}

/// Where resources live, for `meta.location` and `$ref`.
pub fn base_url(issuer: &str) -> String {
    format!("{}/scim/v2", issuer.trim_end_matches('/'))
}

/// Parses a resource id from a path; an id that is not ours simply does not exist.
pub fn parse_id(id: &str, resource: schema::Resource) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found(format!("{} {id} not found", resource.name())))
}
