//! `tensornet localnet`: a whole network on this machine in one command. Starts a dev node
//! (tempo 20 blocks of 250 ms, weights rate limit 5, commit-reveal off), creates unencrypted
//! dev wallets under `--base-path` (one coldkey per neuron), creates a subnet whose owner
//! hotkey runs the first validator, funds, registers and stakes the neurons (validators with
//! different stakes), then starts the validators and miners (models of clearly different
//! quality) as child processes of this executable on free 127.0.0.1 ports. A live table on
//! stderr is refreshed every epoch; `--epochs K` stops after K epochs counted from the first
//! epoch that used validator weights and prints the summary (`--json`: one JSON document on
//! stdout). Every child is stopped on exit or Ctrl-C. The network itself is
//! `tensornet_localnet::Localnet`; this command parses, starts it from this executable, and
//! prints.

use super::chain::table;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use tensornet_localnet::{Event, Localnet, LocalnetConfig, Row, Summary};
use tensornet_primitives::format_tao;

/// Arguments of `tensornet localnet`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder for the chain, the dev wallets (unencrypted: dev use only), validator states and
    /// logs (default: a new folder under the system temp dir). May already exist.
    #[arg(long = "base-path", value_name = "DIR")]
    base_path: Option<PathBuf>,
    /// Number of miners (presets cycle tiny, ten_percent, mid, full).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    miners: u16,
    /// Number of validators (the first is the subnet owner's hotkey; stakes decrease).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    validators: u16,
    /// Dataset: digits, breast_cancer or diabetes.
    #[arg(long, default_value = "digits")]
    dataset: String,
    /// Stop after this many epochs, counted from the first epoch that used validator weights,
    /// and print the summary (default: run until Ctrl-C).
    #[arg(long)]
    epochs: Option<u64>,
    /// Print the final summary as one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Turn commit-reveal on for the subnet (weights are committed, then revealed an epoch
    /// later, so the first paid epoch comes later).
    #[arg(long = "commit-reveal")]
    commit_reveal: bool,
}

/// Runs `tensornet localnet`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if a.dataset
        .parse::<tensornet_subnet_supervised::DatasetName>()
        .is_err()
    {
        eprintln!(
            "error: --dataset {:?}: use digits, breast_cancer or diabetes",
            a.dataset
        );
        return Ok(ExitCode::from(2));
    }
    if a.epochs == Some(0) {
        eprintln!("error: --epochs must be at least 1");
        return Ok(ExitCode::from(2));
    }
    let base = a.base_path.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tensornet-localnet-{}", std::process::id()))
    });
    let exe = std::env::current_exe().context("cannot find the tensornet executable")?;
    let config = LocalnetConfig {
        miners: a.miners,
        validators: a.validators,
        dataset: a.dataset.clone(),
        commit_reveal: a.commit_reveal,
        progress: Some(|m| eprintln!("localnet: {m}")),
        ..LocalnetConfig::new(exe, &base)
    };
    eprintln!("localnet: base path {}", base.display());
    let rt = super::daemon::runtime()?;
    let summary = rt.block_on(async {
        // Ctrl-C while the network is being set up stops everything at once (dropping the
        // start future stops the children started so far); once the epochs are followed,
        // Ctrl-C stops the loop, which prints the summary.
        let mut net = tokio::select! {
            biased;
            r = Localnet::start(config) => r?,
            _ = super::daemon::shutdown_signal() => {
                anyhow::bail!("interrupted while starting the network")
            }
        };
        let summary = net
            .follow(a.epochs, super::daemon::shutdown_signal(), print_event)
            .await?;
        Ok::<_, anyhow::Error>(summary)
    })?;
    print_summary(&summary, a.json);
    Ok(ExitCode::SUCCESS)
}

fn print_event(e: Event<'_>) {
    match e {
        Event::Exited(x) => eprintln!(
            "localnet: {}; the others go on (see {})",
            x.message,
            x.log.display()
        ),
        Event::FirstWeighted { block, secs } => eprintln!(
            "localnet: first epoch with validator weights at block {block} ({secs:.1} s after start)"
        ),
        Event::Epoch { report, rows } => {
            eprintln!(
                "epoch {} (block {}){}",
                report.notice.epoch_index,
                report.notice.block_number,
                match report.counted {
                    Some(c) => format!(", counted {c}"),
                    None => ", waiting for validator weights".into(),
                }
            );
            eprintln!("{}", render(rows));
        }
        Event::Interrupted => eprintln!("localnet: interrupted"),
    }
}

fn print_summary(s: &Summary, json: bool) {
    let l = &s.ledger;
    eprintln!(
        "summary: {} epochs; minted {} TAO = distributed {} + owner cut {} + burned {} ({})",
        l.counted,
        tao(l.minted),
        tao(l.distributed()),
        tao(l.owner_cut),
        tao(l.burned),
        if l.balanced() {
            "ledger balanced"
        } else {
            "LEDGER NOT BALANCED"
        }
    );
    if json {
        println!("{}", s.to_json());
    } else {
        println!("{}", render(&s.rows));
    }
}

fn tao(rao: u128) -> String {
    format_tao(u64::try_from(rao).unwrap_or(u64::MAX))
}

fn render(rows: &[Row]) -> comfy_table::Table {
    let mut t = table(&[
        "uid",
        "neuron",
        "role",
        "stake (TAO)",
        "accuracy",
        "consensus",
        "incentive",
        "dividends",
        "emission (TAO)",
        "earned (TAO)",
    ]);
    for r in rows {
        t.add_row(vec![
            r.uid.to_string(),
            r.name.clone(),
            if r.validator { "validator" } else { "miner" }.to_string(),
            format_tao(r.stake),
            r.accuracy
                .map_or_else(|| "-".into(), |x| format!("{:.1}%", x * 100.0)),
            format!("{:.4}", r.consensus),
            format!("{:.4}", r.incentive),
            format!("{:.4}", r.dividends),
            format_tao(r.emission),
            tao(r.earned),
        ]);
    }
    t
}
