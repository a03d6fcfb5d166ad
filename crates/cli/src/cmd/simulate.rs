//! `tensornet simulate`: run a scenario (a TOML file or a built-in one) through the real Yuma
//! epoch, write `epochs.csv`, `summary.json` and plots into `--out`, and print a summary table.
//! `--sweep key=v1,v2,…` runs the scenario once per value (one sub-folder each) and plots a metric
//! against the value. File format: `docs/simulate.md`.

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tensornet_sim::builtin::{self, BUILTINS};
use tensornet_sim::report::{is_metric_name, metric, METRICS};
use tensornet_sim::{Behaviour, Scenario, Summary};

/// Arguments of `tensornet simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (TOML, format in docs/simulate.md).
    #[arg(value_name = "SCENARIO.toml", required_unless_present_any = ["builtin", "list"], conflicts_with = "builtin")]
    pub scenario: Option<PathBuf>,
    /// Run a built-in scenario instead of a file (see --list).
    #[arg(long, value_name = "NAME")]
    pub builtin: Option<String>,
    /// List the built-in scenarios and the question each answers.
    #[arg(long)]
    pub list: bool,
    /// Print the scenario's TOML (after --set) instead of running it.
    #[arg(long)]
    pub show: bool,
    /// Output folder (created when missing); by default out/NAME, NAME being the scenario's.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the random generator (overrides the scenario's `seed`).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Override a scenario value, e.g. `--set epochs=50 --set hyperparameters.kappa=40000`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run once per value of KEY (sub-folders `KEY=VALUE` of DIR) and plot --metric against it.
    #[arg(long, value_name = "KEY=V1,V2,…")]
    pub sweep: Option<String>,
    /// Metric plotted by a sweep (e.g. copier_vs_best_honest, gini, groups.late.earnings_per_stake).
    #[arg(long, value_name = "NAME")]
    pub metric: Option<String>,
    /// Skip the plots (CSV and summary only).
    #[arg(long)]
    pub no_plots: bool,
    /// Print the summary (or the sweep results) as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

fn split_kv(s: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => bail!("`{s}` is not KEY=VALUE; write e.g. hyperparameters.kappa=40000"),
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} epochs {msg}",
    ) {
        pb.set_style(style);
    }
    pb
}

fn default_metric(s: &Scenario) -> String {
    let has = |b: Behaviour| s.validators.iter().any(|g| g.behaviour == b);
    if has(Behaviour::Copier) {
        "copier_vs_best_honest".into()
    } else if has(Behaviour::Cabal) {
        "miners.cabal_emission_share".into()
    } else if has(Behaviour::Late) {
        "groups.late.earnings_per_stake".into()
    } else {
        "gini".into()
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn summary_table(s: &Summary) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "group",
            "UIDs",
            "stake share",
            "share of validator earnings",
            "share of all emission",
            "earned (TAO)",
            "earnings / stake",
        ]);
    for (name, g) in &s.groups {
        t.add_row(vec![
            format!("{name} validators"),
            g.validators.to_string(),
            pct(g.stake_share),
            pct(g.earnings_share),
            pct(g.emission_share),
            format!("{:.2}", g.earnings_tao),
            format!("{:.3}", g.earnings_per_stake),
        ]);
    }
    t.add_row(vec![
        "miners".to_string(),
        s.miners.count.to_string(),
        "-".into(),
        "-".into(),
        pct(s.miners.emission_share),
        format!("{:.2}", s.miners.emission_share * s.total_emission_tao),
        "-".into(),
    ]);
    if s.miners.cabal_emission_share > 0.0 {
        t.add_row(vec![
            "  of which cabal miners".to_string(),
            String::new(),
            "-".into(),
            "-".into(),
            pct(s.miners.cabal_emission_share),
            format!(
                "{:.2}",
                s.miners.cabal_emission_share * s.total_emission_tao
            ),
            "-".into(),
        ]);
    }
    let mut out = format!(
        "{} — {} epochs, {} UIDs, seed {}, {:.2} TAO paid\n{t}\n",
        s.scenario, s.epochs, s.uids, s.seed, s.total_emission_tao
    );
    match s.copier_vs_best_honest {
        Some(r) => out.push_str(&format!(
            "copier earnings per stake vs best honest validator: {r:.3}\n"
        )),
        None => {
            out.push_str("copier earnings per stake vs best honest validator: n/a (no copier)\n")
        }
    }
    if let Some(r) = s.miners.quality_incentive_spearman {
        out.push_str(&format!(
            "Spearman(quality, incentive) over miners: {r:.3}\n"
        ));
    }
    out.push_str(&format!("Gini of emission per UID: {:.3}\n", s.gini));
    out
}

