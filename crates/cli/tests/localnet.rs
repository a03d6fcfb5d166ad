//! `tensornet localnet --epochs 2 --json` end to end: a dev node, 2 validators with different
//! stakes and 4 miners of clearly different quality as child processes. Checks the seed's claim
//! in numbers: incentive ordered by measured accuracy, both validators set weights (dividends
//! > 0, growing with stake), and the ledger balanced.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} is not a number in {v}"))
}

fn u(v: &Value, k: &str) -> u128 {
    v[k].as_u64()
        .map(u128::from)
        .unwrap_or_else(|| panic!("{k} is not an integer in {v}"))
}

#[test]
fn localnet_pays_miners_by_accuracy_and_validators_by_stake() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tensornet"))
        .args(["localnet", "--epochs", "2", "--json", "--base-path"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(170) {
            let _ = child.kill();
            panic!("localnet did not finish within 170 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "localnet failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let doc: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {stdout}"));
    assert_eq!(doc["epochs"], 2);
    let neurons = doc["neurons"].as_array().unwrap();
    assert_eq!(neurons.len(), 6, "{doc}");

    let mut miners: Vec<&Value> = neurons.iter().filter(|n| n["role"] == "miner").collect();
    let mut validators: Vec<&Value> = neurons
        .iter()
        .filter(|n| n["role"] == "validator")
        .collect();
    assert_eq!((miners.len(), validators.len()), (4, 2), "{doc}");

    // Incentive ordered by measured accuracy; the accuracies are clearly apart.
    miners.sort_by(|a, b| f(a, "accuracy").total_cmp(&f(b, "accuracy")));
    for w in miners.windows(2) {
        assert!(
            f(w[1], "accuracy") - f(w[0], "accuracy") >= 0.05,
            "accuracies closer than 5 points: {doc}"
        );
        assert!(
            f(w[1], "incentive") > f(w[0], "incentive"),
            "incentive not ordered by accuracy: {doc}"
        );
        assert!(u(w[1], "earned") > u(w[0], "earned"), "{doc}");
    }
    for m in &miners {
        assert!(m["dividends"].as_f64() == Some(0.0), "{doc}");
    }

    // Both validators set weights (dividends > 0); more stake, more dividends.
    validators.sort_by_key(|v| u(v, "stake"));
    assert!(validators[0]["accuracy"].is_null());
    assert!(f(validators[0], "dividends") > 0.0, "{doc}");
    assert!(
        f(validators[1], "dividends") > f(validators[0], "dividends"),
        "{doc}"
    );
    assert!(
        u(validators[1], "earned") > u(validators[0], "earned"),
        "{doc}"
    );

    // Ledger: what the counted epochs minted went to the neurons, the owner, or was burned.
    let earned: u128 = neurons.iter().map(|n| u(n, "earned")).sum();
    assert_eq!(
        u(&doc, "minted"),
        earned + u(&doc, "owner_cut") + u(&doc, "burned"),
        "{doc}"
    );
    assert!(u(&doc, "minted") > 0);
}
