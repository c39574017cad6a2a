//! One client connection: the service hyper calls for each of its requests, and a
//! watchdog that ends the connection when the client holds it without using it.
//!
//! hyper's own HTTP/1 `header_read_timeout` is not used: it runs from the moment
//! hyper starts waiting for a request head, so it would also end every kept-alive
//! connection idle that long (and a load balancer reusing one would see it closed
//! under its next request), and it covers neither HTTP/2 nor the bytes hyper-util
//! reads to tell the protocols apart. The watchdog's rules, for both protocols:
//! - a new connection must complete its first request head within the header-read
//!   timeout, counted from accept: a socket that sends nothing, or trickles, is dropped;
//! - on HTTP/1 between requests, once a byte of the next request arrives, the rest
//!   of its head must follow within the header-read timeout;
//! - with no request in flight and nothing begun, it is closed after the idle timeout
//!   (gracefully: HTTP/2 gets a GOAWAY), and dropped if that has not ended it after
//!   a further header-read timeout; on shutdown likewise, except that a connection
//!   whose first or next request head is unfinished is dropped at once;
//! - while a request is in flight nothing is timed here: the router's request
//!   timeout bounds it.
use super::edge::Edge;
use super::peer_limit::PeerSlot;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, watch};
use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

/// A connection's places under the global cap and its address's limit, held until
/// it ends however it ends.
pub struct Places {
    pub _slot: OwnedSemaphorePermit,
    pub _per_address: PeerSlot,
}

/// Serves one connection until it ends, the watchdog ends it, or, after `stop`,
/// its requests in flight have finished.
pub async fn serve(
    builder: auto::Builder<TokioExecutor>,
    tcp: TcpStream,
    peer: SocketAddr,
    edge: Edge,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
    _places: Places,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        io: tcp,
        activity: activity.clone(),
    });
    let service = PerRequest {
        edge,
        peer,
        activity: activity.clone(),
    };
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut closing = false;
    loop {
        let deadline = activity.deadline(timeouts);
        let expired = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|stopped| *stopped), if !closing => {
                conn.as_mut().graceful_shutdown();
                activity.closing();
                closing = true;
            }
            () = expired => {
                // A request may have begun since the deadline was taken.
                match activity.deadline(timeouts) {
                    Some((at, Expiry::Close)) if at <= Instant::now() => {
                        conn.as_mut().graceful_shutdown();
                        activity.closing();
                        closing = true;
                    }
                    Some((at, Expiry::Drop)) if at <= Instant::now() => {
                        tracing::debug!(%peer, "connection dropped: no complete request in time");
                        return;
                    }
                    _ => {}
                }
            }
            () = activity.changed.notified() => {}
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expiry {
    /// Nothing to be graceful about (no request, or closing took too long): drop it.
    Drop,
    /// Idle: close it the way its protocol closes an idle connection.
    Close,
}

/// What the watchdog knows of a connection, updated by its reads and requests.
#[derive(Debug)]
struct State {
    accepted: Instant,
    requests: u64,
    http2: bool,
    in_flight: usize,
    /// When the last request finished, or the connection was accepted.
    quiet_since: Instant,
    /// The first byte received while no request was in flight: a head has begun.
    head_begun: Option<Instant>,
    closing_since: Option<Instant>,
}

impl State {
    fn new(now: Instant) -> Self {
        Self {
            accepted: now,
            requests: 0,
            http2: false,
            in_flight: 0,
            quiet_since: now,
            head_begun: None,
            closing_since: None,
        }
    }

    fn deadline(&self, t: Timeouts) -> Option<(Instant, Expiry)> {
        let after = |from: Instant, wait: Duration, what| from.checked_add(wait).map(|at| (at, what));
        if self.in_flight > 0 {
            None
        } else if let Some(since) = self.closing_since {
            // A client whose request head is unfinished is owed nothing; one that has
            // had answers gets time for the last one's tail and for the GOAWAY exchange.
            let owed = self.requests > 0 && (self.http2 || self.head_begun.is_none());
            after(since, if owed { t.header_read } else { Duration::ZERO }, Expiry::Drop)
        } else if self.requests == 0 {
            after(self.accepted, t.header_read, Expiry::Drop)
        } else if let Some(begun) = self.head_begun.filter(|_| !self.http2) {
            // HTTP/2 sends frames of its own (WINDOW_UPDATE, PING) between requests:
            // there a byte says nothing about a request beginning.
            after(begun, t.header_read, Expiry::Drop)
        } else {
            after(self.quiet_since, t.idle, Expiry::Close)
        }
    }
}

struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(State::new(Instant::now())),
            changed: Notify::new(),
        }
    }

    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // The state stays consistent even if a holder panicked: every update is one step.
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn deadline(&self, t: Timeouts) -> Option<(Instant, Expiry)> {
        self.update(|s| s.deadline(t))
    }

    fn received(&self) {
        let begun = self.update(|s| {
            let begins = s.in_flight == 0 && s.head_begun.is_none();
            if begins {
                s.head_begun = Some(Instant::now());
            }
            begins
        });
        if begun {
            self.changed.notify_one();
        }
    }

    fn request_started(&self, version: axum::http::Version) {
        self.update(|s| {
            s.requests += 1;
            s.in_flight += 1;
            s.http2 |= version == axum::http::Version::HTTP_2;
            s.head_begun = None;
        });
    }

    fn request_finished(&self) {
        self.update(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            s.quiet_since = Instant::now();
            s.head_begun = None;
        });
        self.changed.notify_one();
    }

    fn closing(&self) {
        self.update(|s| s.closing_since = Some(Instant::now()));
    }
}

/// Marks a request in flight until its response is ready, or its future is dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The TCP stream, telling the watchdog when bytes arrive.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// hyper's service for one connection: the peer's address as axum's `ConnectInfo`
/// (client_address.rs reads it), each request counted in flight.
#[derive(Clone)]
struct PerRequest {
    edge: Edge,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PerRequest {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        self.activity.request_started(req.version());
        let in_flight = InFlight(self.activity.clone());
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let response = self.edge.handle(req);
        Box::pin(async move {
            let response = response.await;
            drop(in_flight);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(60),
    };

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_new_connection_has_the_header_timeout_for_its_first_request() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        assert_eq!(s.deadline(T), Some((t0 + secs(10), Expiry::Drop)));
        s.head_begun = Some(t0 + secs(5));
        assert_eq!(s.deadline(T), Some((t0 + secs(10), Expiry::Drop)), "bytes buy no time");
    }

    #[test]
    fn between_requests_idle_then_header_time_from_the_first_byte() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        s.requests = 1;
        s.quiet_since = t0 + secs(1);
        assert_eq!(s.deadline(T), Some((t0 + secs(61), Expiry::Close)));
        s.head_begun = Some(t0 + secs(30));
        assert_eq!(s.deadline(T), Some((t0 + secs(40), Expiry::Drop)));
        s.http2 = true;
        assert_eq!(
            s.deadline(T),
            Some((t0 + secs(61), Expiry::Close)),
            "HTTP/2 frames are not heads"
        );
    }

    #[test]
    fn nothing_is_timed_while_a_request_is_in_flight() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        s.requests = 1;
        s.in_flight = 1;
        s.closing_since = Some(t0);
        assert_eq!(s.deadline(T), None);
        s.in_flight = 0;
        assert_eq!(
            s.deadline(T),
            Some((t0 + secs(10), Expiry::Drop)),
            "closing has a bound"
        );
        s.head_begun = Some(t0);
        assert_eq!(
            s.deadline(T),
            Some((t0, Expiry::Drop)),
            "an unfinished head is not waited for"
        );
    }
}
