//! Audit events as the domain writes them and the store gives them back.
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    Cli,
    Admin,
    User,
    Scim,
    Client,
    System,
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Cli => "cli",
            ActorKind::Admin => "admin",
            ActorKind::User => "user",
            ActorKind::Scim => "scim",
            ActorKind::Client => "client",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub label: String,
}

impl Actor {
    /// The command line, labelled with the operating-system user who ran it.
    pub fn cli() -> Self {
        let who = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        Self {
            kind: ActorKind::Cli,
            id: None,
            label: format!("cli:{who}"),
        }
    }

    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            label: "tessera".into(),
        }
    }

    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: None,
            label: "anonymous".into(),
        }
    }

    /// An OpenID Connect client acting for itself (client_credentials, revocation).
    pub fn client(id: &str, name: &str) -> Self {
        Self {
            kind: ActorKind::Client,
            id: Some(id.to_string()),
            label: name.to_string(),
        }
    }

    pub fn user(id: uuid::Uuid, username: &str) -> Self {
        Self {
            kind: ActorKind::User,
            id: Some(id.to_string()),
            label: username.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub kind: &'static str,
    pub id: String,
    pub label: String,
}

impl Target {
    pub fn user(id: uuid::Uuid, username: &str) -> Self {
        Self {
            kind: "user",
            id: id.to_string(),
            label: username.to_string(),
        }
    }

    pub fn group(id: uuid::Uuid, name: &str) -> Self {
        Self {
            kind: "group",
            id: id.to_string(),
            label: name.to_string(),
        }
    }

    pub fn client(id: &str, name: &str) -> Self {
        Self {
            kind: "client",
            id: id.to_string(),
            label: name.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub actor: Actor,
    pub action: &'static str,
    pub target: Option<Target>,
    pub outcome: Outcome,
    pub source_ip: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl Event {
    pub fn new(actor: &Actor, action: &'static str, target: Option<Target>) -> Self {
        Self {
            actor: actor.clone(),
            action,
            target,
            outcome: Outcome::Success,
            source_ip: None,
            detail: None,
        }
    }

    pub fn failed(mut self) -> Self {
        self.outcome = Outcome::Failure;
        self
    }

    pub fn from_ip(mut self, ip: Option<String>) -> Self {
        self.source_ip = ip;
        self
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// An event as read back.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub target_label: Option<String>,
    pub source_ip: Option<String>,
    pub outcome: String,
    pub detail: Option<serde_json::Value>,
}

/// The console's audit log view: every part optional, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Part of the actor's name, or its exact id.
    pub actor: Option<String>,
    /// Part of the target's name, or its exact id.
    pub target: Option<String>,
    /// An action (`user.disable`), or a family of them ending in a dot (`user.`).
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Older than this event: the next page.
    pub before_id: Option<i64>,
    pub limit: u64,
}
