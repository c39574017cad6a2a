//! The `tessera` command: `serve`, and admin commands that work beside a running
//! server on the same database. Admin commands print one JSON object on stdout;
//! on error they print one line on stderr and exit non-zero.
mod commands;
mod oidc;

use crate::app::{ServeOptions, Server};
use crate::clock::SystemClock;
use crate::config::{Config, LogFormat};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "Identity provider: SCIM 2.0, OpenID Connect, admin console"
)]
struct Cli {
    /// Configuration file (default: ./tessera.toml when present). Environment variables win over it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (applies migrations first unless --no-migrate).
    Serve {
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply database migrations.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(commands::UserCommand),
    /// Manage groups (clinics, sites, departments).
    #[command(subcommand)]
    Group(commands::GroupCommand),
    /// Mail settings.
    #[command(subcommand)]
    Mail(commands::MailCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(commands::AuditCommand),
    /// Register and manage SCIM clients (HR feeds, Entra ID, Okta).
    #[command(subcommand, name = "scim-client")]
    ScimClient(commands::ScimClientCommand),
    /// Register and manage OpenID Connect relying parties (the organisation's apps).
    #[command(subcommand)]
    Client(oidc::ClientCommand),
    /// Signing keys for ID and access tokens.
    #[command(subcommand)]
    Keys(oidc::KeysCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let serving = matches!(cli.command, Command::Serve { .. });
    init_logging(config.log_format, serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { no_migrate } => serve(config, !no_migrate).await,
            command => match commands::run(command, config).await {
                Ok(output) => {
                    print_json(&output.json);
                    match output.failure {
                        Some(message) => fail(&message),
                        None => ExitCode::SUCCESS,
                    }
                }
                Err(message) => fail(&message),
            },
        }
    })
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn print_json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
}

/// Logs go to stderr; the server logs at info, admin commands only warnings
/// (their stdout is the JSON result). RUST_LOG overrides.
fn init_logging(format: LogFormat, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if serving { "info,sqlx=warn,sea_orm=warn" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(config: Config, migrate: bool) -> ExitCode {
    let issuer = config.base_url();
    let options = ServeOptions {
        migrate,
        ..ServeOptions::default()
    };
    let server = match Server::start(config, Arc::new(SystemClock), options).await {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    tracing::info!(address = %server.addr, issuer = %issuer, "tessera is serving");
    if let Some(link) = &server.setup_link {
        // A secret: printed for the operator on stdout, never sent to the log.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "\nNo administrator can sign in yet. Open this link within 1 hour to create one\n\
             (it works once; restart to get a new one):\n\n    {link}\n"
        );
        let _ = out.flush();
    }
    wait_for_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    server.shutdown();
    match server.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("server stopped with an error: {e}")),
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
