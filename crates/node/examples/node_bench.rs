//! Node benchmarks through JSON-RPC over HTTP (figures for docs/benchmarks.md, "Node").
//!
//! ```text
//! cargo build --release -p tensornet-cli -p tensornet-node --examples
//! target/release/examples/node_bench [TRANSFERS] [SENDERS]
//! ```
//!
//! 1. Sustained transfers: a node in this process (250 ms blocks, a temporary store) with
//!    SENDERS funded accounts; TRANSFERS pre-signed transfers are submitted as JSON-RPC batch
//!    requests over 4 keep-alive HTTP connections; the clock stops when every one is in a
//!    durably stored block.
//! 2. Metagraph: a store holding a 4096-UID subnet; median client time of `subnet_metagraph`
//!    (without weights) over 20 calls, including JSON parsing.
//! 3. Ready time: spawns `target/release/tensornet node run --dev` (or `$TENSORNET_BIN`) and
//!    times until its "RPC ready" line.
//! 4. Epoch blocks on the real store: a redb store whose genesis holds a 4096-UID subnet (the
//!    four cells of the runtime's `block` bench, tempo 9), empty blocks produced as the node
//!    produces them (snapshot → execute → state root → fsynced commit); the median of the
//!    epoch blocks after the first, split into those three steps, and of the other blocks.
//!
//! `node_bench epoch` runs only the fourth.

/// The allocator of the `tensornet` binary, so that the node is measured as it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tensornet_node::engine::SingleAuthority;
use tensornet_node::{Node, NodeConfig};
use tensornet_primitives::AccountId;
use tensornet_runtime::fixtures::BigSubnet;
use tensornet_runtime::{
    execute_block_unchecked, tx_root, Block, Call, Event, GenesisConfig, Header, MemoryChain,
    SignedTransaction, StateRoot,
};
use tensornet_storage::{ChainStore, StoredOutcome};

/// A keep-alive HTTP/1.1 JSON-RPC connection.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).ok();
        Conn {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
        }
    }

    fn post(&mut self, body: &str) -> String {
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.w.write_all(head.as_bytes()).expect("write");
        self.w.write_all(body.as_bytes()).expect("write");
        let mut len = None;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).expect("read");
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse::<usize>().ok();
            }
            if l.starts_with("transfer-encoding:") && l.contains("chunked") {
                chunked = true;
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                let mut line = String::new();
                self.r.read_line(&mut line).expect("read");
                let n = usize::from_str_radix(line.trim(), 16).expect("chunk size");
                let mut buf = vec![0; n + 2];
                self.r.read_exact(&mut buf).expect("chunk");
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
        } else {
            let mut buf = vec![0; len.expect("content-length")];
            self.r.read_exact(&mut buf).expect("body");
            out = buf;
        }
        String::from_utf8(out).expect("utf8")
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}).to_string();
        let v: Value = serde_json::from_str(&self.post(&body)).expect("json");
        v
    }
}

fn bench_genesis(senders: &[AccountId], big_subnet: bool) -> GenesisConfig {
    let mut g = tensornet_runtime::dev_genesis().expect("dev genesis");
    for a in senders {
        g.balances.push(tensornet_runtime::genesis::GenesisBalance {
            account: a.to_hex(),
            rao: 1_000_000_000_000,
        });
    }
    if big_subnet {
        let alice = g.root.clone();
        g.subnets.push(
            serde_json::from_value(json!({
                "owner": alice, "hotkey": AccountId([0xee; 32]).to_hex(),
                "hyperparameters": {"max_allowed_uids": 4096}
            }))
            .expect("subnet"),
        );
        g.params.insert("burn_max".into(), json!(1_000_000));
        g.params.insert("burn_min".into(), json!(1_000));
    }
    g
}

