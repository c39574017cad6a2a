//! The accept loop: HTTP/1.1 and HTTP/2 connections through hyper-util, at most
//! `max_connections` at once, and graceful shutdown.
//!
//! At the cap the loop stops accepting, so new connections wait in the kernel's
//! listen backlog (and past it, their SYNs go unanswered and are retried) rather
//! than being accepted and closed: they hold none of our file descriptors while
//! waiting, and a client whose turn comes soon is served instead of failed. The
//! connection timeouts keep turns short.
use super::AppState;
use super::connection::{self, Timeouts};
use super::edge::Edge;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
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

    let cap = config.max_connections;
    let slots = Arc::new(Semaphore::new(cap as usize));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
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
            slot,
        ));
    }
    // New connections are refused from here on; open ones finish what is in flight.
    drop(listener);
    let _ = stop.send(true);
    // Each connection holds a slot until it ends: all slots back, all ended.
    let _ = slots.acquire_many(cap).await;
    Ok(())
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
