//! Criterion benches of block application.
//!
//! - `transfers/batch_verify_10k`: batch-verifying 10,000 transfer signatures alone (batches
//!   of 256), the baseline;
//! - `transfers/apply_10k`: applying the block of those 10,000 signed transfers — signature
//!   batches, execution, and the incremental state-root update of the changed keys;
//! - `transfers/execute_10k_no_sig`: the same without signature verification (breakdown);
//! - `transfers/state_root_10k`: the state-root update alone for that block's changed keys;
//! - `epoch4096/<cell>/yuma_epoch`: `tensornet_yuma::epoch` alone on the inputs the runtime
//!   builds for a 4096-UID subnet, for the four 4096-UID cells of the yuma bench (`v64` or
//!   `v256` staked validators, all permitted, weighting every UID `all` or a shared `10pct`;
//!   Yuma 3);
//! - `epoch4096/<cell>/apply_block`: an empty block in which that subnet's epoch is due:
//!   inputs, epoch, payouts, write-back and state root;
//! - (minimum mode only) `epoch4096/<cell>/bonds_floor`: encoding that epoch's new bond rows
//!   and committing just them to the state root — work every state layout must do, since an
//!   epoch changes every bond; compare it with 20 % of the epoch;
//! - (minimum mode only) `epoch4096/<cell>/bonds_hash`: BLAKE2b over those rows' encoded
//!   bytes alone, once each (no encoding, no tree; SIMD lanes, one or two threads): the least any
//!   BLAKE2b commitment to them costs in this row format.
//!
//! Run: `cargo bench -p tensornet-runtime --bench block` (or build with `--no-run` and run
//! the binary with `--bench`); `RUNTIME_BENCH_MIN=20 <binary>` prints the minimum of 20 runs
//! of each case instead (robust on a loaded machine); a first argument keeps only the cases
//! whose name contains it (`transfers`, `epoch4096`, `epoch4096/v256/10pct`, …).

use criterion::{criterion_group, Criterion};

/// The allocator of the `tensornet` binary (crates/cli), so that block application is
/// measured as the node runs it (glibc's malloc page-faults the epoch's buffers in again on
/// every block).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tensornet_keys::Keypair;
use tensornet_primitives::{AccountId, Hash32, RAO_PER_TAO};
use tensornet_runtime::state::keys;
use tensornet_runtime::*;

fn seed(i: u32) -> [u8; 32] {
    let mut s = [7u8; 32];
    s[..4].copy_from_slice(&i.to_le_bytes());
    s
}

struct Transfers {
    store: MemStore,
    root: StateRoot,
    genesis_hash: Hash32,
    txs: Vec<SignedTransaction>,
    payloads: Vec<Vec<u8>>,
}

impl Transfers {
    /// Batch-verifies every signature (batches of 256, payloads prebuilt): the baseline.
    fn batch_verify(&self) -> bool {
        self.txs.chunks(256).enumerate().all(|(i, chunk)| {
            let items: Vec<(AccountId, &[u8], tensornet_keys::Signature)> = chunk
                .iter()
                .enumerate()
                .map(|(j, tx)| {
                    (
                        tx.signer,
                        self.payloads[i * 256 + j].as_slice(),
                        tensornet_keys::Signature(tx.signature),
                    )
                })
                .collect();
            tensornet_keys::verify_batch(black_box(&items))
        })
    }
    /// Applies the block (with or without signature verification) and returns its new root.
    fn apply(&self, verify: bool) -> Hash32 {
        let body = black_box(&self.txs);
        let o = if verify {
            execute_block(&self.store, &self.genesis_hash, 1, 12_000, body)
        } else {
            execute_block_unchecked(&self.store, 1, 12_000, body)
        }
        .expect("valid");
        self.root.preview(&o.changes).root()
    }
}