fn run_one(
    text: &str,
    overrides: &[(String, String)],
    seed: Option<u64>,
    dir: &Path,
    plots: bool,
    pb: &ProgressBar,
) -> anyhow::Result<Summary> {
    let scenario = Scenario::from_toml_with_overrides(text, overrides)?;
    let seed = seed.unwrap_or(scenario.seed);
    let base = pb.position();
    let result = tensornet_sim::run(&scenario, seed, &mut |done, _| {
        pb.set_position(base + u64::from(done))
    })?;
    let (summary, _files) = tensornet_sim::write_outputs(&result, dir, plots)
        .with_context(|| format!("writing results into {}", dir.display()))?;
    Ok(summary)
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        if args.json {
            let list: Vec<_> = BUILTINS
                .iter()
                .map(|b| serde_json::json!({"name": b.name, "description": b.description}))
                .collect();
            println!("{}", serde_json::Value::Array(list));
        } else {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(vec!["built-in scenario", "question it answers"]);
            for b in BUILTINS {
                t.add_row(vec![b.name, b.description]);
            }
            println!("{t}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = match (&args.builtin, &args.scenario) {
        (Some(name), _) => match builtin::find(name) {
            Some(b) => b.toml.to_string(),
            None => {
                let names: Vec<_> = BUILTINS.iter().map(|b| b.name).collect();
                eprintln!(
                    "error: no built-in scenario `{name}`; choose one of: {}",
                    names.join(", ")
                );
                return Ok(ExitCode::from(2));
            }
        },
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario {}; check the path", path.display()))?,
        (None, None) => bail!("give a scenario file, --builtin NAME or --list"),
    };
    let overrides = args
        .set
        .iter()
        .map(|s| split_kv(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scenario = Scenario::from_toml_with_overrides(&text, &overrides)?;
    if args.show {
        let mut s = scenario.clone();
        if let Some(seed) = args.seed {
            s.seed = seed;
        }
        print!("{}", s.to_toml().context("cannot print the scenario")?);
        return Ok(ExitCode::SUCCESS);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&scenario.name));

    let sweep = match (&args.sweep, &scenario.sweep) {
        (Some(spec), _) => {
            let (key, values) = split_kv(spec)?;
            let values: Vec<String> = values
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                bail!("--sweep {key}= needs at least one value, e.g. --sweep {key}=0,1,2");
            }
            Some((key, values, args.metric.clone()))
        }
        (None, Some(s)) => Some((
            s.key.clone(),
            s.value_strings(),
            args.metric.clone().or_else(|| s.metric.clone()),
        )),
        (None, None) => None,
    };

    let Some((key, values, metric_name)) = sweep else {
        let pb = progress_bar(u64::from(scenario.epochs));
        let summary = run_one(&text, &overrides, args.seed, &out, !args.no_plots, &pb)?;
        pb.finish_and_clear();
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            print!("{}", summary_table(&summary));
            println!("results in {}", out.display());
        }
        return Ok(ExitCode::SUCCESS);
    };

    let metric_name = metric_name.unwrap_or_else(|| default_metric(&scenario));
    if !is_metric_name(&metric_name) {
        eprintln!(
            "error: unknown metric `{metric_name}`; choose one of: {}",
            METRICS.join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    // Check every value before running anything.
    for v in &values {
        let mut o = overrides.clone();
        o.push((key.clone(), v.clone()));
        Scenario::from_toml_with_overrides(&text, &o)
            .with_context(|| format!("sweep value {key}={v}"))?;
    }
    let pb = progress_bar(u64::from(scenario.epochs) * values.len() as u64);
    let mut points = Vec::new();
    let mut docs = Vec::new();
    for v in &values {
        let mut o = overrides.clone();
        o.push((key.clone(), v.clone()));
        pb.set_message(format!("{key}={v}"));
        let dir = out.join(format!("{key}={v}"));
        let summary = run_one(&text, &o, args.seed, &dir, !args.no_plots, &pb)?;
        let m = metric(&summary, &metric_name);
        points.push((v.clone(), m));
        docs.push(serde_json::json!({"value": v, "metric": m, "dir": dir, "summary": summary}));
    }
    pb.finish_and_clear();
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut csv = format!("{key},{metric_name}\n");
    for (v, m) in &points {
        csv.push_str(&format!(
            "{v},{}\n",
            m.map(|x| x.to_string()).unwrap_or_default()
        ));
    }
    let csv_path = out.join("sweep.csv");
    std::fs::write(&csv_path, csv)
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    if !args.no_plots {
        tensornet_sim::plot::plot_sweep(&out, &key, &metric_name, &points)?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"sweep": {"key": key, "metric": metric_name, "points": docs}})
        );
    } else {
        let show_copier = metric_name != "copier_vs_best_honest";
        let mut header = vec![key.as_str(), metric_name.as_str(), "Gini"];
        if show_copier {
            header.push("copier vs best honest");
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header);
        for (d, (v, m)) in docs.iter().zip(&points) {
            let s = &d["summary"];
            let mut row = vec![
                v.clone(),
                m.map(|x| format!("{x:.4}")).unwrap_or_else(|| "n/a".into()),
                s["gini"]
                    .as_f64()
                    .map(|x| format!("{x:.3}"))
                    .unwrap_or_default(),
            ];
            if show_copier {
                row.push(
                    s["copier_vs_best_honest"]
                        .as_f64()
                        .map(|x| format!("{x:.3}"))
                        .unwrap_or_else(|| "n/a".into()),
                );
            }
            t.add_row(row);
        }
        println!("sweep of {key} ({} runs)\n{t}", values.len());
        println!("results in {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
