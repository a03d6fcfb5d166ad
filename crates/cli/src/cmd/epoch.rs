//! `tensornet epoch --input FILE [--json]`: runs the Yuma Consensus epoch on a file in the
//! conformance schema (`tests/vectors/yuma/README.md`), `kind` `single` or `sequence`.
//!
//! With `--json` stdout holds one JSON array with one object per epoch, each with the fields of
//! the schema's `expected` (plus `legacy`), integers exact. Without it, one table per epoch.
//! A malformed or inconsistent file is an error naming the field (exit code 1).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Row, Table};
use serde::Deserialize;
use tensornet_yuma::{epoch, EpochInputs, EpochOutputs};

/// Arguments of `tensornet epoch`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Case file in the conformance schema (`kind` `single` or `sequence`).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Print one JSON array (one object per epoch) on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The parts of a case file the command reads (`expected` and the rest are ignored).
#[derive(Deserialize)]
struct CaseFile {
    kind: String,
    #[serde(default)]
    inputs: Option<EpochInputs>,
    #[serde(default)]
    steps: Option<Vec<StepFile>>,
}

#[derive(Deserialize)]
struct StepFile {
    inputs: EpochInputs,
}

/// Reads and checks a case file; returns each epoch's inputs with the path of its field.
fn load(path: &PathBuf) -> anyhow::Result<Vec<(String, EpochInputs)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}: check the --input path", path.display()))?;
    // Parse to a JSON value first (u64 stays exact), then map it onto the schema so that an
    // error names the path of the offending field.
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    if !value.is_object() {
        bail!(
            "{}: not a case file in the conformance schema (expected a JSON object)",
            path.display()
        );
    }
    let case: CaseFile = serde_path_to_error::deserialize(value).map_err(|e| {
        anyhow::anyhow!(
            "{}: invalid field `{}`: {}",
            path.display(),
            e.path(),
            e.inner()
        )
    })?;
    let steps: Vec<(String, EpochInputs)> = match case.kind.as_str() {
        "single" => {
            let Some(inputs) = case.inputs else {
                bail!(
                    "{}: field `inputs` is missing (required when `kind` is \"single\")",
                    path.display()
                );
            };
            vec![("inputs".to_string(), inputs)]
        }
        "sequence" => {
            let steps = case.steps.unwrap_or_default();
            if steps.is_empty() {
                bail!(
                    "{}: field `steps` is missing or empty (required when `kind` is \"sequence\")",
                    path.display()
                );
            }
            steps
                .into_iter()
                .enumerate()
                .map(|(k, s)| (format!("steps[{k}].inputs"), s.inputs))
                .collect()
        }
        other => bail!(
            "{}: field `kind` is {other:?}; expected \"single\" or \"sequence\"",
            path.display()
        ),
    };
    Ok(steps)
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let steps = load(&args.input)?;
    let mut outputs: Vec<EpochOutputs> = Vec::with_capacity(steps.len());
    for (where_, inputs) in &steps {
        let out = epoch(inputs)
            .map_err(|e| anyhow::anyhow!("{}: `{where_}`: {e}", args.input.display()))?;
        outputs.push(out);
    }
    if args.json {
        println!("{}", serde_json::to_string(&outputs)?);
    } else {
        for (k, ((_, inputs), out)) in steps.iter().zip(&outputs).enumerate() {
            print_table(k, steps.len(), inputs, out);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A u16 proportion as a decimal fraction with four digits.
fn prop(x: u16) -> String {
    format!("{:.4}", f64::from(x) / 65535.0)
}

fn print_table(k: usize, total: usize, inputs: &EpochInputs, out: &EpochOutputs) {
    let hp = &inputs.hyperparameters;
    let mode = match (hp.yuma3_enabled, hp.liquid_alpha_enabled) {
        (true, true) => "Yuma 3, liquid alpha",
        (true, false) => "Yuma 3",
        (false, _) => "Yuma 2",
    };
    println!(
        "epoch {}/{total} at block {}: n = {}, {mode}, rao_emission = {}",
        k + 1,
        inputs.current_block,
        inputs.n,
        inputs.rao_emission
    );
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "uid",
        "stake (rao)",
        "active",
        "permit",
        "consensus",
        "incentive",
        "dividends",
        "trust",
        "emission (rao)",
    ]);
    for uid in 0..usize::from(inputs.n) {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut row = Row::new();
        row.add_cell(Cell::new(uid).set_alignment(CellAlignment::Right))
            .add_cell(Cell::new(inputs.stake[uid]).set_alignment(CellAlignment::Right))
            .add_cell(Cell::new(yes_no(out.active[uid])))
            .add_cell(Cell::new(yes_no(out.validator_permit[uid])))
            .add_cell(Cell::new(prop(out.consensus[uid])).set_alignment(CellAlignment::Right))
            .add_cell(Cell::new(prop(out.incentive[uid])).set_alignment(CellAlignment::Right))
            .add_cell(Cell::new(prop(out.dividends[uid])).set_alignment(CellAlignment::Right))
            .add_cell(Cell::new(prop(out.validator_trust[uid])).set_alignment(CellAlignment::Right))
            .add_cell(Cell::new(out.emission[uid]).set_alignment(CellAlignment::Right));
        table.add_row(row);
    }
    println!("{table}");
    let total_emitted: u128 = out.emission.iter().map(|e| u128::from(*e)).sum();
    println!(
        "emitted {total_emitted} of {} rao (server {}, validator {})\n",
        inputs.rao_emission,
        out.server_emission
            .iter()
            .map(|e| u128::from(*e))
            .sum::<u128>(),
        out.validator_emission
            .iter()
            .map(|e| u128::from(*e))
            .sum::<u128>(),
    );
}
