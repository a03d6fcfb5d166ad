//! Whole networks of real processes (a dev node, validators and miners as child processes of
//! the `tensornet` binary on 127.0.0.1 ports):
//! - `tensornet localnet --epochs 2 --json` end to end: 2 validators with different stakes and
//!   4 miners of clearly different quality. Checks the seed's claim in numbers: incentive
//!   ordered by measured accuracy, both validators set weights (dividends > 0, growing with
//!   stake), and the ledger balanced;
//! - through the `tensornet-localnet` library: a validator killed and restarted resumes from its
//!   saved scores and goes on setting weights; a miner killed mid-run gets weight 0 after 3
//!   failed queries and zero incentive in the following epochs while the others keep earning.
//!
//! The networks run one at a time (they share 2 cores with everything else); every wait polls
//! a condition with a generous limit, and every child is stopped when a test fails (the
//! `Localnet` handle and the `tensornet localnet` process stop their children on drop / exit).

use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tensornet_localnet::{Localnet, LocalnetConfig, Role};
use tensornet_subnet::ValidatorState;

/// One network at a time.
static NETWORKS: Mutex<()> = Mutex::new(());

fn one_network_at_a_time() -> MutexGuard<'static, ()> {
    NETWORKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stops the `tensornet localnet` child if the test fails before it exits: SIGTERM, on which
