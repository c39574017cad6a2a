//! Admin commands. Each returns the JSON object to print.
use super::Command;
use crate::accounts::users::{self, By, InitialPassword, NewUser};
use crate::accounts::{AccountsError, UserSummary};
use crate::accounts::{invites, resets, second_factor};
use crate::app;
use crate::audit::{self, Actor, Event};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::directory;
use crate::json::JsonFields;
use crate::mail::transport::Transport;
use crate::mail::worker::{self, Worker};
use crate::mail::{self, MailStatus, TestMailHtml, TestMailText};
use crate::oidc::Provider;
use crate::scim::clients;
use crate::services::Services;
use crate::store::StoreError;
use clap::Subcommand;
use serde_json::{Value, json};
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. With neither password option the user has no password yet.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        given_name: Option<String>,
        #[arg(long)]
        family_name: Option<String>,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "temporary_password")]
        password_stdin: bool,
        /// Generate a temporary password, print it once; it must be changed at first sign-in.
        #[arg(long)]
        temporary_password: bool,
    },
    /// List users.
    List,
    /// One user: profile, state, groups, and the mail they were sent with what became
    /// of each link (queued, sent, failed with the reason; opened, accepted, expired, voided).
    Show { username: String },
    /// Send a user without a password a new invite; older invite links stop working.
    Invite { username: String },
    /// Give a user a new way in: a temporary password (printed once; changed at the next
    /// sign-in; stops working unused after TESSERA_TEMPORARY_PASSWORD_LIFETIME_HOURS), or
    /// a reset link by mail. Either ends the user's sessions and unlocks the account.
    #[command(group(clap::ArgGroup::new("how").required(true).args(["temporary", "link"])))]
    ResetPassword {
        username: String,
        /// Generate a temporary password and print it once.
        #[arg(long)]
        temporary: bool,
        /// With --temporary: mail the user their access information too.
        #[arg(long, requires = "temporary", conflicts_with = "link")]
        mail: bool,
        /// Mail the user a link to choose a new password instead.
        #[arg(long)]
        link: bool,
    },
    /// End a user's lockout at once, in every browser.
    Unlock { username: String },
    /// Remove a user's authenticator app and recovery codes (a lost phone): they set up
    /// a new one at their next sign-in where a second factor is required.
    #[command(name = "reset-2fa")]
    Reset2fa { username: String },
    /// Disable a user (reversible): sign-in refused, unsent mail cancelled.
    Disable { username: String },
    /// Enable a disabled user again.
    Enable { username: String },
    /// Delete a user for good; frees the username and email at once.
    Delete { username: String },
}

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Create {
        name: String,
        /// Members must sign in with a second factor (and set one up at their next sign-in).
        #[arg(long)]
        require_2fa: bool,
    },
    /// Change a group's settings.
    Set {
        name: String,
        /// Whether members must sign in with a second factor.
        #[arg(long, action = clap::ArgAction::Set, value_name = "true|false")]
        require_2fa: bool,
    },
    /// Add a user to a group.
    AddMember {
        group: String,
        username: String,
        /// Make the user an admin of this group.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// Send a test message through the outbox, to check the mail settings.
    Test {
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// The newest events first.
    List {
        /// Only events about this target id (a user or group id).
        #[arg(long)]
        target: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

#[derive(Subcommand)]
pub enum ScimClientCommand {
    /// Register a client; prints its bearer token once.
    Create {
        #[arg(long)]
        name: String,
        /// Limit the client to users and groups inside this group (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Allow it to change the password, state, sign-in names or existence of users
        /// who hold admin rights (off: such changes are refused with 403).
        #[arg(long)]
        manage_admins: bool,
        /// Allow it to set passwords (Okta password sync); off: a password is refused with 403.
        #[arg(long)]
        set_passwords: bool,
        /// Send no invite mail to the users it creates (they sign in elsewhere).
        #[arg(long)]
        no_invites: bool,
    },
    /// Revoke a client's token: its requests fail from now on.
    Revoke { name: String },
    /// List clients with their last use.
    List,
    /// The client's recent requests, newest first: method, path, status, error, what changed.
    Log {
        name: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

/// What a command prints, and a message when it must exit non-zero anyway.
pub struct Output {
    pub json: Value,
    pub failure: Option<String>,
}

impl From<Value> for Output {
    fn from(json: Value) -> Self {
        Self { json, failure: None }
    }
}

pub async fn run(command: Command, config: Config) -> Result<Output, String> {
    let svc = app::open(config, Arc::new(SystemClock), true)
        .await
        .map_err(|e| e.to_string())?;
    let actor = Actor::cli();
    let result = match command {
        Command::Migrate => Ok(json!({ "migrated": true, "pending": 0 }).into()),
        Command::User(cmd) => user(&svc, &actor, cmd).await.map(Output::from),
        Command::Group(cmd) => group(&svc, &actor, cmd).await.map(Output::from),
        Command::Mail(MailCommand::Test { to }) => mail_test(&svc, &actor, &to).await,
        Command::Audit(AuditCommand::List { target, limit }) => {
            audit::recent(svc.store.conn(), target.as_deref(), limit.min(1000))
                .await
                .map(|events| json!({ "events": events }).into())
                .map_err(|e| e.to_string())
        }
        Command::ScimClient(cmd) => scim_client(&svc, &actor, cmd).await.map(Output::from),
        Command::Client(cmd) => super::oidc::client(&Provider::new(svc.clone()), &actor, cmd)
            .await
            .map(Output::from),
        Command::Keys(cmd) => super::oidc::keys(&Provider::new(svc.clone()), &actor, cmd)
            .await
            .map(Output::from),
        Command::Serve { .. } => Err("serve is not an admin command".into()),
    };
    svc.store.close().await;
    result
}

async fn user(svc: &Services, actor: &Actor, cmd: UserCommand) -> Result<Value, String> {
    let now = svc.now();
    let summary = |u: &crate::accounts::User| serde_json::to_value(UserSummary::of(u, now)).unwrap_or(Value::Null);
    match cmd {
        UserCommand::Create {
            username,
            email,
            given_name,
            family_name,
            admin,
            password_stdin,
            temporary_password,
        } => {
            let initial = if password_stdin {
                InitialPassword::Chosen(read_password()?)
            } else if temporary_password {
                InitialPassword::Temporary
            } else {
                InitialPassword::None
            };
            let new = NewUser {
                username,
                email: Some(email),
                given_name,
                family_name,
                admin,
            };
            let created = users::create(svc, actor, new, initial)
                .await
                .map_err(|e| e.to_string())?;
            let mut out = json!({
                "id": created.user.id,
                "username": created.user.username,
                "email": created.user.email,
                "role": created.user.role,
                "state": created.user.state(now),
                "must_change_password": created.user.must_change_password,
            });
            if let Some(p) = created.temporary_password {
                out.set("temporary_password", Value::String(p));
            }
            if let Some(invite) = created.invitation {
                out.set("invitation", json!(invite));
            }
            Ok(out)
        }
        UserCommand::Show { username } => {
            let user = users::find(svc, &username).await.map_err(|e| e.to_string())?;
            let groups = directory::groups_of(svc, user.id).await.map_err(|e| e.to_string())?;
            let mails = mail::history(svc, user.id, 50).await.map_err(|e| e.to_string())?;
            let mut out = summary(&user);
            out.set("groups", json!(groups));
            out.set("mail", json!(mails));
            Ok(out)
        }
        UserCommand::Invite { username } => invites::resend(svc, &By::new(actor), &username)
            .await
            .map(|i| json!(i))
            .map_err(|e| e.to_string()),
        UserCommand::ResetPassword {
            username,
            temporary,
            mail,
            link: _,
        } => {
            let by = By::new(actor);
            if !temporary {
                return resets::mail_link(svc, &by, &username)
                    .await
                    .map(|l| json!({ "reset_link": l }))
                    .map_err(|e| e.to_string());
            }
            let t = resets::temporary(svc, &by, &username, mail)
                .await
                .map_err(|e| e.to_string())?;
            let mut out = summary(&t.user);
            out.set("temporary_password", Value::String(t.password));
            out.set("temporary_password_expires_at", json!(t.expires_at));
            if let Some(id) = t.mail_id {
                out.set("mail", json!({ "id": id, "to": t.user.email }));
            }
            Ok(out)
        }
        UserCommand::Unlock { username } => resets::unlock(svc, &By::new(actor), &username)
            .await
            .map(|u| summary(&u))
            .map_err(|e| e.to_string()),
        UserCommand::Reset2fa { username } => {
            let user = users::find(svc, &username).await.map_err(|e| e.to_string())?;
            let removed = second_factor::reset(svc, &user, &By::new(actor))
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "username": user.username,
                "authenticator_removed": removed.authenticator,
                "passkeys_removed": removed.passkeys,
            }))
        }
        UserCommand::List => {
            let all = users::list(svc).await.map_err(|e| e.to_string())?;
            Ok(json!({ "users": all.iter().map(summary).collect::<Vec<_>>() }))
        }
        UserCommand::Disable { username } => users::set_active(svc, actor, &username, false)
            .await
            .map(|u| summary(&u))
            .map_err(|e| e.to_string()),
        UserCommand::Enable { username } => users::set_active(svc, actor, &username, true)
            .await
            .map(|u| summary(&u))
            .map_err(|e| e.to_string()),
        UserCommand::Delete { username } => users::delete(svc, actor, &username)
            .await
            .map(|u| json!({ "id": u.id, "username": u.username, "deleted": true }))
            .map_err(|e| e.to_string()),
    }
}

async fn scim_client(svc: &Services, actor: &Actor, cmd: ScimClientCommand) -> Result<Value, String> {
    match cmd {
        ScimClientCommand::Create {
            name,
            groups,
            manage_admins,
            set_passwords,
            no_invites,
        } => {
            let rights = clients::ClientRights {
                manage_admins,
                set_passwords,
                no_invites,
            };
            let (client, token) = clients::create(svc, actor, &name, &groups, rights)
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "id": client.id, "name": client.name, "token": token, "groups": groups,
                "manage_admins": manage_admins, "set_passwords": set_passwords, "no_invites": no_invites,
            }))
        }
        ScimClientCommand::Revoke { name } => clients::revoke(svc, actor, &name)
            .await
            .map(|c| json!({ "id": c.id, "name": c.name, "revoked_at": c.revoked_at }))
            .map_err(|e| e.to_string()),
        ScimClientCommand::List => clients::list(svc)
            .await
            .map(|all| json!({ "clients": all }))
            .map_err(|e| e.to_string()),
        ScimClientCommand::Log { name, limit } => clients::log(svc, &name, limit.min(1000))
            .await
            .map(|(c, requests)| json!({ "client": c.name, "requests": requests }))
            .map_err(|e| e.to_string()),
    }
}

