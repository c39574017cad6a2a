//! Process figures from /proc: RSS, CPU seconds (per process and per thread name),
//! page faults, and the local PostgreSQL server's CPU.
use crate::TICKS_PER_SECOND;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub(crate) fn status_kib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok()
}

pub(crate) fn rss_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmRSS:").map(|k| k / 1024.0)
}

pub(crate) fn hwm_mib(pid: u32) -> Option<f64> {
    status_kib(pid, "VmHWM:").map(|k| k / 1024.0)
}

/// Field `i + 3` of /proc/PID/stat as proc(5) numbers them from 1: `i` counts from the
/// state, the first field after the command name.
pub(crate) fn stat_field(pid: &str, i: usize) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(i)
        .and_then(|f| f.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// User + system CPU seconds of a process so far.
pub(crate) fn cpu_seconds(pid: &str) -> f64 {
    // utime and stime are fields 14 and 15 of stat.
    (stat_field(pid, 11) + stat_field(pid, 12)) / TICKS_PER_SECOND
}

/// User + system CPU seconds so far of the threads of `pid` whose name starts with `prefix`.
pub(crate) fn threads_cpu_seconds(pid: &str, prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return f64::NAN;
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let tid = format!("{pid}/task/{}", t.file_name().to_str()?);
            let comm = std::fs::read_to_string(format!("/proc/{tid}/comm")).ok()?;
            comm.starts_with(prefix).then(|| cpu_seconds(&tid))
        })
        .sum()
}

/// Minor page faults of a process so far (field 10 of stat).
pub(crate) fn minor_faults(pid: &str) -> f64 {
    stat_field(pid, 7)
}

/// Whether the Tessera under load runs on PostgreSQL (whose CPU is then counted too).
pub(crate) static ON_POSTGRES: AtomicBool = AtomicBool::new(false);

/// User + system CPU seconds of every local process named `postgres` (the server and its
/// backends), when the run is on PostgreSQL.
pub(crate) fn postgres_cpu_seconds() -> Option<f64> {
    if !ON_POSTGRES.load(Ordering::Relaxed) {
        return None;
    }
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            let cpu = cpu_seconds(pid);
            if cpu.is_finite() {
                total += cpu;
            }
        }
    }
    Some(total)
}

/// Samples a process's RSS every 50 ms on a thread of its own; `stop` gives the peak in MiB.
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = status_kib(pid, "VmRSS:") {
                        peak.fetch_max(kib as u64, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Self {
            stop,
            peak,
            handle: Some(handle),
        }
    }

    pub(crate) fn stop(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}
