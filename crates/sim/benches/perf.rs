//! Simulator throughput: the `perf-256` built-in scenario (1,000 epochs, 256 UIDs, 64 validators)
//! including the CSV (written to memory), with Yuma 3, then with liquid alpha on.
//!
//! `cargo bench -p tensornet-sim --bench perf` (prints the best of 3 runs of each).

use std::time::Instant;

/// CPU time of this thread in seconds (Linux `/proc/thread-self/schedstat`; 0 elsewhere), so the
/// figures mean something on a busy machine too.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0.0, |ns| ns as f64 / 1e9)
}
use tensornet_sim::builtin::find;
use tensornet_sim::{run, write_csv, Scenario};

/// (simulate wall, total wall, total CPU, CSV bytes)
fn time_once(s: &Scenario) -> (f64, f64, f64, usize) {
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    let r = run(s, s.seed, &mut |_, _| {}).expect("perf-256 runs");
    let sim = t0.elapsed().as_secs_f64();
    let mut csv = Vec::with_capacity(40 << 20);
    write_csv(&r, &mut csv).expect("CSV to memory");
    (
        sim,
        t0.elapsed().as_secs_f64(),
        cpu_seconds() - c0,
        csv.len(),
    )
}

fn main() {
    let text = find("perf-256").expect("perf-256 is built in").toml;
    for (label, overrides) in [
        ("yuma3", vec![]),
        (
            "yuma3+liquid_alpha",
            vec![(
                "hyperparameters.liquid_alpha".to_string(),
                "true".to_string(),
            )],
        ),
    ] {
        let s = Scenario::from_toml_with_overrides(text, &overrides).expect("valid");
        let best = (0..3)
            .map(|_| time_once(&s))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("3 runs");
        // The epoch alone, on the same 1,000 inputs.
        let mut inputs = Vec::new();
        tensornet_sim::run_observed(&s, s.seed, &mut |_, _| {}, &mut |_, i, _| {
            inputs.push(i.clone())
        })
        .expect("runs");
        let c0 = cpu_seconds();
        let t0 = Instant::now();
        for i in &inputs {
            std::hint::black_box(tensornet_yuma::epoch(i).expect("epoch"));
        }
        let epoch_only = t0.elapsed().as_secs_f64();
        println!(
            "perf-256 {label}: the 1,000 epoch() calls alone: {epoch_only:.3} s wall, {:.3} s CPU",
            cpu_seconds() - c0
        );
        println!(
            "perf-256 {label}: {} epochs x {} UIDs: simulate {:.3} s, with CSV ({} MB) {:.3} s wall, {:.3} s CPU",
            s.epochs,
            s.validator_count() + s.miner_count(),
            best.0,
            best.3 >> 20,
            best.1,
            best.2
        );
    }
}
