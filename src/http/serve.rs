//! The accept loop: HTTP/1.1 and HTTP/2 connections through hyper-util, at most
//! `max_connections` at once and `max_connections_per_address` from one client
//! address, and graceful shutdown.
//!
//! At the cap the loop stops accepting, so new connections wait in the kernel's
//! listen backlog (and past it, their SYNs go unanswered and are retried) rather
//! than being accepted and closed: they hold none of our file descriptors while
//! waiting, and a client whose turn comes soon is served instead of failed. The
//! connection timeouts keep turns short.
//!
//! A connection from an address that has its limit open is closed at once, and the
//! slot it was accepted into goes to the next connection: one address cannot hold
//! more than its share of slots, waiting or served.
use super::AppState;
use super::connection::{self, Places, Timeouts};
use super::edge::Edge;
use super::peer_limit::{PeerLimit, PeerSlot};
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let config = state.config.clone();
    let timeouts = Timeouts {
        header_read: config.header_read_timeout,
        idle: config.idle_timeout,
    };
    let edge = Edge::new(super::router(state), config.secure_cookies());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The connection watchdog times request heads instead (connection.rs says why).
    builder.http1().header_read_timeout(None);

    let peer_limit = PeerLimit::new(config.max_connections_per_address, config.trusted_proxies.clone());
    let cap = config.max_connections;
    let slots = Arc::new(Semaphore::new(cap as usize));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (tcp, peer, per_address) = tokio::select! {
            accepted = accept_within_limit(&listener, &peer_limit) => accepted,
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY a page larger than one segment can wait out the client's
        // delayed ACK (up to 40 ms) for its last segment.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set on a connection");
        }
        tokio::spawn(connection::serve(
            builder.clone(),
            tcp,
            peer,
            edge.clone(),
            timeouts,
            stopped.clone(),
            Places {
                _slot: slot,
                _per_address: per_address,
            },
        ));
    }
    // New connections are refused from here on; open ones finish what is in flight.
    drop(listener);
    let _ = stop.send(true);
    // Each connection holds a slot until it ends: all slots back, all ended.
    let _ = slots.acquire_many(cap).await;
    Ok(())
}

/// The next connection whose address is within its limit; the others are closed.
async fn accept_within_limit(listener: &TcpListener, limit: &PeerLimit) -> (TcpStream, SocketAddr, PeerSlot) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => match limit.admit(peer.ip()) {
                Some(place) => return (tcp, peer, place),
                // Dropping the stream closes it, unanswered.
                None => tracing::debug!(%peer, "connection closed: too many open from this address"),
            },
            Err(e) => accept_failed(e).await,
        }
    }
}

async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    // The client gave up before we took its connection: nothing to do.
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    // Most likely out of file descriptors (EMFILE): retrying at once would spin, and
    // connections ending soon will free some.
    tracing::error!(error = %e, "cannot accept connections");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
