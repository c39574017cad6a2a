//! The bare argon2id hash rate on all cores, measured in this process.
use crate::ARGON2_MEASURE;
use crate::process::{cpu_seconds, minor_faults};
use std::time::Instant;

/// Argon2id with Tessera's own parameters (its `hash_blocking`) on one thread per core.
/// The threads live for the whole run and hash twice before the first measure, so the
/// figure is the steady state: a fresh thread's first hashes fault in their 19 MiB afresh.
pub(crate) struct Hashers {
    starts: Vec<std::sync::mpsc::Sender<Instant>>,
    counts: std::sync::mpsc::Receiver<u64>,
}

impl Hashers {
    pub(crate) fn start() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (count_tx, counts) = std::sync::mpsc::channel();
        let starts = (0..threads)
            .map(|t| {
                let (start_tx, start_rx) = std::sync::mpsc::channel::<Instant>();
                let count_tx = count_tx.clone();
                std::thread::spawn(move || {
                    let mut i = 0u64;
                    let mut hash = || {
                        let _ = tessera::accounts::password::hash_blocking(&format!("correct horse battery {t} {i}"));
                        i += 1;
                    };
                    hash();
                    hash();
                    let _ = count_tx.send(0);
                    // Until the Hashers are dropped: hash until each deadline, say how many.
                    while let Ok(until) = start_rx.recv() {
                        let mut n = 0u64;
                        while Instant::now() < until {
                            hash();
                            n += 1;
                        }
                        if count_tx.send(n).is_err() {
                            break;
                        }
                    }
                });
                start_tx
            })
            .collect::<Vec<_>>();
        // Warmed up.
        for _ in &starts {
            let _ = counts.recv();
        }
        Self { starts, counts }
    }

    /// Hashes/s on all threads for ARGON2_MEASURE, CPU ms per hash, page faults per hash.
    pub(crate) fn measure(&self) -> (f64, f64, f64) {
        let (own_cpu, own_faults) = (cpu_seconds("self"), minor_faults("self"));
        let start = Instant::now();
        for s in &self.starts {
            let _ = s.send(start + ARGON2_MEASURE);
        }
        let n: u64 = self.starts.iter().map(|_| self.counts.recv().unwrap_or(0)).sum();
        // The last hashes end after the deadline: count the whole time.
        let secs = start.elapsed().as_secs_f64();
        let n = n as f64;
        (
            n / secs,
            1000.0 * (cpu_seconds("self") - own_cpu) / n,
            (minor_faults("self") - own_faults) / n,
        )
    }
}
