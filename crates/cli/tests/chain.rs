//! End-to-end: a real `tensornet node run --dev` on a free 127.0.0.1 port, driven only through
//! the `tensornet` CLI (wallets, subnet, registration, stake, weights, metagraph, chain).
//!
//! Dev genesis: tempo 20, 250 ms blocks, weights rate limit 5, commit-reveal off; //Alice …
//! //Ferdie hold 1 000 000 TAO each.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tensornet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tensornet"))
}

/// Kills the node when the test ends, pass or fail.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Env {
    rpc: String,
    wallets: PathBuf,
}

impl Env {
    /// Runs `tensornet ARGS` and returns the output.
    fn raw(&self, args: &[&str]) -> Output {
        tensornet()
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a chain command with `--rpc`, `--wallet-path` (when `wallet`) and `--json`; asserts
    /// exit 0 and a single JSON document on stdout.
    fn json(&self, args: &[&str], wallet: bool) -> Value {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--rpc", &self.rpc, "--json"]);
        let wp = self.wallets.to_string_lossy().to_string();
        if wallet {
            a.extend(["--wallet-path", &wp]);
        }
        let out = self.raw(&a);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "tensornet {a:?} failed ({:?}):\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("tensornet {a:?}: stdout is not one JSON document ({e}): {stdout}")
        })
    }

    /// A wallet whose coldkey is the dev key `uri` (unencrypted) plus a new hotkey `default`.
    fn wallet(&self, name: &str, uri: &str) -> String {
        let wp = self.wallets.to_string_lossy().to_string();
        let out = self.raw(&[
            "wallet",
            "regen-coldkey",
            "--uri",
            uri,
            "--no-password",
            "--wallet-path",
            &wp,
            "--wallet-name",
            name,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = self.raw(&[
            "wallet",
            "new-hotkey",
            "--wallet-path",
            &wp,
            "--wallet-name",
            name,
            "--hotkey",
            "default",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hotkey"]["ss58"]
            .as_str()
            .or_else(|| v["ss58"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no hotkey address in {v}"))
    }

    fn metagraph(&self, netuid: &str) -> Value {
        self.json(&["metagraph", "--netuid", netuid], false)
    }

    /// Polls the metagraph until `pred` holds, at most `secs`.
    fn wait_metagraph(
        &self,
        netuid: &str,
        secs: u64,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let m = self.metagraph(netuid);
            if pred(&m) {
                return m;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what}: {m}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

fn start_node(base: &Path) -> (Node, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = tensornet()
        .args(["node", "run", "--dev", "--rpc-addr", &addr, "--base-path"])
        .arg(base)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Node(child), format!("http://{addr}"))
}

fn neuron<'a>(m: &'a Value, hotkey: &str) -> &'a Value {
    m["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["hotkey"] == hotkey)
        .unwrap_or_else(|| panic!("{hotkey} not in the metagraph {m}"))
}

#[test]
fn unreachable_node_fails_fast_with_a_clear_message() {
    let port = free_port(); // nothing listens there now
    let start = Instant::now();
    let out = tensornet()
        .args([
            "chain",
            "head",
            "--json",
            "--rpc",
            &format!("http://127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the node"), "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    // Bad usage is exit 2.
    let out = tensornet()
        .args(["stake", "add", "--amount", "abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dev_node_subnet_weights_epoch_metagraph() {
    let tmp = tempfile::tempdir().unwrap();
    let (_node, rpc) = start_node(&tmp.path().join("node"));
    let env = Env {
        rpc,
        wallets: tmp.path().join("wallets"),
    };

    // Ready: the head answers.
    let start = Instant::now();
    let head = loop {
        let out = env.raw(&["chain", "head", "--json", "--rpc", &env.rpc]);
        if out.status.success() {
            break serde_json::from_slice::<Value>(&out.stdout).unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node not ready: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(head["number"].is_u64());
    for k in ["hash", "state_root"] {
        let s = head[k].as_str().unwrap();
        assert!(s.starts_with("0x") && s.len() == 66, "{k}: {s}");
    }

    // Wallets from the dev accounts.
    let owner_hk = env.wallet("owner", "//Alice");
    let validators = [("v1", "//Bob"), ("v2", "//Charlie")];
    let miners = [("m1", "//Dave"), ("m2", "//Eve"), ("m3", "//Ferdie")];
    let mut vhk = Vec::new();
    for (n, uri) in validators {
        vhk.push(env.wallet(n, uri));
    }
    let mut mhk = Vec::new();
    for (n, uri) in miners {
        mhk.push(env.wallet(n, uri));
    }

    let bal = env.json(&["wallet", "balance", "--wallet-name", "owner"], true);
    assert_eq!(bal["free"].as_u64(), Some(1_000_000 * 1_000_000_000));

    // Subnet.
    let created = env.json(
        &["subnet", "create", "--wallet-name", "owner", "--no-prompt"],
        true,
    );
    assert_eq!(created["success"], true, "{created}");
    let netuid = created["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["network_registered"]["netuid"].as_u64())
        .unwrap_or_else(|| panic!("no network_registered event: {created}"));
    let netuid_n = netuid;
    let netuid = netuid.to_string();
    let list = env.json(&["subnet", "list"], false);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["netuid"] == netuid_n));
    let hp = env.json(&["subnet", "hyperparameters", "--netuid", &netuid], false);
    assert_eq!(hp["tempo"], 20);
    assert_eq!(hp["commit_reveal_enabled"], false);
    let cost = env.json(&["subnet", "burn-cost", "--netuid", &netuid], false);
    assert!(cost["registration"].as_u64().unwrap() > 0);

    // Register two validators and three miners; stake the validators.
    for (n, _) in validators.iter().chain(miners.iter()) {
        let r = env.json(
            &[
                "subnet",
                "register",
                "--netuid",
                &netuid,
                "--wallet-name",
                n,
                "--no-prompt",
            ],
            true,
        );
        assert_eq!(r["success"], true, "{n}: {r}");
    }
    for (n, _) in validators {
        let r = env.json(
            &[
                "stake",
                "add",
                "--amount",
                "1000",
                "--wallet-name",
                n,
                "--no-prompt",
            ],
            true,
        );
        assert_eq!(r["success"], true, "{n}: {r}");
    }
    let stakes = env.json(&["stake", "list", "--wallet-name", "v1"], true);
    assert_eq!(stakes["total_stake"].as_u64(), Some(1000 * 1_000_000_000));

    // Publish an axon for a miner.
    let r = env.json(
        &[
            "axon",
            "set",
            "--netuid",
            &netuid,
            "--ip",
            "127.0.0.1",
            "--port",
            "8091",
            "--wallet-name",
            "m1",
        ],
        true,
    );
    assert_eq!(r["success"], true, "{r}");

    // First epoch after the registrations: validators hold permits.
    let m = env.metagraph(&netuid);
    let epoch0 = m["epoch_index"].as_u64().unwrap();
    let m = env.wait_metagraph(&netuid, 60, "validator permits", |m| {
        m["epoch_index"].as_u64().unwrap() > epoch0
            && vhk.iter().all(|h| neuron(m, h)["validator_permit"] == true)
    });
    assert_eq!(m["neurons"].as_array().unwrap().len(), 6);
    assert_eq!(neuron(&m, &mhk[0])["axon"], "127.0.0.1:8091");
    assert!(neuron(&m, &owner_hk)["uid"] == 0);
    let miner_uids: Vec<String> = mhk
        .iter()
        .map(|h| neuron(&m, h)["uid"].to_string())
        .collect();
    let uids = miner_uids.join(",");

    // Weights from both validators.
    for (n, _) in validators {
        let r = env.json(
            &[
                "weights",
                "set",
                "--netuid",
                &netuid,
                "--uids",
                &uids,
                "--weights",
                "1,2,3",
                "--wallet-name",
                n,
            ],
            true,
        );
        assert_eq!(r["success"], true, "{n}: {r}");
    }

    // Next epochs: incentive for the miners, dividends for the validators.
    let epoch1 = env.metagraph(&netuid)["epoch_index"].as_u64().unwrap();
    let m = env.wait_metagraph(&netuid, 60, "incentive and dividends", |m| {
        m["epoch_index"].as_u64().unwrap() > epoch1
            && mhk
                .iter()
                .all(|h| neuron(m, h)["incentive"].as_f64().unwrap() > 0.0)
            && vhk
                .iter()
                .all(|h| neuron(m, h)["dividends"].as_f64().unwrap() > 0.0)
    });
    let inc: Vec<f64> = mhk
        .iter()
        .map(|h| neuron(&m, h)["incentive"].as_f64().unwrap())
        .collect();
    assert!(
        inc[0] < inc[1] && inc[1] < inc[2],
        "incentive follows the weights: {inc:?}"
    );

    // Table output works too (not JSON).
    let out = env.raw(&["metagraph", "--netuid", &netuid, "--rpc", &env.rpc]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    for col in [
        "UID",
        "hotkey",
        "stake",
        "permit",
        "active",
        "consensus",
        "incentive",
        "dividends",
        "trust",
        "emission",
        "axon",
    ] {
        assert!(table.contains(col), "missing column {col}: {table}");
    }

    // Transfer, overview, block.
    let r = env.json(
        &[
            "wallet",
            "transfer",
            "--dest",
            &mhk[0],
            "--amount",
            "1.5",
            "--wallet-name",
            "owner",
            "--no-prompt",
        ],
        true,
    );
    assert_eq!(r["success"], true, "{r}");
    let block = r["block_number"].as_u64().unwrap().to_string();
    let b = env.json(&["chain", "block", &block], false);
    assert!(b["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["call"]["transfer"]["amount"] == 1_500_000_000));
    // An encrypted coldkey: --password-env unlocks it, --no-prompt without it fails clearly.
    let wp = env.wallets.to_string_lossy().to_string();
    let out = tensornet()
        .args([
            "wallet",
            "regen-coldkey",
            "--uri",
            "//Ferdie",
            "--password-env",
            "TN_TEST_PW",
        ])
        .args(["--wallet-path", &wp, "--wallet-name", "enc", "--json"])
        .env("TN_TEST_PW", "correct horse 42")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let transfer = |pw: bool| {
        let mut c = tensornet();
        c.args([
            "wallet",
            "transfer",
            "--dest",
            &owner_hk,
            "--amount",
            "1",
            "--wallet-name",
            "enc",
        ])
        .args([
            "--wallet-path",
            &wp,
            "--rpc",
            &env.rpc,
            "--json",
            "--no-prompt",
        ])
        .env("TN_TEST_PW", "correct horse 42")
        .stdin(Stdio::null());
        if pw {
            c.args(["--password-env", "TN_TEST_PW"]);
        }
        c.output().unwrap()
    };
    let out = transfer(false);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-env"));
    let out = transfer(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["success"], true);

    let ov = env.json(&["wallet", "overview", "--wallet-name", "v1"], true);
    assert_eq!(ov["hotkeys"][0]["netuid"], netuid_n);

    // Commit-reveal: the owner turns it on; v1 commits (the commit is saved in its wallet),
    // an early reveal is refused and keeps the saved commit, a reveal in the next epoch takes
    // the saved weights and salt by itself and removes them.
    let r = env.json(
        &[
            "subnet",
            "set",
            "--netuid",
            &netuid,
            "--param",
            "commit_reveal_enabled",
            "--value",
            "true",
            "--wallet-name",
            "owner",
            "--no-prompt",
        ],
        true,
    );
    assert_eq!(r["success"], true, "{r}");
    // Past the weights rate limit of the earlier `weights set`.
    env.wait_metagraph(&netuid, 60, "the weights rate limit", |m| {
        m["block"].as_u64().unwrap_or(0) > block.parse::<u64>().unwrap() + 6
    });
    let c = env.json(
        &[
            "weights",
            "commit",
            "--netuid",
            &netuid,
            "--uids",
            &uids,
            "--weights",
            "3,2,1",
            "--wallet-name",
            "v1",
        ],
        true,
    );
    assert_eq!(c["inclusion"]["success"], true, "{c}");
    let saved = std::path::PathBuf::from(c["saved_to"].as_str().unwrap());
    assert!(saved.starts_with(&env.wallets), "{c}");
    let file: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(file[0]["hash"], c["commit_hash"]);
    assert_eq!(file[0]["salt"], c["salt"]);
    let reveal = || {
        env.raw(&[
            "weights",
            "reveal",
            "--netuid",
            &netuid,
            "--wallet-name",
            "v1",
            "--wallet-path",
            &wp,
            "--rpc",
            &env.rpc,
            "--json",
        ])
    };
    // Free calls that break their rules never enter a block: the node refuses it at once.
    let early = reveal();
    let err = String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(1), "{err}");
    assert!(err.contains("reveal"), "{err}");
    assert!(saved.exists(), "a refused reveal keeps the saved commit");
    let start = Instant::now();
    loop {
        let out = reveal();
        if out.status.success() {
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(doc["success"], true, "{doc}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "reveal never accepted: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        !saved.exists(),
        "a revealed commit is removed from the wallet"
    );
    let none = reveal();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("weights commit"));
}