fn transfers(total: usize, senders: usize) -> f64 {
    let keys: Vec<tensornet_keys::Keypair> = (0..senders)
        .map(|i| tensornet_keys::Keypair::from_uri(&format!("//bench{i}")).expect("key"))
        .collect();
    let ids: Vec<AccountId> = keys.iter().map(|k| k.account_id()).collect();
    let genesis = bench_genesis(&ids, false);
    let gh = genesis.build().expect("genesis").hash;
    eprintln!("signing {total} transfers from {senders} senders…");
    let per = total.div_ceil(senders);
    let mut txs = Vec::with_capacity(total);
    for n in 0..per as u64 {
        for (i, k) in keys.iter().enumerate() {
            if txs.len() < total {
                let dest = ids[(i + 1) % senders];
                let tx = SignedTransaction::sign(k, &gh, n, Call::Transfer { dest, amount: 1 });
                txs.push(tensornet_rpc_api::encode_transaction(&tx));
            }
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = NodeConfig::new(genesis).expect("config");
    cfg.base_path = Some(dir.path().to_path_buf());
    cfg.rpc_addr = "127.0.0.1:0".parse().expect("addr");
    cfg.block_time = Duration::from_millis(250);
    let node = rt
        .block_on(Node::start(
            cfg.clone(),
            Box::new(SingleAuthority::new(cfg.block_time)),
        ))
        .expect("start");
    let addr = node.rpc_addr();
    let start_head = node.shared().head_number();
    let t0 = Instant::now();
    let chunks: Vec<Vec<String>> = txs.chunks(total.div_ceil(4)).map(|c| c.to_vec()).collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            std::thread::spawn(move || {
                let mut c = Conn::new(addr);
                let mut errors = 0usize;
                for batch in chunk.chunks(200) {
                    let reqs: Vec<Value> = batch
                        .iter()
                        .enumerate()
                        .map(|(i, t)| json!({"jsonrpc":"2.0","id":i,"method":"tx_submit","params":[t]}))
                        .collect();
                    let resp: Value = serde_json::from_str(&c.post(&Value::Array(reqs).to_string()))
                        .expect("batch json");
                    errors += resp
                        .as_array()
                        .map(|a| a.iter().filter(|r| r.get("error").is_some()).count())
                        .unwrap_or(batch.len());
                }
                errors
            })
        })
        .collect();
    let errors: usize = handles.into_iter().map(|h| h.join().expect("join")).sum();
    let submitted = t0.elapsed();
    assert_eq!(errors, 0, "submissions refused");
    // Wait until everything is in stored blocks.
    let shared = node.shared().clone();
    let mut counted = 0usize;
    let mut seen = start_head;
    while counted < total {
        let snap = shared.store().snapshot().expect("snapshot");
        while seen < snap.head().number {
            seen += 1;
            counted += snap.block(seen).expect("block").map_or(0, |b| b.body.len());
        }
        if counted < total {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "stalled at {counted}"
        );
    }
    let el = t0.elapsed();
    let rate = total as f64 / el.as_secs_f64();
    println!(
        "transfers: {total} from {senders} senders submitted in {:.2} s, all included and stored in {:.2} s ({} blocks) → {:.0} tx/s",
        submitted.as_secs_f64(),
        el.as_secs_f64(),
        seen - start_head,
        rate
    );
    rt.block_on(node.shutdown());
    rate
}

fn metagraph() -> f64 {
    let genesis = bench_genesis(&[], true);
    let g = genesis.build().expect("genesis");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = tensornet_node::store_path(dir.path());
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let (store, _) = ChainStore::open(&path, &g).expect("store");
    let mut chain = MemoryChain::from_genesis(g);
    let alice = tensornet_keys::Keypair::from_uri("//Alice").expect("alice");
    let body: Vec<SignedTransaction> = (0..4095u32)
        .map(|i| {
            let mut hk = [0u8; 32];
            hk[..4].copy_from_slice(&i.to_be_bytes());
            hk[31] = 1;
            SignedTransaction::sign(
                &alice,
                &chain.genesis_hash(),
                u64::from(i),
                Call::BurnedRegister {
                    netuid: 1,
                    hotkey: AccountId(hk),
                    max_price: None,
                },
            )
        })
        .collect();
    let ts = chain.head().timestamp + 12_000;
    let (block, out) = chain.produce_block(ts, body).expect("block");
    assert!(
        out.receipts.iter().all(|r| r.error.is_none()),
        "a registration failed"
    );
    store
        .commit_block(
            &block,
            &StoredOutcome {
                receipts: out.receipts,
                events: out.events,
            },
            &out.changes,
        )
        .expect("commit");
    drop(store);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut cfg = NodeConfig::new(genesis).expect("config");
    cfg.base_path = Some(dir.path().to_path_buf());
    cfg.rpc_addr = "127.0.0.1:0".parse().expect("addr");
    cfg.block_time = Duration::from_secs(3600);
    let node = rt
        .block_on(Node::start(
            cfg.clone(),
            Box::new(SingleAuthority::new(cfg.block_time)),
        ))
        .expect("start");
    let mut c = Conn::new(node.rpc_addr());
    let mut times = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let v = c.call("subnet_metagraph", json!([1]));
        let n = v["result"]["neurons"].as_array().map_or(0, |a| a.len());
        times.push(t.elapsed());
        assert_eq!(n, 4096, "metagraph size");
    }
    times.sort();
    let med = times[times.len() / 2].as_secs_f64() * 1e3;
    println!(
        "metagraph: 4096 UIDs, median {med:.1} ms (min {:.1}, max {:.1}) at the client",
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
    rt.block_on(node.shutdown());
    med
}

