use crate::on_each_backend;
use crate::support::smtp::SmtpSink;
use crate::support::{Backend, TestServer, eventually};
use chrono::Duration;
use tessera::accounts::users::{self, InitialPassword, NewUser};
use tessera::audit::Actor;
use tessera::mail::{self, MailError, MailStatus, Rendered};

on_each_backend!(
    queued_mail_is_delivered_over_smtp,
    mail_is_retried_until_smtp_is_back_and_sent_once,
    mail_goes_only_to_active_users_with_an_address,
);

fn message(subject: &str) -> Rendered {
    Rendered {
        subject: subject.into(),
        text: "Hello from the clinic.".into(),
        html: Some("<p>Hello from the clinic.</p>".into()),
    }
}

async fn queue(s: &TestServer, to: &str, subject: &str) -> uuid::Uuid {
    let tx = s.svc.store.begin().await.expect("begin");
    let queued = mail::queue(&tx, s.svc.now(), "test", None, to, message(subject))
        .await
        .expect("queue");
    tx.commit().await.expect("commit");
    s.svc.mail_wake.notify_one();
    queued.id
}

async fn status_of(s: &TestServer, id: uuid::Uuid) -> mail::OutboxMail {
    mail::find(&s.svc, id).await.expect("read").expect("mail")
}

async fn queued_mail_is_delivered_over_smtp(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let s = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await;
    let id = queue(&s, "nurse@clinic.example", "Welcome").await;
    eventually("mail sent", || async {
        status_of(&s, id).await.status == MailStatus::Sent
    })
    .await;
    let sent = status_of(&s, id).await;
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["nurse@clinic.example"]);
    assert!(got[0].data.contains("Subject: Welcome"));
    assert!(got[0].data.contains("multipart/alternative"), "text and HTML parts");
    s.stop().await;
}

async fn mail_is_retried_until_smtp_is_back_and_sent_once(backend: Backend) {
    let port = SmtpSink::free_port().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let s = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await;
    let id = queue(&s, "nurse@clinic.example", "Your invitation").await;

    // SMTP is down: the attempt fails, the mail stays queued with the reason and a retry time.
    eventually("first attempt fails", || async {
        let m = status_of(&s, id).await;
        m.attempts == 1 && m.status == MailStatus::Queued && m.last_error.is_some()
    })
    .await;
    let waiting = status_of(&s, id).await;
    assert_eq!(waiting.next_attempt_at, s.svc.now() + Duration::seconds(30));

    // Not retried before its time, however often the worker looks.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(status_of(&s, id).await.attempts, 1);

    let sink = SmtpSink::start_on(port).await;
    s.clock.advance(Duration::seconds(31));
    eventually("mail sent once SMTP is back", || async {
        status_of(&s, id).await.status == MailStatus::Sent
    })
    .await;
    let sent = status_of(&s, id).await;
    assert_eq!(sent.attempts, 2);
    assert_eq!(sent.last_error, None);

    // Time passes and the worker keeps polling: the mail is never sent again.
    s.clock.advance(Duration::hours(2));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
    s.stop().await;
}

async fn mail_goes_only_to_active_users_with_an_address(backend: Backend) {
    let s = TestServer::start(backend).await;
    let actor = Actor::system();
    let new = |name: &str, email: Option<&str>| NewUser {
        username: name.into(),
        email: email.map(str::to_string),
        ..NewUser::default()
    };
    let with_mail = users::create(
        &s.svc,
        &actor,
        new("amy", Some("amy@clinic.org")),
        InitialPassword::None,
    )
    .await
    .expect("user")
    .user;
    let without = users::create(&s.svc, &actor, new("bob", None), InitialPassword::None)
        .await
        .expect("user")
        .user;

    let tx = s.svc.store.begin().await.expect("begin");
    let err = mail::queue_for_user(&tx, s.svc.now(), "invite", &without, message("x"))
        .await
        .expect_err("no address");
    assert!(matches!(err, MailError::NoAddress));
    // Queued while active, then the user is disabled before it goes out: cancelled, never sent.
    let queued = mail::queue_for_user(&tx, s.svc.now(), "invite", &with_mail, message("x"))
        .await
        .expect("queued");
    tx.commit().await.expect("commit");
    let disabled = users::set_active(&s.svc, &actor, "amy", false).await.expect("disable");
    assert_eq!(status_of(&s, queued.id).await.status, MailStatus::Cancelled);

    let tx = s.svc.store.begin().await.expect("begin");
    let err = mail::queue_for_user(&tx, s.svc.now(), "invite", &disabled, message("x"))
        .await
        .expect_err("disabled");
    assert!(matches!(err, MailError::RecipientInactive));
    drop(tx);
    s.stop().await;
}
