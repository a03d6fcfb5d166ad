//! `tensornet axon echo|query|bench`: runs the built binary against itself on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const AXON_HK: &str = "5FZFbVHsqXdzitno1eF1gBjYesXckiGewQ3qURrSuVbMisnh";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tensornet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tensornet"))
}

/// Writes plaintext hotkey keyfiles for the `dendrite` and `axon` vector keys, each as the
/// `default` hotkey of a wallet named after its role.
fn wallets(root: &Path) {
    let text = std::fs::read_to_string(repo().join("tests/vectors/keys/keys.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for role in ["dendrite", "axon"] {
        let k = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["role"] == role)
            .unwrap();
        let s = &k["sr25519"];
        let hex = |f: &str| format!("0x{}", s[f].as_str().unwrap());
        let doc = serde_json::json!({
            "secretPhrase": k["mnemonic"],
            "secretSeed": hex("mini_secret_hex"),
            "privateKey": hex("secret_key_hex"),
            "publicKey": hex("public_key_hex"),
            "accountId": hex("public_key_hex"),
            "ss58Address": s["ss58"],
        });
        let dir = root.join(role).join("hotkeys");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("default"), doc.to_string()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("default"), std::fs::Permissions::from_mode(0o600))
                .unwrap();
            for d in [dir.as_path(), dir.parent().unwrap()] {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
        }
    }
}

/// Kills the echo axon when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_echo(root: &Path) -> (Server, String) {
    let mut child = tensornet()
        .args(["axon", "echo", "--wallet-path"])
        .arg(root)
        .args(["--wallet-name", "axon", "--port", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start tensornet axon echo");
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    // Skip warnings (e.g. about permissions) until the listening line.
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"))
        .expect("axon echo printed its address");
    let addr = line
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (server, addr)
}

fn run_json(args: &[&str], root: &Path) -> (i32, serde_json::Value) {
    let out = tensornet()
        .args(args)
        .arg("--wallet-path")
        .arg(root)
        .output()
        .expect("run tensornet");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn echo_query_and_bench() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    wallets(root);
    let (_server, addr) = start_echo(root);
    let (_server2, addr2) = start_echo(root);

    let (code, v) = run_json(
        &[
            "axon",
            "query",
            "--name",
            "dendrite",
            "--axon",
            &addr,
            "--axon-hotkey",
            AXON_HK,
            "--synapse",
            "Echo",
            "--body",
            r#"{"text":"hi"}"#,
            "--json",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status_code"], 200);
    assert_eq!(v["response"]["response"], "hi");

    let pixels: Vec<f64> = (0..64).map(|j| j as f64 / 64.0).collect();
    let body = serde_json::json!({ "pixels": pixels }).to_string();
    let (code, v) = run_json(
        &[
            "axon",
            "query",
            "--name",
            "dendrite",
            "--axon",
            &addr,
            "--axon-hotkey",
            AXON_HK,
            "--synapse",
            "Classify",
            "--body",
            &body,
            "--json",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}");
    let logits = v["response"]["logits"].as_array().unwrap();
    assert_eq!(logits.len(), 10);
    let want0: f64 = pixels
        .iter()
        .enumerate()
        .map(|(j, p)| (((17 * j) % 23) as f64 - 11.0) / 11.0 * p)
        .sum();
    assert!((logits[0].as_f64().unwrap() - want0).abs() < 1e-12);

    // Signed for the wrong axon hotkey: the axon answers 401, the command exits 1.
    let dendrite_hk = "5EJG5GdsyHTbgKENr89V4XYjx6RrH6wh8CyALxmL98RmQVsY";
    let (code, v) = run_json(
        &[
            "axon",
            "query",
            "--name",
            "dendrite",
            "--axon",
            &addr,
            "--axon-hotkey",
            dendrite_hk,
            "--synapse",
            "Echo",
            "--body",
            r#"{"text":"hi"}"#,
            "--json",
        ],
        root,
    );
    assert_eq!(code, 1);
    assert_eq!(v["status_code"], 401);

    // Bad usage: a body that is not the synapse, an address that is not SS58.
    let (code, _) = run_json(
        &[
            "axon",
            "query",
            "--name",
            "dendrite",
            "--axon",
            &addr,
            "--axon-hotkey",
            AXON_HK,
            "--body",
            r#"{"nope":1}"#,
        ],
        root,
    );
    assert_eq!(code, 2);
    let (code, _) = run_json(
        &[
            "axon",
            "query",
            "--name",
            "dendrite",
            "--axon",
            &addr,
            "--axon-hotkey",
            "5xyz",
            "--body",
            r#"{"text":"hi"}"#,
        ],
        root,
    );
    assert_eq!(code, 2);

    // Bench: 64 in flight against one axon, then fan-out rounds to two.
    let (code, v) = run_json(
        &[
            "axon",
            "bench",
            "--name",
            "dendrite",
            "--targets",
            &addr,
            "--axon-hotkey",
            AXON_HK,
            "--synapse",
            "Echo",
            "--calls",
            "300",
            "--concurrency",
            "64",
            "--json",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["failures"], 0);
    assert!(v["calls_per_s"].as_f64().unwrap() > 0.0);
    for k in ["p50_ms", "p90_ms", "p99_ms"] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}: {v}");
    }
    let targets = format!("{addr},{addr2}");
    let (code, v) = run_json(
        &[
            "axon",
            "bench",
            "--name",
            "dendrite",
            "--targets",
            &targets,
            "--axon-hotkey",
            AXON_HK,
            "--synapse",
            "Classify",
            "--calls",
            "20",
            "--concurrency",
            "2",
            "--fanout",
            "--json",
        ],
        root,
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["failures"], 0);
    assert_eq!(v["calls"], 20);

    // A missing hotkey is a clear failure, not a panic.
    let out = tensornet()
        .args([
            "axon",
            "query",
            "--name",
            "nobody",
            "--axon",
            &addr,
            "--axon-hotkey",
            AXON_HK,
        ])
        .args(["--body", r#"{"text":"hi"}"#, "--wallet-path"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot load the hotkey"));
}
