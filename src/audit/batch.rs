//! Audit events that belong to no other write (tokens issued, refreshed) are written
//! together: requests arriving at once share one multi-row INSERT and one commit, and
//! each still waits until its own event is stored. On SQLite's single writer this
//! turns one commit per token into one per burst.
use super::Event;
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Events per INSERT at most (12 columns each, well under SQLite's variable limit).
const MAX_BATCH: usize = 256;

struct Pending {
    event: Event,
    at: DateTime<Utc>,
    done: oneshot::Sender<Result<(), String>>,
}

pub struct Batcher {
    queue: mpsc::Sender<Pending>,
}

impl Batcher {
    /// Starts the writer task; it ends when the last `Batcher` handle is dropped.
    pub fn start(store: Store) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(store, rx));
        Self { queue }
    }

    /// Stores the event; returns once it is committed.
    pub async fn record(&self, event: Event, at: DateTime<Utc>) -> Result<(), StoreError> {
        let (done, stored) = oneshot::channel();
        let lost = || StoreError::AuditWriter("it has stopped".into());
        self.queue.send(Pending { event, at, done }).await.map_err(|_| lost())?;
        stored.await.map_err(|_| lost())?.map_err(StoreError::AuditWriter)
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Pending>) {
    // SQLite writes one batch at a time; PostgreSQL commits several at once, and a
    // commit (a WAL flush) is what each request waits for.
    let slots = Arc::new(Semaphore::new(store.concurrent_writers()));
    // A slot is taken before events are: while every slot is busy, events gather into
    // the next, larger batch.
    while let Ok(slot) = slots.clone().acquire_owned().await {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let store = store.clone();
        tokio::spawn(async move {
            write_batch(&store, batch).await;
            drop(slot);
        });
    }
}

async fn write_batch(store: &Store, mut batch: Vec<Pending>) {
    let events: Vec<(Event, DateTime<Utc>)> = batch.iter().map(|p| (p.event.clone(), p.at)).collect();
    let outcome = store::audit::append_many(store.conn(), &events)
        .await
        .map_err(|e| e.to_string());
    if let Err(e) = &outcome {
        tracing::error!(error = %e, events = events.len(), "audit events could not be stored");
    }
    for p in batch.drain(..) {
        let _ = p.done.send(outcome.clone());
    }
}
