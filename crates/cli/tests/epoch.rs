//! `tensornet epoch`: runs the built binary on conformance files and malformed files.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tensornet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tensornet"))
}

/// The `expected` objects of a case file, one per epoch.
fn expected_of(case: &serde_json::Value) -> Vec<serde_json::Value> {
    match case["kind"].as_str() {
        Some("single") => vec![case["expected"].clone()],
        _ => case["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["expected"].clone())
            .collect(),
    }
}

#[test]
fn json_output_equals_expected_for_single_and_sequence_cases() {
    for file in [
        "017_large_stakes_above_2pow53.json",
        "025_seq_yuma3_liquid_alpha_8.json",
    ] {
        let path = repo().join("tests/vectors/yuma").join(file);
        let out = tensornet()
            .args(["epoch", "--json", "--input"])
            .arg(&path)
            .output()
            .expect("run tensornet");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Parse with exact integers (serde_json keeps u64 exact).
        let got: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON document");
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read case"))
                .expect("parse");
        let want = expected_of(&case);
        let got = got.as_array().expect("a JSON array");
        assert_eq!(got.len(), want.len(), "{file}: one object per epoch");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            for (field, value) in w.as_object().expect("expected object") {
                assert_eq!(&g[field], value, "{file} epoch {k} field {field}");
            }
        }
    }
}

#[test]
fn table_output_lists_every_uid() {
    let out = tensornet()
        .args(["epoch", "--input"])
        .arg(repo().join("examples/epoch/two-validators.json"))
        .output()
        .expect("run tensornet");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("incentive") && text.contains("dividends"),
        "{text}"
    );
    // Six UIDs: rows "│   0 ┆" .. "│   5 ┆".
    for uid in 0..6 {
        assert!(
            text.contains(&format!("│   {uid} ┆")),
            "uid {uid} missing:\n{text}"
        );
    }
}

#[test]
fn malformed_files_fail_with_the_field_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/vectors/yuma/002_n2_validator_server.json"))
            .expect("read case"),
    )
    .expect("parse");

    let mut wrong_type = case.clone();
    wrong_type["inputs"]["stake"][1] = serde_json::json!("lots");
    let mut wrong_length = case.clone();
    wrong_length["inputs"]["last_update"] = serde_json::json!([1]);
    let mut missing = case.clone();
    missing["inputs"]
        .as_object_mut()
        .expect("object")
        .remove("tempo");
    let mut bad_kind = case;
    bad_kind["kind"] = serde_json::json!("triple");

    for (name, value, needle) in [
        ("type", wrong_type.to_string(), "inputs.stake[1]"),
        ("length", wrong_length.to_string(), "last_update"),
        ("missing", missing.to_string(), "tempo"),
        ("kind", bad_kind.to_string(), "kind"),
        ("not json", "{ not json".to_string(), "not valid JSON"),
        ("not an object", "[1, 2]".to_string(), "not a case file"),
    ] {
        let path = dir.path().join(format!("{}.json", name.replace(' ', "_")));
        std::fs::write(&path, value).expect("write");
        let out = tensornet()
            .args(["epoch", "--json", "--input"])
            .arg(&path)
            .output()
            .expect("run tensornet");
        assert!(!out.status.success(), "{name}: must fail");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle),
            "{name}: error {err:?} should name {needle:?}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}
