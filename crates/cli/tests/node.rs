//! `tensornet node run` as a real process: bad input over raw HTTP JSON-RPC, and a crash test
//! (kill -9 twenty times under a stream of transfers, then replay-verify the store).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tensornet_keys::Keypair;
use tensornet_primitives::{AccountId, Hash32};
use tensornet_rpc_api::encode_transaction;
use tensornet_runtime::{Call, SignedTransaction};

struct NodeProc {
    child: Child,
    addr: SocketAddr,
}

impl NodeProc {
    fn start(base: &Path, block_ms: u64) -> NodeProc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tensornet"))
            .args(["node", "run", "--dev", "--rpc-addr", "127.0.0.1:0"])
            .arg("--base-path")
            .arg(base)
            .args(["--block-time", &block_ms.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tensornet");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("node exited before RPC was ready")
                .expect("read stderr");
            if let Some(rest) = line.split("RPC ready on ").nth(1) {
                let a = rest.split_whitespace().next().expect("addr");
                break a.parse().expect("socket addr");
            }
        };
        // Keep draining stderr so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        NodeProc { child, addr }
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a raw body; returns the HTTP status and the body.
fn post_raw(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (_, body) = post_raw(addr, req.to_string().as_bytes());
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{method}: bad JSON {body:?}: {e}"))
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error, got {v}"))
}

fn genesis_hash(addr: SocketAddr) -> Hash32 {
    let v = call(addr, "chain_info", json!([]));
    serde_json::from_value(v["result"]["genesis_hash"].clone()).unwrap()
}

fn next_nonce(addr: SocketAddr, who: &AccountId) -> u64 {
    let v = call(addr, "state_account", json!([who.to_hex()]));
    v["result"]["next_nonce"].as_u64().expect("next_nonce")
}

fn submit(addr: SocketAddr, tx: &SignedTransaction) -> Value {
    call(addr, "tx_submit", json!([encode_transaction(tx)]))
}

fn head_number(addr: SocketAddr) -> u64 {
    call(addr, "chain_head", json!([]))["result"]["number"]
        .as_u64()
        .expect("head")
}

#[test]
fn bad_input_gets_json_rpc_errors_and_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), 100);
    let a = node.addr;
    let g = genesis_hash(a);
    let alice = Keypair::from_uri("//Alice").unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap().account_id();

    // Malformed JSON.
    let (_, body) = post_raw(a, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error_code(&v), -32700);
    // Unknown method and wrong params.
    assert_eq!(error_code(&call(a, "no_such_method", json!([]))), -32601);
    assert_eq!(error_code(&call(a, "subnet_info", json!(["x"]))), -32602);
    // Oversized request (> 512 KiB): an error response, not a dropped connection.
    let big = json!({"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["0x".to_string() + &"00".repeat(400_000)]});
    let (status, body) = post_raw(a, big.to_string().as_bytes());
    assert!(
        status == 413 || body.contains("error"),
        "status {status} body {body:?}"
    );
    // Not a transaction.
    assert_eq!(error_code(&submit_hex(a, "0xdeadbeef")), 1001);
    // Bad signature.
    let mut tx = SignedTransaction::sign(
        &alice,
        &g,
        0,
        Call::Transfer {
            dest: bob,
            amount: 1,
        },
    );
    tx.signature[5] ^= 1;
    assert_eq!(error_code(&submit(a, &tx)), 1003);
    // Signed for another chain.
    let other = SignedTransaction::sign(
        &alice,
        &Hash32([1; 32]),
        0,
        Call::Transfer {
            dest: bob,
            amount: 1,
        },
    );
    assert_eq!(error_code(&submit(a, &other)), 1003);
    // Unknown subnet.
    let reg = SignedTransaction::sign(
        &alice,
        &g,
        0,
        Call::BurnedRegister {
            netuid: 99,
            hotkey: bob,
            max_price: None,
        },
    );
    let v = submit(a, &reg);
    assert_eq!(error_code(&v), 1007, "{v}");
    assert_eq!(v["error"]["data"], json!("subnet_not_found"));
    assert_eq!(error_code(&call(a, "subnet_metagraph", json!([99]))), 2001);
    // Huge vectors: over the transaction size limit.
    let n = 20_000u16;
    let huge = SignedTransaction::sign(
        &alice,
        &g,
        0,
        Call::SetWeights {
            netuid: 1,
            uids: (0..n).collect(),
            values: vec![1; n as usize],
            version_key: 0,
        },
    );
    assert_eq!(error_code(&submit(a, &huge)), 1002);
    // Replayed nonce: include one transfer, then replay it and reuse its nonce.
    let ok = SignedTransaction::sign(
        &alice,
        &g,
        0,
        Call::Transfer {
            dest: bob,
            amount: 5,
        },
    );
    let h = submit(a, &ok)["result"].clone();
    assert_eq!(h, json!(ok.hash().to_hex()));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = call(a, "tx_status", json!([ok.hash().to_hex()]));
        if s["result"]["status"] == "included" {
            assert!(s["result"]["receipt"]["error"].is_null());
            break;
        }
        assert!(Instant::now() < deadline, "not included: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(error_code(&submit(a, &ok)), 1008);
    let again = SignedTransaction::sign(
        &alice,
        &g,
        0,
        Call::Transfer {
            dest: bob,
            amount: 6,
        },
    );
    assert_eq!(error_code(&submit(a, &again)), 1004);
    // Still serving.
    assert!(head_number(a) >= 1);
    assert_eq!(
        call(a, "tx_status", json!([Hash32([3; 32]).to_hex()]))["result"]["status"],
        "unknown"
    );
}

fn submit_hex(a: SocketAddr, hex: &str) -> Value {
    call(a, "tx_submit", json!([hex]))
}

#[test]
fn kill_dash_nine_twenty_times_loses_nothing_reported() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("data");
    std::fs::create_dir_all(&base).unwrap();
    // --base-path may hold files tensornet did not write.
    std::fs::write(base.join("README.txt"), "not ours").unwrap();
    let alice = Keypair::from_uri("//Alice").unwrap();
    let mut included: Vec<(Hash32, u64)> = Vec::new();
    let mut max_head = 0u64;
    let mut seed = 0x9e3779b97f4a7c15u64;
    let t0 = Instant::now();
    for round in 0..20 {
        let node = NodeProc::start(&base, 40);
        let a = node.addr;
        // Everything reported before a kill is still there, with a head never lower.
        let h = head_number(a);
        assert!(
            h >= max_head,
            "round {round}: head {h} went below {max_head}"
        );
        for (hash, block) in &included {
            let s = call(a, "tx_status", json!([hash.to_hex()]));
            assert_eq!(s["result"]["status"], "included", "round {round}: {s}");
            assert_eq!(s["result"]["block_number"].as_u64(), Some(*block));
        }
        let g = genesis_hash(a);
        // Stream transfers for a random 100–400 ms, then kill -9.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let until = Instant::now() + Duration::from_millis(100 + seed % 300);
        let mut nonce = next_nonce(a, &alice.account_id());
        let mut sent = Vec::new();
        while Instant::now() < until {
            let dest = AccountId([(nonce % 250) as u8 + 1; 32]);
            let tx = SignedTransaction::sign(
                &alice,
                &g,
                nonce,
                Call::Transfer {
                    dest,
                    amount: 1_000,
                },
            );
            let v = submit(a, &tx);
            assert!(v["result"].is_string(), "round {round}: {v}");
            sent.push(tx.hash());
            nonce += 1;
            if sent.len() % 5 == 0 {
                for hsh in &sent {
                    let s = call(a, "tx_status", json!([hsh.to_hex()]));
                    if s["result"]["status"] == "included" {
                        let b = s["result"]["block_number"].as_u64().unwrap();
                        if !included.iter().any(|(x, _)| x == hsh) {
                            included.push((*hsh, b));
                        }
                    }
                }
                max_head = max_head.max(head_number(a));
            }
        }
        node.kill9();
    }
    assert!(
        included.len() > 20,
        "too few inclusions observed: {}",
        included.len()
    );
    // The stored chain replays from genesis to exactly the stored state root.
    let out = Command::new(env!("CARGO_BIN_EXE_tensornet"))
        .args(["node", "verify", "--dev", "--json", "--base-path"])
        .arg(&base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["head"].as_u64().unwrap() >= max_head);
    let node = NodeProc::start(&base, 40);
    let head = call(node.addr, "chain_block", json!([v["head"]]));
    assert_eq!(head["result"]["header"]["state_root"], v["state_root"]);
    assert!(base.join("README.txt").exists());
    eprintln!(
        "crash test: {} inclusions, head {}, {:?}",
        included.len(),
        v["head"],
        t0.elapsed()
    );
}