/// it stops its own children (node and daemons), then SIGKILL if it is still there after 5 s.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.0.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

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
    let _one = one_network_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tensornet"))
        .args(["localnet", "--epochs", "2", "--json", "--base-path"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    // Read both pipes while it runs (the live table could fill a pipe's buffer).
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_reader = read(child.0.stdout.take().map(|p| Box::new(p) as _));
    let err_reader = read(child.0.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(170),
            "localnet did not finish within 170 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = std::process::Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
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

/// A runtime for a test driving a [`Localnet`].
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A small network: `validators` validators and miners with these presets (small models).
async fn start(dir: &Path, validators: u16, presets: &[&str]) -> Localnet {
    let config = LocalnetConfig {
        validators,
        miners: u16::try_from(presets.len()).unwrap(),
        presets: presets.iter().map(|p| p.to_string()).collect(),
        ..LocalnetConfig::new(env!("CARGO_BIN_EXE_tensornet"), dir)
    };
    match Localnet::start(config).await {
        Ok(net) => net,
        Err(e) => panic!("the network did not start: {e}\n{}", logs(dir)),
    }
}

/// The last lines of every log, for failure messages.
fn logs(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir.join("logs")) else {
        return out;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!("--- {}\n", p.display()));
        for l in &lines[lines.len().saturating_sub(8)..] {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Polls `check` every 100 ms until it gives a value; panics with `what` and the logs after
/// `limit`.
async fn until<T, F, Fut>(dir: &Path, what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not within {} s\n{}",
            limit.as_secs(),
            logs(dir)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The on-chain weight rows of the validators, by validator UID.
async fn weight_rows(net: &Localnet) -> Option<BTreeMap<u16, (u64, Vec<(u16, u16)>)>> {
    let mg = net.metagraph(true).await.ok()?;
    let mut out = BTreeMap::new();
    for v in net.neurons().iter().filter(|n| n.role == Role::Validator) {
        let n = mg.neurons.iter().find(|n| n.uid == v.uid)?;
        out.insert(
            v.uid,
            (n.last_update, n.weights.clone().unwrap_or_default()),
        );
    }
    Some(out)
}

/// The miners' UIDs, in start order.
fn miner_uids(net: &Localnet) -> Vec<u16> {
    net.neurons()
        .iter()
        .filter(|n| n.role == Role::Miner)
        .map(|n| n.uid)
        .collect()
}

fn weight_on(row: &[(u16, u16)], uid: u16) -> u16 {
    row.iter().find(|(u, _)| *u == uid).map_or(0, |(_, w)| *w)
}

#[test]
fn a_restarted_validator_resumes_its_scores_and_keeps_setting_weights() {
    let _one = one_network_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let t0 = Instant::now();
    runtime().block_on(async {
        let mut net = start(dir, 1, &["tiny", "mid"]).await;
        let owner = net.neuron("owner").unwrap().clone();
        let miners = miner_uids(&net);

        // Scores for every miner, and weights set at least once.
        let net_ref = &net;
        let miners_ref = &miners;
        until(
            dir,
            "validator scores and weights",
            Duration::from_secs(90),
            || async move {
                let s = net_ref.validator_state("owner").ok()??;
                let scored = miners_ref.iter().all(|&u| {
                    s.scores
                        .get(u)
                        .is_some_and(|e| e.answered >= 5 && e.score > 0.0)
                });
                (scored && s.last_weights_block.is_some()).then_some(())
            },
        )
        .await;

        // A crash: the state on disk is the last one saved.
        net.kill("owner").unwrap();
        let saved: ValidatorState = net.validator_state("owner").unwrap().unwrap();
        let restart_block = net.metagraph(false).await.unwrap().block;
        net.restart("owner").unwrap();

        // Its first save after the restart continues the saved state: the round count goes on,
        // per miner the query counters grew by exactly the rounds run since, and the score moved
        // by at most what those rounds allow ((1 − α)^k · saved + [0, 1 − (1 − α)^k]).
        let net_ref = &net;
        let saved_ref = &saved;
        let after = until(
            dir,
            "a save after the restart",
            Duration::from_secs(60),
            || async move {
                let s = net_ref.validator_state("owner").ok()??;
                (s != *saved_ref).then_some(s)
            },
        )
        .await;
        assert!(
            after.round > saved.round,
            "the restart reset the state: saved round {}, first save after it round {}",
            saved.round,
            after.round
        );
        let k = after.round - saved.round;
        let decay = (1.0 - saved.scores.alpha()).powi(i32::try_from(k).unwrap());
        for &u in &miners {
            let (a, b) = (saved.scores.get(u).unwrap(), after.scores.get(u).unwrap());
            assert_eq!(a.hotkey, b.hotkey);
            assert_eq!(
                b.answered + b.failed,
                a.answered + a.failed + k,
                "uid {u}: counters reset by the restart? saved {a:?}, after {k} rounds {b:?}"
            );
            let low = decay * a.score;
            let high = low + (1.0 - decay);
            assert!(
                (low - 1e-9..=high + 1e-9).contains(&b.score),
                "uid {u}: score {} after {k} rounds is not a continuation of the saved {}",
                b.score,
                a.score
            );
        }
        assert!(after.last_weights_block.is_some());

        // Its start-up line says so too.
        let log = owner.log_path.clone();
        let resumed = format!("(round {}, {} uids scored)", saved.round, miners.len());
        until(
            dir,
            "the restart's start-up line",
            Duration::from_secs(60),
            || {
                let log = log.clone();
                let resumed = resumed.clone();
                async move {
                    std::fs::read_to_string(&log)
                        .ok()?
                        .contains(&resumed)
                        .then_some(())
                }
            },
        )
        .await;

        // And it goes on setting weights on chain, on every miner.
        let net_ref = &net;
        let owner_uid = owner.uid;
        let row = until(
            dir,
            "weights after the restart",
            Duration::from_secs(60),
            || async move {
                let rows = weight_rows(net_ref).await?;
                let (last_update, row) = rows.get(&owner_uid)?.clone();
                (last_update > restart_block).then_some(row)
            },
        )
        .await;
        for &u in &miners {
            assert!(weight_on(&row, u) > 0, "uid {u} has no weight: {row:?}");
        }
        // The state it saves after that step records the submission.
        until(
            dir,
            "the submission in the saved state",
            Duration::from_secs(30),
            || async move {
                let s = net_ref.validator_state("owner").ok()??;
                s.last_weights_block
                    .is_some_and(|b| b > restart_block)
                    .then_some(())
            },
        )
        .await;
        eprintln!("restart test: {:.1} s", t0.elapsed().as_secs_f64());
    });
}

#[test]
fn a_killed_miner_gets_weight_zero_and_no_incentive_while_the_others_keep_earning() {
    let _one = one_network_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let t0 = Instant::now();
    runtime().block_on(async {
        let mut net = start(dir, 2, &["ten_percent", "mid", "full"]).await;
        let miners = miner_uids(&net);
        let victim = net.neuron("miner1").unwrap().uid;
        let others: Vec<u16> = miners.iter().copied().filter(|&u| u != victim).collect();

        // Wait for an epoch that pays every miner.
        let since = Instant::now();
        loop {
            assert!(
                since.elapsed() < Duration::from_secs(90),
                "no epoch paid every miner within 90 s\n{}",
                logs(dir)
            );
            let Some(e) = net.next_epoch(Duration::from_secs(2)).await.unwrap() else {
                continue;
            };
            let paid = |u: u16| e.notice.emission.iter().any(|x| x.uid == u && x.server > 0);
            if miners.iter().all(|&u| paid(u)) {
                break;
            }
        }

        // Kill a miner mid-run.
        net.kill("miner1").unwrap();
        let killed_at = net.metagraph(false).await.unwrap().block;

        // Every validator counts 3 failed queries in a row…
        let validators: Vec<String> = net
            .neurons()
            .iter()
            .filter(|n| n.role == Role::Validator)
            .map(|n| n.name.clone())
            .collect();
        let net_ref = &net;
        let validators_ref = &validators;
        until(
            dir,
            "3 failed queries at every validator",
            Duration::from_secs(60),
            || async move {
                validators_ref
                    .iter()
                    .all(|v| {
                        net_ref
                            .validator_state(v)
                            .ok()
                            .flatten()
                            .and_then(|s| s.scores.get(victim).map(|e| e.consecutive_failures >= 3))
                            .unwrap_or(false)
                    })
                    .then_some(())
            },
        )
        .await;

        // …and then sets weights without it (weight 0), still on the others.
        let zero_at = until(
            dir,
            "weight 0 on the killed miner",
            Duration::from_secs(60),
            || async move {
                let rows = weight_rows(net_ref).await?;
                let fresh = rows
                    .values()
                    .all(|(last, row)| *last > killed_at && weight_on(row, victim) == 0);
                fresh.then_some(rows.values().map(|(last, _)| *last).max().unwrap_or(0))
            },
        )
        .await;
        let rows = weight_rows(&net).await.unwrap();
        for (v, (_, row)) in &rows {
            for &u in &others {
                assert!(
                    weight_on(row, u) > 0,
                    "validator {v} dropped uid {u}: {row:?}"
                );
            }
        }

        // The following epochs pay it nothing and pay the others.
        let mut checked = 0;
        let since = Instant::now();
        while checked < 2 {
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "only {checked} epochs after the weights changed within 60 s\n{}",
                logs(dir)
            );
            let Some(e) = net.next_epoch(Duration::from_secs(2)).await.unwrap() else {
                continue;
            };
            if e.notice.block_number <= zero_at {
                continue;
            }
            let server = |u: u16| {
                e.notice
                    .emission
                    .iter()
                    .find(|x| x.uid == u)
                    .map_or(0, |x| x.server)
            };
            let table = net.rows().await.unwrap();
            let incentive = |u: u16| table.iter().find(|r| r.uid == u).unwrap().incentive;
            assert_eq!(server(victim), 0, "epoch {e:?}");
            assert_eq!(incentive(victim), 0.0, "{table:?}");
            for &u in &others {
                assert!(server(u) > 0, "uid {u} unpaid in {e:?}");
                assert!(incentive(u) > 0.0, "uid {u}: {table:?}");
            }
            checked += 1;
        }
        assert!(net.ledger().balanced());
        eprintln!("killed-miner test: {:.1} s", t0.elapsed().as_secs_f64());
    });
}