/// BLAKE2b-256 of each row, four at a time with SIMD where the CPU allows.
fn hash_rows(rows: &[Vec<u8>]) -> Vec<[u8; 32]> {
    let params = blake2b_simd::Params::new().hash_length(32).to_owned();
    let mut jobs: Vec<blake2b_simd::many::HashManyJob> = rows
        .iter()
        .map(|r| blake2b_simd::many::HashManyJob::new(&params, r))
        .collect();
    blake2b_simd::many::hash_many(jobs.iter_mut());
    jobs.iter()
        .map(|j| {
            let mut h = [0u8; 32];
            h.copy_from_slice(j.to_hash().as_bytes());
            h
        })
        .collect()
}

/// The parent block's time (the dev genesis's, which the fixture keeps): empty blocks reuse it.
fn parent_time(store: &MemStore) -> u64 {
    State::new(Overlay::new(store))
        .get::<state::BlockInfo>(keys::BLOCK)
        .map_or(0, |b| b.timestamp)
}

/// Applies the empty block `next` in which the subnet's epoch is due and returns its root.
fn epoch_block(store: &MemStore, root: &StateRoot, next: u64) -> Hash32 {
    let o = execute_block_unchecked(store, next, parent_time(store), &[]).expect("block");
    root.preview(&o.changes).root()
}

fn transfers_setup(n: u32) -> Transfers {
    let kps: Vec<Keypair> = (0..n).map(|i| Keypair::from_seed(&seed(i))).collect();
    let g = GenesisConfig {
        timestamp: 0,
        root: kps[0].account_id().to_hex(),
        balances: kps
            .iter()
            .map(|k| genesis::GenesisBalance {
                account: k.account_id().to_hex(),
                rao: 1000 * RAO_PER_TAO,
            })
            .collect(),
        subnets: Vec::new(),
        new_subnet: Default::default(),
        params: Default::default(),
    }
    .build()
    .expect("genesis");
    let mut store = MemStore::new();
    store.commit(&g.changes);
    let mut root = StateRoot::new();
    root.apply(&g.changes);
    let txs: Vec<SignedTransaction> = (0..n as usize)
        .map(|i| {
            let dest = kps[(i + 1) % n as usize].account_id();
            SignedTransaction::sign(
                &kps[i],
                &g.hash,
                0,
                Call::Transfer {
                    dest,
                    amount: RAO_PER_TAO,
                },
            )
        })
        .collect();
    let payloads = txs
        .iter()
        .map(|t| signing_payload(&g.hash, t.nonce, &t.call))
        .collect();
    Transfers {
        store,
        root,
        genesis_hash: g.hash,
        txs,
        payloads,
    }
}

