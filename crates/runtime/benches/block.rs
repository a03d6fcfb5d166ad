//! Criterion benches of block application.
//!
//! - `transfers/batch_verify_10k`: batch-verifying 10,000 transfer signatures alone (batches
//!   of 256), the baseline;
//! - `transfers/apply_10k`: applying the block of those 10,000 signed transfers — signature
//!   batches, execution, and the incremental state-root update of the changed keys;
//! - `transfers/execute_10k_no_sig`: the same without signature verification (breakdown);
//! - `transfers/state_root_10k`: the state-root update alone for that block's changed keys;
//! - `epoch4096/yuma_epoch`: `tensornet_yuma::epoch` alone on the inputs the runtime builds
//!   for a 4096-UID subnet (256 validators weighting a shared 10 % of UIDs, Yuma 3);
//! - `epoch4096/apply_block`: an empty block in which that subnet's epoch is due: inputs,
//!   epoch, payouts, write-back and state root.
//!
//! Run: `cargo bench -p tensornet-runtime --bench block` (or build with `--no-run` and run
//! the binary with `--bench`); `RUNTIME_BENCH_MIN=20 <binary>` prints the minimum of 20 runs
//! of each case instead (robust on a loaded machine).

use criterion::{criterion_group, Criterion};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tensornet_keys::Keypair;
use tensornet_primitives::{AccountId, Hash32, RAO_PER_TAO};
use tensornet_runtime::state::{keys, BlockInfo, HotkeyInfo, Neuron};
use tensornet_runtime::*;

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
    group.bench_function("batch_verify_10k", |b| {
        b.iter(|| {
            for (i, chunk) in t.txs.chunks(256).enumerate() {
                let items: Vec<(AccountId, &[u8], tensornet_keys::Signature)> = chunk
                    .iter()
                    .enumerate()
                    .map(|(j, tx)| {
                        (
                            tx.signer,
                            t.payloads[i * 256 + j].as_slice(),
                            tensornet_keys::Signature(tx.signature),
                        )
                    })
                    .collect();
                assert!(tensornet_keys::verify_batch(black_box(&items)));
            }
        })
    });
    group.bench_function("apply_10k", |b| {
        b.iter(|| {
            let o = execute_block(&t.store, &t.genesis_hash, 1, 12_000, black_box(&t.txs))
                .expect("valid");
            t.root.preview(&o.changes).root()
        })
    });
    group.bench_function("execute_10k_no_sig", |b| {
        b.iter(|| {
            let o = execute_block_unchecked(&t.store, 1, 12_000, black_box(&t.txs)).expect("valid");
            t.root.preview(&o.changes).root()
        })
    });
    let changes = execute_block_unchecked(&t.store, 1, 12_000, &t.txs)
        .expect("valid")
        .changes;
    group.bench_function("state_root_10k", |b| {
        b.iter(|| t.root.preview(black_box(&changes)).root())
    });
    group.finish();
}

