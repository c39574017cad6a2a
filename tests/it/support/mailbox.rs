//! What the tests of mail-sending flows share: a server with a real SMTP server on
//! loopback, the CLI with the server's settings, and the mail as received and as
//! `tessera user show` reports it.
use super::smtp::SmtpSink;
use super::{Backend, TestServer, eventually, json_of, run_cli, stderr_of};
use chrono::Duration;
use serde_json::Value;
use tessera::clock::Clock;

pub const ORGANISATION: &str = "Northside Clinics";

/// The CLI with the server's settings, as an admin runs it beside the server.
pub async fn cli(s: &TestServer, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    run_cli(
        &s.db.url,
        &s.data_dir(),
        args,
        stdin,
        &[("TESSERA_ORGANISATION_NAME", ORGANISATION)],
    )
    .await
}

pub async fn with_smtp(backend: Backend) -> (TestServer, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let s = TestServer::start_with(backend, |c| {
        c.smtp_url = Some(url);
        c.organisation_name = ORGANISATION.into();
    })
    .await;
    (s, sink)
}

pub async fn cli_ok(s: &TestServer, args: &[&str]) -> Value {
    let out = cli(s, args, None).await;
    assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    catch_up(s);
    json_of(&out)
}

/// The CLI runs on real time, the server on its test clock: brought level, so mail the
/// CLI queued is due for the server's worker.
pub fn catch_up(s: &TestServer) {
    let behind = chrono::Utc::now() - s.clock.now();
    if behind > Duration::zero() {
        // Whole milliseconds, so the clock stays on microseconds as PostgreSQL stores them.
        s.clock.advance(Duration::milliseconds(behind.num_milliseconds() + 1));
    }
}

pub async fn create(s: &TestServer, username: &str, email: &str) -> Value {
    cli_ok(
        s,
        &[
            "user",
            "create",
            "--username",
            username,
            "--email",
            email,
            "--given-name",
            "Camille",
        ],
    )
    .await
}

/// The decoded text of a received message (quoted-printable soft breaks and `=3D` undone).
pub fn decoded(data: &str) -> String {
    data.replace("=\r\n", "").replace("=3D", "=")
}

/// The invite link's path and query in the `n`th message the sink received.
pub async fn invite_path(sink: &SmtpSink, n: usize) -> String {
    link_path(sink, n, "/invite?token=").await
}

/// The path and query of the link starting `start` in the `n`th message the sink received.
pub async fn link_path(sink: &SmtpSink, n: usize, start: &str) -> String {
    eventually("the mail arrives", || async { sink.messages().len() > n }).await;
    let text = decoded(&sink.messages()[n].data);
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("a {start} link in the mail:\n{text}"));
    text[at..]
        .split(|c: char| c.is_whitespace() || c == '<' || c == '"')
        .next()
        .expect("link")
        .to_string()
}

/// The user's mail as `tessera user show` reports it, newest first. Only reads, so
/// the server's clock is left where it is.
pub async fn mail_of(s: &TestServer, username: &str) -> Vec<Value> {
    let out = cli(s, &["user", "show", username], None).await;
    assert!(out.status.success(), "user show: {}", stderr_of(&out));
    json_of(&out)["mail"].as_array().expect("mail history").clone()
}
