//! Properties the incentive mechanism is known to have, asserted on the simulator's output
//! (built-in scenarios, shortened so that the suite stays fast in debug builds).

use tensornet_sim::builtin::find;
use tensornet_sim::{
    run, run_observed, summarize, write_csv, write_outputs, Behaviour, Role, Scenario,
};

fn builtin(name: &str, overrides: &[(&str, &str)]) -> Scenario {
    let b = find(name).unwrap_or_else(|| panic!("no built-in {name}"));
    let o: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Scenario::from_toml_with_overrides(b.toml, &o).expect("built-in scenario is valid")
}

fn csv_of(s: &Scenario, seed: u64) -> Vec<u8> {
    let r = run(s, seed, &mut |_, _| {}).expect("simulation runs");
    let mut out = Vec::new();
    write_csv(&r, &mut out).expect("CSV to memory");
    out
}

#[test]
fn same_seed_gives_identical_csv_and_another_seed_does_not() {
    let s = builtin("weight-copier", &[("epochs", "12")]);
    let a = csv_of(&s, 42);
    let b = csv_of(&s, 42);
    assert_eq!(a, b, "same scenario and seed must give the same bytes");
    let c = csv_of(&s, 43);
    assert_ne!(
        a, c,
        "the seed must matter in a scenario with noise and drift"
    );
    // One header plus one row per epoch and UID.
    let lines = a.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(lines, 1 + 12 * (11 + 48));
}

#[test]
fn honest_incentive_ranks_miners_by_quality() {
    // Small noise (0.01) on a quality spread 0.05..1.0.
    let s = builtin(
        "honest-baseline",
        &[
            ("epochs", "15"),
            ("validators.0.noise", "0.01"),
            ("validators.1.noise", "0.01"),
        ],
    );
    let r = run(&s, 1, &mut |_, _| {}).unwrap();
    let sum = summarize(&r);
    let rho = sum.miners.quality_incentive_spearman.expect("48 miners");
    assert!(rho > 0.9, "Spearman(quality, incentive) = {rho}");
    // Honest validators are paid in proportion to stake (50k and 10k stakes here), within 10%.
    let last = r.epochs.last().unwrap();
    let per_stake: Vec<f64> = r
        .participants
        .iter()
        .filter(|p| p.role == Role::Validator)
        .map(|p| last.cumulative[p.uid as usize] as f64 / p.stake as f64)
        .collect();
    let (lo, hi) = per_stake
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(
        lo > 0.0 && hi / lo < 1.1,
        "earnings per stake from {lo} to {hi}"
    );
}

/// Per epoch (after the first two, when permits and weights are in place): for each cabal miner,
/// its consensus and the largest normalized weight any honest validator gave it.
fn cabal_consensus_vs_honest(s: &Scenario) -> Vec<(f64, f64)> {
    let parts = tensornet_sim::engine::participants(s);
    let honest: Vec<usize> = parts
        .iter()
        .filter(|p| p.behaviour == Some(Behaviour::Honest))
        .map(|p| p.uid as usize)
        .collect();
    let cabal_miners: Vec<usize> = parts
        .iter()
        .filter(|p| p.role == Role::Miner && p.cabal)
        .map(|p| p.uid as usize)
        .collect();
    let mut pairs = Vec::new();
    run_observed(s, s.seed, &mut |_, _| {}, &mut |t, inp, out| {
        if t < 2 {
            return;
        }
        for &j in &cabal_miners {
            let max_honest = honest
                .iter()
                .filter_map(|&i| {
                    let row = &inp.weights[i];
                    let sum: f64 = row.iter().map(|&(_, v)| f64::from(v)).sum();
                    let w = row.iter().find(|e| e.0 as usize == j).map_or(0, |e| e.1);
                    (sum > 0.0).then(|| f64::from(w) / sum)
                })
                .fold(0.0, f64::max);
            pairs.push((f64::from(out.consensus[j]) / 65_535.0, max_honest));
        }
    })
    .unwrap();
    pairs
}

