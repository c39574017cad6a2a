//! Mail delivery through the real interfaces: the CLI creates a user, which mails an
//! invite; a real SMTP server on loopback receives it (or is down); `tessera user show`
//! reports each mail's state, attempts and the server's reason.
use crate::on_each_backend;
use crate::support::mailbox::{cli, cli_ok, create, mail_of, with_smtp};
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestServer, eventually, stderr_of};
use chrono::{DateTime, Duration, Utc};

on_each_backend!(
    queued_mail_is_delivered_over_smtp,
    mail_is_retried_until_smtp_is_back_and_sent_once,
    mail_goes_only_to_active_users_with_an_address,
);

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

async fn queued_mail_is_delivered_over_smtp(backend: Backend) {
    let (s, sink) = with_smtp(backend).await;
    create(&s, "nurse.camille", "nurse@clinic.example").await;
    eventually("mail sent", || async {
        mail_of(&s, "nurse.camille").await[0]["status"] == "sent"
    })
    .await;
    let sent = &mail_of(&s, "nurse.camille").await[0];
    assert_eq!(sent["attempts"], 1);
    assert!(sent["sent_at"].is_string());
    assert_eq!(sent["last_error"], serde_json::Value::Null);
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["nurse@clinic.example"]);
    assert!(
        got[0]
            .data
            .contains("Subject: Northside Clinics: your account is ready")
    );
    assert!(got[0].data.contains("multipart/alternative"), "text and HTML parts");
    s.stop().await;
}

async fn mail_is_retried_until_smtp_is_back_and_sent_once(backend: Backend) {
    let port = SmtpSink::free_port().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let s = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await;
    create(&s, "nurse.camille", "nurse@clinic.example").await;

    // SMTP is down: the attempt fails, the mail stays queued with the reason and a retry time.
    eventually("first attempt fails", || async {
        let m = &mail_of(&s, "nurse.camille").await[0];
        m["attempts"] == 1 && m["status"] == "queued" && m["last_error"].is_string()
    })
    .await;
    let waiting = mail_of(&s, "nurse.camille").await[0].clone();
    assert_eq!(time(&waiting["next_attempt_at"]), s.svc.now() + Duration::seconds(30));

    // Not retried before its time, however often the worker looks.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mail_of(&s, "nurse.camille").await[0]["attempts"], 1);

    let sink = SmtpSink::start_on(port).await;
    s.clock.advance(Duration::seconds(31));
    eventually("mail sent once SMTP is back", || async {
        mail_of(&s, "nurse.camille").await[0]["status"] == "sent"
    })
    .await;
    let sent = mail_of(&s, "nurse.camille").await[0].clone();
    assert_eq!(sent["attempts"], 2);
    assert_eq!(sent["last_error"], serde_json::Value::Null);

    // Time passes and the worker keeps polling: the mail is never sent again.
    s.clock.advance(Duration::hours(2));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
    s.stop().await;
}

async fn mail_goes_only_to_active_users_with_an_address(backend: Backend) {
    // SMTP down, so the invite is still waiting when the user is disabled.
    let port = SmtpSink::free_port().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let s = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await;
    create(&s, "nurse.camille", "nurse@clinic.example").await;
    cli_ok(&s, &["user", "disable", "nurse.camille"]).await;
    let cancelled = &mail_of(&s, "nurse.camille").await[0];
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["last_error"], "user disabled");
    let sink = SmtpSink::start_on(port).await;
    s.clock.advance(Duration::hours(1));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(sink.messages().is_empty(), "a cancelled mail is never sent");

    // Nothing new goes to a disabled user, with the reason said.
    let out = cli(&s, &["user", "invite", "nurse.camille"], None).await;
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("this user is disabled"), "{}", stderr_of(&out));
    s.stop().await;
}