fn ready_time() {
    let bin = std::env::var("TENSORNET_BIN").unwrap_or_else(|_| "target/release/tensornet".into());
    let mut ts = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let Ok(mut child) = std::process::Command::new(&bin)
            .args(["node", "run", "--dev", "--rpc-addr", "127.0.0.1:0"])
            .stderr(std::process::Stdio::piped())
            .spawn()
        else {
            println!("ready: cannot run {bin} (build it or set TENSORNET_BIN)");
            return;
        };
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let ok = lines.any(|l| l.map(|l| l.contains("RPC ready")).unwrap_or(false));
        ts.push(t.elapsed());
        let _ = child.kill();
        let _ = child.wait();
        assert!(ok, "no ready line");
    }
    ts.sort();
    println!(
        "ready: `{bin} node run --dev` to RPC ready, median {:.0} ms over 5 starts (max {:.0})",
        ts[2].as_secs_f64() * 1e3,
        ts[4].as_secs_f64() * 1e3
    );
}

/// Median of a list of durations, in ms.
fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Figure 4: the epoch blocks of a 4096-UID subnet on a real store (see the crate docs).
fn epoch_blocks() {
    for (validators, weights_on_all) in [(64, true), (64, false), (256, true), (256, false)] {
        let shape = BigSubnet {
            uids: 4096,
            validators,
            weights_on_all,
            tempo: 9,
        };
        let g = shape.genesis().expect("fixture");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = tensornet_node::store_path(dir.path());
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let (store, _) = ChainStore::open(&path, &g).expect("store");
        let mut root = StateRoot::from_store(&store.snapshot().expect("snapshot")).expect("root");
        assert_eq!(root.root(), g.header.state_root);
        let mut head = g.header.clone();
        let (mut epochs, mut others) = (Vec::new(), Vec::new());
        for number in 1..=101 {
            let timestamp = head.timestamp + 250;
            let t0 = Instant::now();
            let snap = store.snapshot().expect("snapshot");
            let out = execute_block_unchecked(&snap, number, timestamp, &[]).expect("block");
            let t1 = Instant::now();
            let update = root.preview(&out.changes);
            let header = Header {
                parent_hash: head.hash(),
                number,
                timestamp,
                state_root: update.root(),
                tx_root: tx_root(&[]),
            };
            let t2 = Instant::now();
            let epoch = out
                .events
                .iter()
                .any(|e| matches!(e, Event::EpochRan { .. }));
            let block = Block {
                header,
                body: Vec::new(),
            };
            let stored = StoredOutcome {
                receipts: out.receipts,
                events: out.events,
            };
            store
                .commit_block(&block, &stored, &out.changes)
                .expect("commit");
            root.commit(update);
            let t3 = Instant::now();
            drop(snap);
            head = block.header;
            // The first epoch has no bonds yet; the later ones are the steady state.
            if epoch && number > 1 {
                epochs.push((t1 - t0, t2 - t1, t3 - t2, t3 - t0));
            } else if !epoch {
                others.push(t3 - t0);
            }
        }
        let col = |f: fn(&(Duration, Duration, Duration, Duration)) -> Duration| {
            median_ms(epochs.iter().map(f).collect())
        };
        println!(
            "epoch block: 4096 UIDs, v{validators}/{}: median {:.2} ms over {} epochs (execute {:.2}, state root {:.2}, commit {:.2}); other blocks {:.2} ms",
            if weights_on_all { "all" } else { "10pct" },
            col(|e| e.3),
            epochs.len(),
            col(|e| e.0),
            col(|e| e.1),
            col(|e| e.2),
            median_ms(others),
        );
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("epoch") {
        epoch_blocks();
        return;
    }
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(40_000);
    let senders: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    ready_time();
    metagraph();
    transfers(total, senders);
    epoch_blocks();
}