/// A chain whose subnet 1 has 4096 UIDs (256 staked validators weighting the same random 10 %
/// of UIDs) and whose epoch is due in the next block; bonds and permits from one prior epoch.
fn epoch_setup() -> (MemStore, StateRoot, u64) {
    const N: u16 = 4096;
    const V: u16 = 256;
    let mut g = dev_genesis().expect("dev genesis");
    let alice = Keypair::from_uri("//Alice").expect("uri");
    g.subnets.push(genesis::GenesisSubnet {
        owner: alice.account_id().to_hex(),
        hotkey: Keypair::from_uri("//Alice/owner")
            .expect("uri")
            .account_id()
            .to_hex(),
        hyperparameters: serde_json::json!({
            "tempo": 360, "max_allowed_uids": N, "max_allowed_validators": V,
            "activity_cutoff": 5000, "immunity_period": 5000
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
    });
    let gen = g.build().expect("genesis");
    let mut store = MemStore::new();
    store.commit(&gen.changes);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let block = 1000u64;
    let changes = {
        let mut st = State::new(Overlay::new(&store));
        let mut cols: Vec<u16> = (1..N).collect();
        for i in (1..cols.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            cols.swap(i, j);
        }
        let shared: Vec<u16> = cols[..usize::from(N) / 10].to_vec();
        for uid in 1..N {
            let mut hk = [0u8; 32];
            hk[..2].copy_from_slice(&uid.to_be_bytes());
            hk[2] = 0xAA;
            let hk = AccountId(hk);
            let mut cold = hk;
            cold.0[3] = 0xCC;
            st.put(
                keys::hotkey(&hk),
                &HotkeyInfo {
                    owner: cold,
                    take: 11_796,
                    last_take_change: 0,
                    total_stake: 0,
                },
            );
            let mut nr = Neuron::new(hk, 10);
            nr.last_update = block - rng.below(300);
            if uid <= V {
                nr.validator_permit = true;
                let amount = 1000 * RAO_PER_TAO + rng.below(9000 * RAO_PER_TAO);
                st.mint_free(&cold, amount).expect("mint");
                st.stake_from_free(&cold, &hk, amount).expect("stake");
                let row: Vec<(u16, u16)> = shared
                    .iter()
                    .map(|j| (*j, 1 + rng.below(65535) as u16))
                    .collect();
                st.set_weights(1, uid, &row);
            }
            st.set_neuron(1, uid, &nr);
            st.put(keys::uid(1, &hk), &uid);
            st.commit_tx();
        }
        let mut sub = st.subnet(1).expect("subnet");
        sub.n = N;
        sub.pending_epoch_at = block + 1;
        sub.last_epoch_block = block - 360;
        st.set_subnet(&sub);
        st.put(
            keys::BLOCK.to_vec(),
            &BlockInfo {
                number: block,
                timestamp: 0,
            },
        );
        st.into_changes().expect("changes")
    };
    store.commit(&changes);
    // One prior epoch for bonds and permits.
    let o = execute_block_unchecked(&store, block + 1, 0, &[]).expect("block");
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

fn bench_epoch(c: &mut Criterion) {
    let (store, root, next) = epoch_setup();
    let o = execute_block_unchecked(&store, next, 0, &[]).expect("block");
    assert!(o.events.iter().any(|e| matches!(e, Event::EpochRan { .. })));
    let mut by_prefix = std::collections::BTreeMap::<char, (usize, usize)>::new();
    for (k, v) in &o.changes {
        let e = by_prefix.entry(k[0] as char).or_default();
        e.0 += 1;
        e.1 += v.as_ref().map_or(0, |v| v.len());
    }
    eprintln!("epoch block changes (prefix: keys, bytes): {by_prefix:?}");
    let sub = view::subnets(&store).expect("subnets").remove(0);
    let inputs = {
        let st = State::new(Overlay::new(&store));
        let mut s = sub.clone();
        s.epoch_index += 1;
        exec::epoch_inputs(&st, &s, next).0
    };
    let mut group = c.benchmark_group("epoch4096");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("yuma_epoch", |b| {
        b.iter(|| tensornet_yuma::epoch(black_box(&inputs)).expect("epoch"))
    });
    group.bench_function("apply_block", |b| {
        b.iter(|| {
            let o = execute_block_unchecked(&store, next, 0, &[]).expect("block");
            root.preview(&o.changes).root()
        })
    });
    group.finish();
}

/// `RUNTIME_BENCH_MIN=N`: instead of criterion, runs every case N times and prints the
/// minimum (robust on a shared, loaded machine).
fn min_mode(runs: usize) {
    fn min_ms(runs: usize, mut f: impl FnMut()) -> f64 {
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    }
    let t = transfers_setup(10_000);
    let verify = min_ms(runs, || {
        for (i, chunk) in t.txs.chunks(256).enumerate() {
            let items: Vec<(AccountId, &[u8], tensornet_keys::Signature)> = chunk
                .iter()
                .enumerate()
                .map(|(j, tx)| {
                    (
                        tx.signer,
                        t.payloads[i * 256 + j].as_slice(),
                        tensornet_keys::Signature(tx.signature),
                    )
                })
                .collect();
            assert!(tensornet_keys::verify_batch(&items));
        }
    });
    let apply = min_ms(runs, || {
        let o = execute_block(&t.store, &t.genesis_hash, 1, 12_000, &t.txs).expect("valid");
        black_box(t.root.preview(&o.changes).root());
    });
    let exec = min_ms(runs, || {
        let o = execute_block_unchecked(&t.store, 1, 12_000, &t.txs).expect("valid");
        black_box(t.root.preview(&o.changes).root());
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
    let (store, root_t, next) = epoch_setup();
    let sub = view::subnets(&store).expect("subnets").remove(0);
    let inputs = {
        let st = State::new(Overlay::new(&store));
        let mut s = sub.clone();
        s.epoch_index += 1;
        exec::epoch_inputs(&st, &s, next).0
    };
    let yuma = min_ms(runs, || {
        black_box(tensornet_yuma::epoch(&inputs).expect("epoch"));
    });
    let block = min_ms(runs, || {
        let o = execute_block_unchecked(&store, next, 0, &[]).expect("block");
        black_box(root_t.preview(&o.changes).root());
    });
    let ch = execute_block_unchecked(&store, next, 0, &[])
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
    println!("epoch4096/yuma_epoch         min {yuma:.2} ms");
    println!("epoch4096/epoch_inputs       min {einputs:.2} ms");
    let bytes: usize = ch
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()))
        .sum();
    println!(
        "epoch4096/state_root         min {eroot:.2} ms  ({} changed keys, {bytes} bytes)",
        ch.len()
    );
    println!(
        "epoch4096/apply_block        min {block:.2} ms  ({:.2}x the epoch alone)",
        block / yuma
    );
}

criterion_group!(benches, bench_transfers, bench_epoch);

fn main() {
    if let Some(runs) = std::env::var("RUNTIME_BENCH_MIN")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        min_mode(runs);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