fn bench_transfers(c: &mut Criterion) {
    let t = transfers_setup(10_000);
    // Sanity: the block applies and every transfer succeeds.
    let o = execute_block(&t.store, &t.genesis_hash, 1, 12_000, &t.txs).expect("valid block");
    assert!(o.receipts.iter().all(|r| r.error.is_none()));
    let mut group = c.benchmark_group("transfers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(6));
    group.bench_function("batch_verify_10k", |b| b.iter(|| assert!(t.batch_verify())));
    group.bench_function("apply_10k", |b| b.iter(|| t.apply(true)));
    group.bench_function("execute_10k_no_sig", |b| b.iter(|| t.apply(false)));
    let changes = execute_block_unchecked(&t.store, 1, 12_000, &t.txs)
        .expect("valid")
        .changes;
    group.bench_function("state_root_10k", |b| {
        b.iter(|| t.root.preview(black_box(&changes)).root())
    });
    group.finish();
}

/// The four 4096-UID cells of the yuma bench: validators × weights on every UID (`all`) or
/// on the same random 10 % of UIDs.
const CELLS: [(u16, bool); 4] = [(64, true), (64, false), (256, true), (256, false)];

fn cell_name(validators: u16, all: bool) -> String {
    format!("v{validators}/{}", if all { "all" } else { "10pct" })
}

/// A chain whose subnet 1 has 4096 UIDs (`validators` staked validators, all permitted,
/// weighting every UID or the same random 10 % of UIDs) and whose epoch is due in the next
/// block; bonds and permits from one prior epoch.
fn epoch_setup(validators: u16, all: bool) -> (MemStore, StateRoot, u64) {
    let shape = fixtures::BigSubnet {
        uids: 4096,
        validators,
        weights_on_all: all,
        tempo: 360,
    };
    let gen = shape
        .genesis_config()
        .and_then(|g| Ok(g.build()?))
        .expect("genesis");
    let mut store = MemStore::new();
    store.commit(&gen.changes);
    let block = 1000u64;
    let changes = shape.populate(&store, block).expect("populate");
    store.commit(&changes);
    // One prior epoch for bonds and permits.
    let o = execute_block_unchecked(&store, block + 1, parent_time(&store), &[]).expect("block");
    assert!(o.events.iter().any(|e| matches!(e, Event::EpochRan { .. })));
    store.commit(&o.changes);
    // Make the next block's epoch due again.
    let changes = {
        let mut st = State::new(Overlay::new(&store));
        let mut sub = st.subnet(1).expect("subnet");
        sub.pending_epoch_at = block + 2;
        st.set_subnet(&sub);
        st.into_changes().expect("changes")
    };
    store.commit(&changes);
    let root = StateRoot::from_store(&store).expect("root");
    (store, root, block + 2)
}

/// The inputs the runtime hands to `tensornet_yuma::epoch` in the next block.
fn next_inputs(store: &MemStore, next: u64) -> tensornet_yuma::EpochInputs {
    let mut sub = view::subnets(store).expect("subnets").remove(0);
    sub.epoch_index += 1;
    let st = State::new(Overlay::new(store));
    exec::epoch_inputs(&st, &sub, next).0
}

fn bench_epoch(c: &mut Criterion) {
    let mut group = c.benchmark_group("epoch4096");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for (v, all) in CELLS {
        let (store, root, next) = epoch_setup(v, all);
        let inputs = next_inputs(&store, next);
        let name = cell_name(v, all);
        group.bench_function(format!("{name}/yuma_epoch"), |b| {
            b.iter(|| tensornet_yuma::epoch(black_box(&inputs)).expect("epoch"))
        });
        group.bench_function(format!("{name}/apply_block"), |b| {
            b.iter(|| epoch_block(&store, &root, next))
        });
    }
    group.finish();
}

/// `RUNTIME_BENCH_MIN=N`: instead of criterion, runs every case N times and prints the
/// minimum (robust on a shared, loaded machine).
fn min_mode(runs: usize, filter: &str) {
    fn min_ms(runs: usize, mut f: impl FnMut()) -> f64 {
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    }
    if filter.is_empty() || "transfers".contains(filter) || filter.contains("transfers") {
        let t = transfers_setup(10_000);
        let verify = min_ms(runs, || assert!(t.batch_verify()));
        let apply = min_ms(runs, || {
            black_box(t.apply(true));
        });
        let exec = min_ms(runs, || {
            black_box(t.apply(false));
        });
        let changes = execute_block_unchecked(&t.store, 1, 12_000, &t.txs)
            .expect("valid")
            .changes;
        let root = min_ms(runs, || {
            black_box(t.root.preview(&changes).root());
        });
        println!("transfers/batch_verify_10k   min {verify:.1} ms");
        println!(
            "transfers/apply_10k          min {apply:.1} ms  ({:.2}x batch verify)",
            apply / verify
        );
        println!("transfers/execute_10k_no_sig min {exec:.1} ms");
        println!("transfers/state_root_10k     min {root:.1} ms");
    }
    for (v, all) in CELLS {
        let name = cell_name(v, all);
        if !filter.is_empty() && !format!("epoch4096/{name}").contains(filter) {
            continue;
        }
        let (store, root_t, next) = epoch_setup(v, all);
        let sub = view::subnets(&store).expect("subnets").remove(0);
        let inputs = next_inputs(&store, next);
        let yuma = min_ms(runs, || {
            black_box(tensornet_yuma::epoch(&inputs).expect("epoch"));
        });
        let block = min_ms(runs, || {
            black_box(epoch_block(&store, &root_t, next));
        });
        let ch = execute_block_unchecked(&store, next, parent_time(&store), &[])
            .expect("block")
            .changes;
        let eroot = min_ms(runs, || {
            black_box(root_t.preview(&ch).root());
        });
        let einputs = min_ms(runs, || {
            let st = State::new(Overlay::new(&store));
            let mut s = sub.clone();
            s.epoch_index += 1;
            black_box(exec::epoch_inputs(&st, &s, next).0);
        });
        // The epoch on inputs built just before it (as in the block), timing the epoch only.
        let fresh = (0..runs)
            .map(|_| {
                let inp = next_inputs(&store, next);
                let t = Instant::now();
                black_box(tensornet_yuma::epoch(&inp).expect("epoch"));
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min);
        // A floor for any state layout: encoding the epoch's new bond rows (they all change)
        // and committing just them to the state root.
        let out = tensornet_yuma::epoch(&inputs).expect("epoch");
        let floor = min_ms(runs, || {
            let bonds: StateChanges = out
                .bonds
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.is_empty())
                .map(|(u, r)| (keys::bonds(1, u as u16), Some(state::encode_row(r))))
                .collect();
            black_box(root_t.preview(&bonds).root());
        });
        // Below that floor: hashing the encoded new bond rows' bytes once each (no encoding,
        // no tree), four rows at a time with SIMD, on one thread or split over two (whichever
        // is faster): what committing them costs at the least with BLAKE2b on this machine.
        let rows: Vec<Vec<u8>> = out
            .bonds
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| state::encode_row(r))
            .collect();
        let row_bytes: usize = rows.iter().map(Vec::len).sum();
        let one_thread = min_ms(runs, || {
            black_box(hash_rows(&rows));
        });
        let two_threads = min_ms(runs, || {
            let (lo, hi) = rows.split_at(rows.len() / 2);
            std::thread::scope(|s| {
                let other = s.spawn(|| hash_rows(hi));
                black_box(hash_rows(lo));
                black_box(other.join().expect("hash thread"));
            });
        });
        let hash_floor = one_thread.min(two_threads);
        let bytes: usize = ch
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()))
            .sum();
        println!("epoch4096/{name}/yuma_epoch    min {yuma:.2} ms");
        println!("epoch4096/{name}/epoch_inputs  min {einputs:.2} ms");
        println!("epoch4096/{name}/yuma_fresh    min {fresh:.2} ms  (epoch on just-built inputs)");
        println!(
            "epoch4096/{name}/state_root    min {eroot:.2} ms  ({} changed keys, {bytes} bytes)",
            ch.len()
        );
        println!(
            "epoch4096/{name}/bonds_floor   min {floor:.2} ms  (encode + commit the new bonds alone: {:.0}% of the epoch)",
            100.0 * floor / yuma
        );
        println!(
            "epoch4096/{name}/bonds_hash    min {hash_floor:.3} ms  (BLAKE2b of the {} new bond rows' {row_bytes} bytes alone: {:.0}% of the epoch)",
            rows.len(),
            100.0 * hash_floor / yuma
        );
        println!(
            "epoch4096/{name}/apply_block   min {block:.2} ms  ({:.2}x the epoch alone)",
            block / yuma
        );
    }
}

criterion_group!(benches, bench_transfers, bench_epoch);

fn main() {
    // `RUNTIME_BENCH_PROFILE=<runs> <binary> <cell>`: only applies that cell's epoch block,
    // `runs` times (for a profiler).
    if let Some(runs) = std::env::var("RUNTIME_BENCH_PROFILE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        let filter = filter.unwrap_or_default();
        for (v, all) in CELLS {
            if !cell_name(v, all).contains(&filter) {
                continue;
            }
            let (store, root, next) = epoch_setup(v, all);
            for _ in 0..runs {
                black_box(epoch_block(&store, &root, next));
            }
            return;
        }
        return;
    }
    if let Some(runs) = std::env::var("RUNTIME_BENCH_MIN")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let filter = std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .unwrap_or_default();
        min_mode(runs, &filter);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
