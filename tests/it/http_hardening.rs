//! Findings of the penetration test (issue 16), through the real HTTP interface:
//! connection timeouts and caps over raw sockets, HSTS, request ids, and paths that
//! used to panic.
use crate::on_each_backend;
use crate::scim_support::Scim;
use crate::support::{Backend, TestServer};
use std::time::Duration;
use tessera::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

on_each_backend!(non_ascii_paths_are_answered_not_dropped);

/// Far beyond any timeout a test sets: a connection still open then is held open.
const PATIENCE: Duration = Duration::from_secs(15);

fn short_timeouts(header_read: u64, idle: u64) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.header_read_timeout = Duration::from_secs(header_read);
        c.idle_timeout = Duration::from_secs(idle);
    }
}

/// One raw HTTP/1.1 connection, for what an HTTP client library will not do.
struct Raw {
    tcp: TcpStream,
    buffered: Vec<u8>,
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

impl Raw {
    async fn connect(s: &TestServer) -> Raw {
        let addr = s.base.trim_start_matches("http://");
        let tcp = TcpStream::connect(addr).await.expect("connect");
        Raw {
            tcp,
            buffered: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.expect("send");
    }

    async fn get(&mut self, path: &str) {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: tessera.test\r\n\r\n").as_bytes())
            .await;
    }

    /// The next response, or None when the server closes the connection first.
    async fn answer(&mut self) -> Option<Answer> {
        let head_end = loop {
            if let Some(at) = self.buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffered[..head_end]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let mut answer = Answer {
            status,
            head,
            body: String::new(),
        };
        let length: usize = answer
            .header("content-length")
            .map_or(0, |v| v.parse().expect("length"));
        while self.buffered.len() < head_end + length {
            self.fill().await?;
        }
        answer.body = String::from_utf8_lossy(&self.buffered[head_end..head_end + length]).into_owned();
        self.buffered.drain(..head_end + length);
        Some(answer)
    }

    async fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 4096];
        match self.tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.buffered.extend_from_slice(&chunk[..n]);
                Some(())
            }
        }
    }

    /// Whether the server closes the connection within `PATIENCE`, sending nothing.
    async fn closed_by_server(&mut self) -> bool {
        let mut chunk = [0u8; 64];
        matches!(timeout(PATIENCE, self.tcp.read(&mut chunk)).await, Ok(Ok(0) | Err(_)))
    }

    /// Sends `bytes` one at a time, 200 ms apart, until the server closes the
    /// connection; whether it did within `PATIENCE`.
    async fn trickle_until_closed(&mut self, bytes: &[u8]) -> bool {
        let (mut read, mut write) = self.tcp.split();
        let trickle = async {
            for b in bytes.iter().cycle() {
                sleep(Duration::from_millis(200)).await;
                // A write may still succeed after the close; the read tells.
                let _ = write.write_all(&[*b]).await;
            }
        };
        let mut chunk = [0u8; 64];
        let closed = async { matches!(read.read(&mut chunk).await, Ok(0) | Err(_)) };
        timeout(PATIENCE, async {
            tokio::select! {
                closed = closed => closed,
                () = trickle => false,
            }
        })
        .await
        .unwrap_or(false)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_headers_are_cut_off() {
    let s = TestServer::start_with(Backend::Sqlite, short_timeouts(1, 60)).await;
    let header = b"X-Trickle: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

    let mut first = Raw::connect(&s).await;
    first.send(b"GET /healthz HTTP/1.1\r\nHost: tessera.test\r\n").await;
    assert!(
        first.trickle_until_closed(header).await,
        "a trickled first request is cut off"
    );

    // On a kept-alive connection the next request's head is timed from its first byte,
    // not from the end of the last response (the idle timeout here is a minute).
    let mut kept = Raw::connect(&s).await;
    kept.get("/healthz").await;
    assert_eq!(kept.answer().await.expect("answer").status, 200);
    kept.send(b"GET /healthz HTTP/1.1\r\n").await;
    assert!(
        kept.trickle_until_closed(header).await,
        "a trickled later request is cut off"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_dropped() {
    let s = TestServer::start_with(Backend::Sqlite, short_timeouts(1, 60)).await;
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(Raw::connect(&s).await);
    }
    for (i, conn) in silent.iter_mut().enumerate() {
        assert!(conn.closed_by_server().await, "silent connection {i} is still open");
    }
    // The server still serves.
    let health = s.client.get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_and_busy_ones_kept() {
    // The header timeout is long here: what closes the connection is the idle timeout.
    let s = TestServer::start_with(Backend::Sqlite, short_timeouts(60, 1)).await;
    let mut busy = Raw::connect(&s).await;
    for i in 0..8 {
        busy.get("/healthz").await;
        let answer = busy.answer().await.unwrap_or_else(|| panic!("request {i} answered"));
        assert_eq!(answer.status, 200);
        sleep(Duration::from_millis(400)).await;
    }
    // Now it goes quiet.
    assert!(busy.closed_by_server().await, "an idle keep-alive connection is closed");
    s.stop().await;
}

/// `n` connections, each of which has had one request answered.
async fn served_connections(s: &TestServer, n: usize) -> Vec<Raw> {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut conn = Raw::connect(s).await;
        conn.get("/healthz").await;
        assert_eq!(conn.answer().await.expect("answer").status, 200);
        held.push(conn);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        short_timeouts(60, 60)(c);
        c.max_connections = 2;
    })
    .await;
    let mut held = served_connections(&s, 2).await;
    // The kernel completes the handshake, but Tessera does not take the connection.
    let mut third = Raw::connect(&s).await;
    third.get("/healthz").await;
    assert!(
        timeout(Duration::from_secs(1), third.answer()).await.is_err(),
        "a third connection is served while two are open"
    );
    drop(held.pop());
    let answer = timeout(PATIENCE, third.answer())
        .await
        .expect("served once a slot frees");
    assert_eq!(answer.expect("answer").status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_address_limit_are_closed_at_once() {
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        short_timeouts(60, 60)(c);
        c.max_connections = 50;
        c.max_connections_per_address = 2;
    })
    .await;
    let mut held = served_connections(&s, 2).await;
    let mut third = Raw::connect(&s).await;
    third.get("/healthz").await;
    assert!(
        third.closed_by_server().await,
        "a third from 127.0.0.1 is closed unanswered"
    );
    for conn in &mut held {
        conn.get("/healthz").await;
        assert_eq!(conn.answer().await.expect("still served").status, 200);
    }
    // Once the server has seen one close, its place is free again.
    drop(held.pop());
    let served = timeout(PATIENCE, async {
        loop {
            let mut next = Raw::connect(&s).await;
            next.get("/healthz").await;
            if let Some(answer) = next.answer().await {
                break answer;
            }
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("served once one closes");
    assert_eq!(served.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_idle_connections() {
    let s = TestServer::start_with(Backend::Sqlite, short_timeouts(60, 60)).await;
    let mut kept = Raw::connect(&s).await;
    kept.get("/healthz").await;
    assert_eq!(kept.answer().await.expect("answer").status, 200);
    let _silent = Raw::connect(&s).await;
    let mut half = Raw::connect(&s).await;
    half.send(b"GET /healthz HTTP/1.1\r\n").await;
    timeout(PATIENCE, s.stop())
        .await
        .expect("shutdown finishes with idle connections open");
    assert!(kept.closed_by_server().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_still_served() {
    let s = TestServer::start(Backend::Sqlite).await;
    let tcp = TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), hyper_util::rt::TokioIo::new(tcp))
            .await
            .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    for _ in 0..2 {
        let req = hyper::Request::get(format!("{}/healthz", s.base))
            .body(http_body_util::Empty::<axum::body::Bytes>::new())
            .expect("request");
        let res = sender.send_request(req).await.expect("HTTP/2 response");
        assert_eq!(res.status(), 200);
        assert_eq!(res.version(), hyper::Version::HTTP_2);
        assert!(res.headers().contains_key("x-request-id"));
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_kept_only_when_short_and_safe() {
    let s = TestServer::start(Backend::Sqlite).await;
    let id_for = |sent: String| {
        let req = s.client.get(s.url("/healthz")).header("x-request-id", sent);
        async move {
            let res = req.send().await.expect("healthz");
            assert_eq!(res.status(), 200);
            let ids: Vec<_> = res.headers().get_all("x-request-id").iter().collect();
            assert_eq!(ids.len(), 1, "one request id");
            ids[0].to_str().expect("ascii").to_string()
        }
    };
    for kept in ["trace-me-123", "a.B_9", &"x".repeat(64)] {
        assert_eq!(id_for(kept.to_string()).await, kept);
    }
    for bad in ["has space", "user=admin", "a,b", &"x".repeat(65), &"a".repeat(8000)] {
        let id = id_for(bad.to_string()).await;
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:.20}… got {id:.80}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_only_with_an_https_issuer() {
    let hsts = "max-age=31536000; includeSubDomains";
    let https = TestServer::start_with(Backend::Sqlite, |c| {
        c.issuer = url::Url::parse("https://idp.clinic.example").expect("url");
    })
    .await;
    let plain = TestServer::start(Backend::Sqlite).await;
    for s in [&https, &plain] {
        let responses = [
            s.client.get(s.url("/healthz")).send().await.expect("healthz"),
            s.client.get(s.url("/no/such/page")).send().await.expect("404"),
            s.client.get(s.url("/scim/v2/Users")).send().await.expect("scim 401"),
            s.client.post(s.url("/token")).send().await.expect("token 400"),
        ];
        for res in responses {
            let sent = res.headers().get("strict-transport-security");
            if std::ptr::eq(s, &https) {
                assert_eq!(sent.map(|v| v.to_str().expect("ascii")), Some(hsts), "{}", res.url());
            } else {
                assert!(sent.is_none(), "{} over an http issuer", res.url());
            }
            assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        }
    }
    https.stop().await;
    plain.stop().await;
}

async fn get_with_token(s: &TestServer, path: &str, token: &str) -> Answer {
    let mut conn = Raw::connect(s).await;
    let req = format!("GET {path} HTTP/1.1\r\nHost: tessera.test\r\nAuthorization: Bearer {token}\r\n\r\n");
    conn.send(req.as_bytes()).await;
    conn.answer()
        .await
        .unwrap_or_else(|| panic!("{path}: connection closed without an answer"))
}

async fn non_ascii_paths_are_answered_not_dropped(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "hr", &[]).await;
    for path in [
        "/scim/v2/Üsers",
        "/SCIM/V2/users/é",
        "/scim/v2/Users/%C3%A9",
        "/scim/v2/é/.search",
    ] {
        let answer = get_with_token(&s, path, &scim.token).await;
        assert!(matches!(answer.status, 400 | 404), "{path}: {}", answer.status);
        assert_eq!(answer.header("content-type"), Some("application/scim+json"), "{path}");
        let doc: serde_json::Value = serde_json::from_str(&answer.body).expect("SCIM error JSON");
        assert_eq!(doc["status"], answer.status.to_string(), "{path}");
    }
    // These put a multi-byte character across the SCIM prefix's length.
    for path in ["/scim/vé", "/setup/é", "/ééééé"] {
        let answer = get_with_token(&s, path, &scim.token).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.body.contains("Page not found"), "{path}: {}", answer.body);
    }
    s.stop().await;
}