#[test]
fn cabal_below_kappa_cannot_lift_its_miners_above_honest_consensus() {
    let small = builtin("cabal-30pct", &[("epochs", "12")]);
    let pairs = cabal_consensus_vs_honest(&small);
    assert!(!pairs.is_empty());
    for (c, h) in &pairs {
        assert!(
            *c <= h + 2.0 / 65_535.0,
            "cabal miner consensus {c} above every honest weight {h}"
        );
    }
    // Above kappa the same cabal sets the consensus of its miners itself.
    let big = builtin("cabal-60pct", &[("epochs", "12")]);
    let lifted = cabal_consensus_vs_honest(&big)
        .iter()
        .filter(|(c, h)| *c > h * 1.5)
        .count();
    assert!(lifted > 0, "a 60% cabal should lift its miners' consensus");

    // And in pay: the cabal's miners earn far less with 30% than with 60% of the stake.
    let s30 = summarize(&run(&small, small.seed, &mut |_, _| {}).unwrap());
    // Below kappa collusion does not pay: the cabal (its validators plus its miners) takes less
    // than the same UIDs take when its validators simply validate honestly. (Its miners' share
    // alone can rise: the cabal's clipped-away weight is renormalised over every miner, and its
    // own miners still get full consensus weight from all the stake. Their consensus is not
    // lifted, which is what the loop above checks.)
    let honest_cf = builtin(
        "cabal-30pct",
        &[
            ("epochs", "12"),
            ("validators.1.behaviour", "honest"),
            ("validators.1.noise", "0.03"),
        ],
    );
    let cf = summarize(&run(&honest_cf, honest_cf.seed, &mut |_, _| {}).unwrap());
    let cabal_take = s30.groups["cabal"].emission_share + s30.miners.cabal_emission_share;
    let cf_take = cf.groups["honest"].emission_share * 0.3 + cf.miners.cabal_emission_share;
    assert!(
        cabal_take < cf_take,
        "cabal takes {cabal_take}, honest behaviour would give {cf_take}"
    );
    let s60 = summarize(&run(&big, big.seed, &mut |_, _| {}).unwrap());
    assert!(
        s30.miners.cabal_emission_share * 2.0 < s60.miners.cabal_emission_share,
        "30%: {} vs 60%: {}",
        s30.miners.cabal_emission_share,
        s60.miners.cabal_emission_share
    );
}

#[test]
fn commit_reveal_delay_lowers_the_copier_relative_to_honest_validators() {
    let plain = builtin("weight-copier", &[("epochs", "40")]);
    let delayed = builtin("weight-copier-commit-reveal", &[("epochs", "40")]);
    let a = summarize(&run(&plain, plain.seed, &mut |_, _| {}).unwrap());
    let b = summarize(&run(&delayed, delayed.seed, &mut |_, _| {}).unwrap());
    let (ra, rb) = (
        a.copier_vs_best_honest.expect("a copier"),
        b.copier_vs_best_honest.expect("a copier"),
    );
    assert!(rb < ra, "copier/best honest: no delay {ra}, delay 2 {rb}");
}

#[test]
fn outputs_and_plots_are_written_and_non_empty() {
    let s = builtin("weight-copier", &[("epochs", "6")]);
    let r = run(&s, 7, &mut |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let (summary, files) = write_outputs(&r, &out, true).unwrap();
    assert!(summary.copier_vs_best_honest.is_some());
    for name in [
        "epochs.csv",
        "summary.json",
        "dividends.png",
        "dividends.svg",
        "incentive-vs-quality.png",
        "incentive-vs-quality.svg",
    ] {
        let p = out.join(name);
        assert!(files.contains(&p), "{name} not reported");
        let bytes = std::fs::read(&p).unwrap();
        assert!(bytes.len() > 500, "{name} is only {} bytes", bytes.len());
    }
    let png = std::fs::read(out.join("dividends.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(out.join("dividends.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("copier"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(json["groups"]["honest"]["stake_share"].as_f64().unwrap() > 0.9);
    assert!(json["groups"]["copier"]["earnings_share"].is_number());
    let swept = tensornet_sim::plot::plot_sweep(
        &out,
        "hyperparameters.commit_reveal_delay",
        "copier_vs_best_honest",
        &[
            ("0".into(), Some(0.9)),
            ("1".into(), None),
            ("2".into(), Some(0.7)),
        ],
    )
    .unwrap();
    for p in swept {
        assert!(std::fs::metadata(&p).unwrap().len() > 500);
    }
}

const MIXED: &str = r#"
name = "mixed"
epochs = 20
compound = true
[[validators]]
count = 4
stake = 1000
behaviour = "honest"
noise = 0.02
[[validators]]
stake = 1000
behaviour = "lazy"
lazy = "uniform"
[[validators]]
stake = 1000
behaviour = "lazy"
lazy = "random"
[[validators]]
stake = 1000
behaviour = "late"
noise = 0.02
joins_at = 10
[[miners]]
count = 12
quality = [0.0, 1.0]
"#;

#[test]
fn lazy_validators_earn_less_and_stake_compounds() {
    let s = Scenario::from_toml(MIXED).unwrap();
    let r = run(&s, 9, &mut |_, _| {}).unwrap();
    let sum = summarize(&r);
    let honest = sum.groups["honest"].earnings_per_stake;
    let lazy = sum.groups["lazy"].earnings_per_stake;
    assert!(lazy < honest, "lazy {lazy} vs honest {honest}");
    // The late validator has no stake, weights or earnings before it joins.
    let late = r.participants.iter().find(|p| p.label() == "late").unwrap();
    let u = late.uid as usize;
    assert!(r.epochs[..10]
        .iter()
        .all(|e| e.stake[u] == 0 && e.earned[u] == 0));
    assert!(r.epochs.last().unwrap().cumulative[u] > 0);
    // compound = true: each epoch's stake is the previous stake plus what was earned.
    for w in r.epochs.windows(2) {
        for v in 0..7 {
            if w[1].epoch != 10 || v != u {
                assert_eq!(w[1].stake[v], w[0].stake[v] + w[0].earned[v], "uid {v}");
            }
        }
    }
}
