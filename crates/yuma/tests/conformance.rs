//! Conformance: every case of `tests/vectors/yuma/` (index.json), single epochs and
//! multi-epoch sequences, run step by step and chained from our own outputs; every output
//! field (including the legacy outputs) must equal `expected` exactly.

use std::path::PathBuf;

use serde::Deserialize;
use tensornet_yuma::{epoch, EpochInputs, EpochOutputs};

#[derive(Deserialize)]
struct Index {
    cases: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct IndexEntry {
    file: String,
    kind: String,
    epochs: usize,
}

#[derive(Deserialize)]
struct Step {
    inputs: EpochInputs,
    expected: EpochOutputs,
}

#[derive(Deserialize)]
struct Case {
    kind: String,
    #[serde(default)]
    inputs: Option<EpochInputs>,
    #[serde(default)]
    expected: Option<EpochOutputs>,
    #[serde(default)]
    steps: Vec<Step>,
}

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/yuma")
}

fn steps_of(case: Case) -> Vec<Step> {
    if case.kind == "single" {
        vec![Step {
            inputs: case.inputs.expect("single case has inputs"),
            expected: case.expected.expect("single case has expected"),
        }]
    } else {
        case.steps
    }
}

/// Compares field by field so a failure names the field and the first differing UID.
fn compare(name: &str, got: &EpochOutputs, want: &EpochOutputs) -> Result<(), String> {
    fn field<T: PartialEq + std::fmt::Debug>(
        name: &str,
        f: &str,
        got: &[T],
        want: &[T],
    ) -> Result<(), String> {
        if got.len() != want.len() {
            return Err(format!(
                "{name}: {f} length {} != {}",
                got.len(),
                want.len()
            ));
        }
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            if g != w {
                return Err(format!("{name}: {f}[{i}] = {g:?}, expected {w:?}"));
            }
        }
        Ok(())
    }
    field(name, "active", &got.active, &want.active)?;
    field(
        name,
        "validator_permit",
        &got.validator_permit,
        &want.validator_permit,
    )?;
    field(name, "stake_weight", &got.stake_weight, &want.stake_weight)?;
    field(name, "consensus", &got.consensus, &want.consensus)?;
    field(name, "incentive", &got.incentive, &want.incentive)?;
    field(name, "dividends", &got.dividends, &want.dividends)?;
    field(
        name,
        "validator_trust",
        &got.validator_trust,
        &want.validator_trust,
    )?;
    field(
        name,
        "server_emission",
        &got.server_emission,
        &want.server_emission,
    )?;
    field(
        name,
        "validator_emission",
        &got.validator_emission,
        &want.validator_emission,
    )?;
    field(name, "emission", &got.emission, &want.emission)?;
    field(name, "bonds", &got.bonds, &want.bonds)?;
    if let Some(wl) = &want.legacy {
        let gl = got
            .legacy
            .as_ref()
            .ok_or_else(|| format!("{name}: legacy missing"))?;
        field(name, "legacy.rank", &gl.rank, &wl.rank)?;
        field(name, "legacy.trust", &gl.trust, &wl.trust)?;
        field(
            name,
            "legacy.pruning_scores",
            &gl.pruning_scores,
            &wl.pruning_scores,
        )?;
    }
    Ok(())
}

