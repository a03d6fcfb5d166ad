//! `tensornet simulate` end to end: the binary, its files, its JSON and its exit codes.

use std::process::{Command, Output};

fn tensornet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tensornet"))
        .args(args)
        .output()
        .expect("run tensornet")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn list_shows_every_builtin_with_its_question() {
    let o = tensornet(&["simulate", "--list", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    for n in [
        "honest-baseline",
        "weight-copier",
        "weight-copier-commit-reveal",
        "cabal-30pct",
        "cabal-60pct",
        "new-strong-miner",
        "yuma2-vs-yuma3",
    ] {
        assert!(names.contains(&n), "{n} missing from --list");
    }
    assert!(v.as_array().unwrap().iter().all(|b| b["description"]
        .as_str()
        .is_some_and(|d| d.ends_with('?') || d.starts_with("Benchmark"))));
    let table = tensornet(&["simulate", "--list"]);
    assert!(stdout(&table).contains("weight-copier-commit-reveal"));
}

#[test]
fn builtin_run_writes_csv_summary_and_plots_into_a_new_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out/copier");
    let o = tensornet(&[
        "simulate",
        "--builtin",
        "weight-copier",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "epochs=8",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(summary["epochs"], 8);
    assert!(summary["copier_vs_best_honest"].as_f64().unwrap() > 0.0);
    assert!(summary["groups"]["honest"]["validators"] == 10);
    for f in [
        "epochs.csv",
        "summary.json",
        "dividends.png",
        "dividends.svg",
        "incentive-vs-quality.png",
        "incentive-vs-quality.svg",
    ] {
        let len = std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{f} missing or empty");
    }
    let csv = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
    assert!(csv.starts_with("epoch,block,uid,role,behaviour,"));
    assert_eq!(csv.lines().count(), 1 + 8 * 59);

    // The table form, same seed: same CSV bytes.
    let out2 = tmp.path().join("again");
    let o = tensornet(&[
        "simulate",
        "--builtin",
        "weight-copier",
        "--out",
        out2.to_str().unwrap(),
        "--set",
        "epochs=8",
        "--no-plots",
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("copier earnings per stake vs best honest"));
    assert_eq!(
        csv,
        std::fs::read_to_string(out2.join("epochs.csv")).unwrap()
    );
}

#[test]
fn sweep_runs_each_value_and_plots_the_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        r#"
name = "tiny"
epochs = 6
[[validators]]
count = 3
stake = 100
behaviour = "honest"
noise = 0.05
[[validators]]
stake = 100
behaviour = "copier"
[[miners]]
count = 6
quality = [0.1, 0.9]
drift = 0.05
"#,
    )
    .unwrap();
    let o = tensornet(&[
        "simulate",
        scenario.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--sweep",
        "hyperparameters.commit_reveal_delay=0,1,2",
        "--seed",
        "3",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["sweep"]["metric"], "copier_vs_best_honest");
    assert_eq!(v["sweep"]["points"].as_array().unwrap().len(), 3);
    assert_eq!(v["sweep"]["points"][0]["summary"]["seed"], 3);
    for f in ["sweep.csv", "sweep.png", "sweep.svg"] {
        assert!(dir.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    assert!(dir
        .join("hyperparameters.commit_reveal_delay=2/epochs.csv")
        .exists());
}

#[test]
fn bad_input_gets_a_clear_error_and_the_right_exit_code() {
    let o = tensornet(&["simulate", "--builtin", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("weight-copier"));

    let o = tensornet(&["simulate", "/nonexistent/scenario.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read scenario"));

    let o = tensornet(&[
        "simulate",
        "--builtin",
        "weight-copier",
        "--set",
        "epochs=-3",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("epochs"));

    let o = tensornet(&["simulate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}