/// One line from stdin, without its line ending; policy is checked by the domain.
fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(AccountsError::WeakPassword("none given on stdin".into()).to_string());
    }
    Ok(password)
}

async fn group(svc: &Services, actor: &Actor, cmd: GroupCommand) -> Result<Value, String> {
    match cmd {
        GroupCommand::Create { name, require_2fa } => {
            let g = directory::create_group(svc, actor, &name)
                .await
                .map_err(|e| e.to_string())?;
            if require_2fa {
                directory::set_require_2fa(svc, actor, &g.display_name, true)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(json!({ "id": g.id, "name": g.display_name, "require_2fa": require_2fa }))
        }
        GroupCommand::Set { name, require_2fa } => directory::set_require_2fa(svc, actor, &name, require_2fa)
            .await
            .map(|g| json!({ "id": g.id, "name": g.display_name, "require_2fa": require_2fa }))
            .map_err(|e| e.to_string()),
        GroupCommand::AddMember { group, username, admin } => {
            directory::add_member(svc, actor, &group, &username, admin)
                .await
                .map(|m| json!(m))
                .map_err(|e| e.to_string())
        }
    }
}

/// Queues a test mail claimed by this command, makes one delivery attempt through the
/// settings this command sees, and reports the outcome. Should the attempt fail
/// transiently, a running server retries it once the claim lapses.
async fn mail_test(svc: &Services, actor: &Actor, to: &str) -> Result<Output, String> {
    let issuer = svc.config.base_url();
    let message = mail::render(
        "Tessera test message",
        &TestMailText { issuer: &issuer },
        &TestMailHtml { issuer: &issuer },
    )
    .map_err(|e| e.to_string())?;
    let now = svc.now();
    let queued = async {
        let tx = svc.store.begin().await?;
        let queued = mail::queue_claimed(&tx, now, now + worker::claim_lease(), "test", to, message).await?;
        audit::record(
            &tx,
            &Event::new(actor, "mail.test", None).with_detail(json!({ "to": to, "mail_id": queued.id })),
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok::<_, mail::MailError>(queued)
    }
    .await
    .map_err(|e| e.to_string())?;

    let transport = Transport::from_config(&svc.config)?;
    let transport_name = transport.describe();
    let sender = Worker {
        svc: svc.clone(),
        transport,
        poll: Duration::from_secs(5),
    };
    let after = sender
        .send_claimed(queued.clone())
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or(queued);
    let json = json!({
        "id": after.id,
        "to": after.to_address,
        "transport": transport_name,
        "status": after.status,
        "attempts": after.attempts,
        "last_error": after.last_error,
    });
    let failure = match after.status {
        MailStatus::Sent => None,
        MailStatus::Queued => Some(format!(
            "not delivered yet ({}); a running server will retry",
            after.last_error.as_deref().unwrap_or("unknown error")
        )),
        _ => Some(format!(
            "not delivered: {}",
            after.last_error.as_deref().unwrap_or("unknown error")
        )),
    };
    Ok(Output { json, failure })
}
