//! Load generation for `tensornet axon bench`: a fixed number of calls spread over a fixed number
//! of concurrent workers, either one call per target in turn or whole fan-out rounds.

use crate::dendrite::{AxonTarget, Dendrite};
use crate::synapse::Synapse;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Calls (or rounds with `fanout`).
    pub calls: usize,
    /// Workers, each with one call in flight.
    pub concurrency: usize,
    /// Per-call timeout.
    pub timeout: Duration,
    /// Each call is a round querying every target at once (latency = the round's).
    pub fanout: bool,
}

/// Results; latencies in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Completed calls (answers, for fan-out) per second of wall time.
    pub calls_per_s: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 90th percentile latency.
    pub p90_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Answers that were not 200.
    pub failures: u64,
    /// Calls (or rounds) made.
    pub calls: usize,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// CPU time of this process per 1,000 answers, milliseconds (Linux; `null` elsewhere).
    pub cpu_ms_per_1000_calls: Option<f64>,
}

/// CPU time (user + system) of this process so far, if the platform tells.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every supported architecture.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p * sorted.len() as f64) as usize).min(sorted.len() - 1);
    sorted[i]
}

/// Runs the benchmark with `dendrite` against `targets`.
pub async fn run_bench<S: Synapse>(
    dendrite: Arc<Dendrite>,
    targets: Arc<Vec<AxonTarget>>,
    synapse: S,
    config: &BenchConfig,
) -> BenchReport {
    let next = Arc::new(AtomicUsize::new(0));
    let cpu0 = process_cpu_time();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..config.concurrency.max(1) {
        let (d, t, s, next) = (
            dendrite.clone(),
            targets.clone(),
            synapse.clone(),
            next.clone(),
        );
        let (calls, timeout, fanout) = (config.calls, config.timeout, config.fanout);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failures = 0u64;
            let mut answers = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls || t.is_empty() {
                    break;
                }
                let t0 = Instant::now();
                if fanout {
                    let all = d.query(&t, &s, timeout).await;
                    answers += all.len() as u64;
                    failures += all.iter().filter(|a| !a.is_success()).count() as u64;
                } else {
                    let a = d.call(&t[i % t.len()], &s, timeout).await;
                    answers += 1;
                    failures += u64::from(!a.is_success());
                }
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            (lat, failures, answers)
        }));
    }
    let mut lat = Vec::with_capacity(config.calls);
    let mut failures = 0;
    let mut answers = 0;
    for task in tasks {
        if let Ok((l, f, a)) = task.await {
            lat.extend(l);
            failures += f;
            answers += a;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, process_cpu_time()) {
        (Some(a), Some(b)) if answers > 0 => {
            Some((b - a).as_secs_f64() * 1000.0 * 1000.0 / answers as f64)
        }
        _ => None,
    };
    lat.sort_by(f64::total_cmp);
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    BenchReport {
        calls_per_s: round2(answers as f64 / wall.max(1e-9)),
        p50_ms: round2(percentile(&lat, 0.50)),
        p90_ms: round2(percentile(&lat, 0.90)),
        p99_ms: round2(percentile(&lat, 0.99)),
        failures,
        calls: lat.len(),
        wall_s: round2(wall),
        cpu_ms_per_1000_calls: cpu.map(round2),
    }
}