#[test]
fn all_conformance_cases_pass_exactly() {
    let dir = vectors();
    let index: Index = serde_json::from_str(
        &std::fs::read_to_string(dir.join("index.json")).expect("read index.json"),
    )
    .expect("parse index.json");
    assert_eq!(index.cases.len(), 39, "the conformance set has 39 cases");

    let mut failures = Vec::new();
    let mut passed = 0;
    for entry in &index.cases {
        let text = std::fs::read_to_string(dir.join(&entry.file)).expect("read case");
        let case: Case = serde_json::from_str(&text).expect("parse case");
        assert_eq!(case.kind, entry.kind, "{}: kind", entry.file);
        let steps = steps_of(case);
        assert_eq!(steps.len(), entry.epochs, "{}: epochs", entry.file);

        let mut ok = true;
        // Step by step, each from its own explicit inputs.
        for (k, step) in steps.iter().enumerate() {
            let got = epoch(&step.inputs).expect("valid inputs");
            if let Err(e) = compare(&format!("{} step {k}", entry.file), &got, &step.expected) {
                failures.push(e);
                ok = false;
            }
        }
        // Chained: bonds and permits carried forward from our own outputs.
        let mut carried: Option<EpochOutputs> = None;
        for (k, step) in steps.iter().enumerate() {
            let mut inputs = step.inputs.clone();
            if let Some(prev) = &carried {
                inputs.bonds = prev.bonds.clone();
                inputs.validator_permit = prev.validator_permit.clone();
            }
            let got = epoch(&inputs).expect("valid inputs");
            if let Err(e) = compare(
                &format!("{} chained step {k}", entry.file),
                &got,
                &step.expected,
            ) {
                failures.push(e);
                ok = false;
            }
            carried = Some(got);
        }
        if ok {
            passed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{passed}/39 cases pass; failures:\n{}",
        failures.join("\n")
    );
    assert_eq!(passed, 39);
}

/// Beyond the reference's 256-UID limit (issue point 6): the 1024-UID random cases and three
/// sequences (Yuma 2, Yuma 3 with liquid alpha) padded to 4096 UIDs (the extra UIDs registered, without stake, weights, bonds or permit) give the
/// expected outputs for the original UIDs and nothing for the extra ones.
#[test]
fn cases_padded_to_4096_uids_give_the_same_results() {
    for file in [
        "038_random_n1024_v64_seed131.json",
        "039_random_n1024_v48_seed132.json",
        "023_seq_yuma2_bonds_8.json",
        "025_seq_yuma3_liquid_alpha_8.json",
        "029_seq_random_n32_yuma3_la_10.json",
    ] {
        let text = std::fs::read_to_string(vectors().join(file)).expect("read case");
        let case: Case = serde_json::from_str(&text).expect("parse case");
        for step in steps_of(case) {
            let mut inp = step.inputs.clone();
            let n0 = usize::from(inp.n);
            let n = 4096usize;
            inp.n = n as u16;
            inp.stake.resize(n, 0);
            inp.last_update.resize(n, 0);
            inp.block_at_registration.resize(n, 0);
            inp.validator_permit.resize(n, false);
            inp.weights.resize(n, Vec::new());
            inp.bonds.resize(n, Vec::new());
            let got = epoch(&inp).expect("valid inputs");
            let want = &step.expected;
            let head = |v: &[u64]| v[..n0].to_vec();
            assert_eq!(
                got.validator_permit[..n0],
                want.validator_permit[..],
                "{file}"
            );
            assert_eq!(got.stake_weight[..n0], want.stake_weight[..], "{file}");
            assert_eq!(got.consensus[..n0], want.consensus[..], "{file}");
            assert_eq!(got.incentive[..n0], want.incentive[..], "{file}");
            assert_eq!(got.dividends[..n0], want.dividends[..], "{file}");
            assert_eq!(
                got.validator_trust[..n0],
                want.validator_trust[..],
                "{file}"
            );
            assert_eq!(head(&got.server_emission), want.server_emission, "{file}");
            assert_eq!(
                head(&got.validator_emission),
                want.validator_emission,
                "{file}"
            );
            assert_eq!(head(&got.emission), want.emission, "{file}");
            assert_eq!(got.bonds[..n0], want.bonds[..], "{file}");
            for i in n0..n {
                assert_eq!(got.emission[i], 0, "{file}: extra uid {i}");
                assert_eq!(got.incentive[i], 0, "{file}: extra uid {i}");
                assert!(got.bonds[i].is_empty() && !got.validator_permit[i]);
            }
        }
    }
}
