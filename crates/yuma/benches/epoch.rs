//! Criterion bench of one epoch over the grid of issue 2: n ∈ {256, 1024, 4096} ×
//! validators ∈ {64, 256} × weights on all UIDs or on a shared 10% × {Yuma 3, Yuma 2,
//! Yuma 3 + liquid alpha}. Random weights and stakes (fixed seed), previous bonds from a
//! prior epoch on the same graph, default hyperparameters otherwise.
//!
//! Run: `cargo bench -p tensornet-yuma --bench epoch` (or build with `--no-run` and run the
//! binary with `--bench`).

use criterion::{criterion_group, BenchmarkId, Criterion};
use std::time::Duration;
use tensornet_yuma::{epoch, EpochInputs, Hyperparameters, SparseRow};

/// Deterministic xorshift64* generator (no dependency, same graph on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Yuma3,
    Yuma2,
    Yuma3Liquid,
}

/// The benched inputs: `validators` UIDs with random stake weight every UID (`all`) or the
/// same shared 10% of UIDs, random values; bonds and permits from one prior epoch.
fn inputs(n: u16, validators: u16, all: bool, mode: Mode) -> EpochInputs {
    let nu = usize::from(n);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (u64::from(n) << 20) ^ u64::from(validators));
    let block = 1_000_000u64;
    let tempo = 360u16;
    let shared: Vec<u16> = if all {
        (0..n).collect()
    } else {
        let mut cols: Vec<u16> = (0..n).collect();
        for i in (1..cols.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            cols.swap(i, j);
        }
        let mut c: Vec<u16> = cols[..nu / 10].to_vec();
        c.sort_unstable();
        c
    };
    let weights: Vec<SparseRow> = (0..n)
        .map(|i| {
            if i < validators {
                shared
                    .iter()
                    .map(|j| (*j, 1 + rng.below(65535) as u16))
                    .collect()
            } else {
                Vec::new()
            }
        })
        .collect();
    let stake: Vec<u64> = (0..n)
        .map(|i| {
            if i < validators {
                1_000_000_000_000 + rng.below(9_000_000_000_000)
            } else {
                0
            }
        })
        .collect();
    let mut inp = EpochInputs {
        n,
        current_block: block,
        tempo,
        last_mechanism_step_block: block - u64::from(tempo) - 1,
        activity_cutoff: 5000,
        rao_emission: 1_000_000_000,
        hyperparameters: Hyperparameters {
            kappa: 32767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65535,
            yuma3_enabled: !matches!(mode, Mode::Yuma2),
            liquid_alpha_enabled: matches!(mode, Mode::Yuma3Liquid),
            alpha_low: 45875,
            alpha_high: 58982,
            alpha_sigmoid_steepness: 1000,
            max_allowed_validators: validators,
            stake_threshold: 0,
        },
        owner_uid: None,
        stake,
        last_update: (0..n).map(|_| block - rng.below(300)).collect(),
        block_at_registration: vec![1000; nu],
        validator_permit: (0..n).map(|i| i < validators).collect(),
        weights,
        bonds: vec![Vec::new(); nu],
    };
    // Previous bonds and permits from a prior epoch on the same graph.
    if let Ok(prior) = epoch(&inp) {
        inp.bonds = prior.bonds;
        inp.validator_permit = prior.validator_permit;
    }
    inp
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("epoch");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for n in [256u16, 1024, 4096] {
        for validators in [64u16, 256] {
            for all in [true, false] {
                for mode in [Mode::Yuma3, Mode::Yuma2, Mode::Yuma3Liquid] {
                    let inp = inputs(n, validators, all, mode);
                    let id = format!(
                        "n{n}/v{validators}/{}/{mode:?}",
                        if all { "all" } else { "10pct" }
                    );
                    group.bench_with_input(BenchmarkId::from_parameter(id), &inp, |b, inp| {
                        b.iter(|| epoch(std::hint::black_box(inp)))
                    });
                }
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);

/// With `YUMA_BENCH_MIN=<runs>` set: prints, per cell, the minimum over that many runs (in
/// ms) after 100 ms of warm-up, a figure that is robust to other processes sharing the CPU.
/// Otherwise: criterion.
fn main() {
    if let Some(runs) = std::env::var("YUMA_BENCH_MIN")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        for n in [256u16, 1024, 4096] {
            for validators in [64u16, 256] {
                for all in [true, false] {
                    let mut line = format!(
                        "| {n} | {validators} | {} |",
                        if all { "all" } else { "10%" }
                    );
                    for mode in [Mode::Yuma3, Mode::Yuma2, Mode::Yuma3Liquid] {
                        let id = format!(
                            "n{n}/v{validators}/{}/{mode:?}",
                            if all { "all" } else { "10pct" }
                        );
                        let keep = match filter.as_deref() {
                            None => true,
                            Some(f) => match f.strip_suffix('$') {
                                Some(end) => id.ends_with(end),
                                None => id.contains(f),
                            },
                        };
                        if !keep {
                            line.push_str(" - |");
                            continue;
                        }
                        let inp = inputs(n, validators, all, mode);
                        // Warm-up as criterion does (CPU clock, caches, allocator): 100 ms.
                        let warm = std::time::Instant::now();
                        while warm.elapsed() < Duration::from_millis(100) {
                            std::hint::black_box(epoch(std::hint::black_box(&inp))).ok();
                        }
                        let mut best = f64::MAX;
                        for _ in 0..runs {
                            let t = std::time::Instant::now();
                            let out = epoch(std::hint::black_box(&inp));
                            let dt = t.elapsed().as_secs_f64() * 1e3;
                            std::hint::black_box(out).ok();
                            best = best.min(dt);
                        }
                        line.push_str(&format!(" {best:.3} |"));
                    }
                    println!("{line}");
                }
            }
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
