//! `tensornet validator run`: the validator daemon. Each step syncs the metagraph when due,
//! queries the miners serving an axon concurrently (with a timeout), scores their answers on
//! secretly transformed held-out data, updates the per-UID moving averages, sets (or commits
//! and reveals) weights every tempo / weights rate limit, and saves its state so a restart
//! keeps the scores. One status line per step on stderr; stops on Ctrl-C / SIGTERM.

use super::daemon::{bad, resolve_config, runtime, shutdown_signal, task, TaskArgs};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tensornet_axon::Dendrite;
use tensornet_subnet::{
    RoundConfig, RpcChain, ScoreKeeper, Subnet, ValidatorNode, ValidatorSettings, ValidatorState,
    WeightAction,
};
use tensornet_subnet_supervised::{Supervised, ValidatorConfig, DEFAULT_BATCH};

/// Validator commands.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Query miners, score them and set weights until Ctrl-C.
    Run(RunArgs),
}

/// Arguments of `tensornet validator run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    task: TaskArgs,
    /// Held-out samples per challenge.
    #[arg(long = "batch-size", default_value_t = DEFAULT_BATCH)]
    batch_size: usize,
    /// Per-query timeout, seconds.
    #[arg(long = "timeout", default_value_t = 5.0)]
    timeout: f64,
    /// Query a random subset of this many miners per step (default: all serving miners).
    #[arg(long = "sample-size")]
    sample_size: Option<usize>,
    /// Seconds between steps.
    #[arg(long = "step-secs", default_value_t = 1.0)]
    step_secs: f64,
    /// Re-read the metagraph every this many blocks.
    #[arg(long = "sync-blocks", default_value_t = 5)]
    sync_blocks: u64,
    /// State file (default: `<wallet>/validator-<hotkey>-netuid<N>.json`).
    #[arg(long = "state", value_name = "FILE")]
    state: Option<PathBuf>,
}

/// Runs a validator command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        Cmd::Run(a) => {
            let config = a.task.config.clone();
            match resolve_config(config.as_deref(), a) {
                Ok(a) => run_validator(a),
                Err(msg) => bad(msg),
            }
        }
    }
}

fn run_validator(a: RunArgs) -> anyhow::Result<ExitCode> {
    let (netuid, dataset) = match task(a.task.netuid, &a.task.subnet, &a.task.dataset) {
        Ok(t) => t,
        Err(msg) => return bad(msg),
    };
    if a.batch_size == 0 {
        return bad("--batch-size must be at least 1".into());
    }
    if !(a.timeout.is_finite() && a.timeout > 0.0) {
        return bad("--timeout must be positive".into());
    }
    if !(a.step_secs.is_finite() && a.step_secs > 0.0) {
        return bad("--step-secs must be positive".into());
    }
    let hotkey = a.task.wallet.hotkey_keypair()?;
    let wallet = a.task.wallet.wallet()?;
    let state_path = a.state.clone().unwrap_or_else(|| {
        wallet.path().join(format!(
            "validator-{}-netuid{}.json",
            a.task.wallet.hotkey, netuid
        ))
    });
    let state =
        ValidatorState::load_or_new(&state_path, netuid, &hotkey.ss58(), ScoreKeeper::default())?;
    let secret: [u8; 32] = rand::random();
    let validator = Supervised::validator(
        &ValidatorConfig {
            dataset,
            batch_size: a.batch_size,
        },
        secret,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = format!(
        "validator {}/{}",
        a.task.wallet.wallet_name, a.task.wallet.hotkey
    );
    eprintln!(
        "{name}: state {} (round {}, {} uids scored)",
        state_path.display(),
        state.round,
        state.scores.entries().count()
    );
    let rt = runtime()?;
    rt.block_on(async move {
        let chain = RpcChain::connect(&a.task.rpc.rpc, hotkey.clone(), None).await?;
        let dendrite = Dendrite::new(hotkey.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut node = ValidatorNode::new(
            chain,
            dendrite,
            validator,
            state,
            ValidatorSettings {
                netuid,
                round: RoundConfig {
                    timeout: Duration::from_secs_f64(a.timeout),
                    sample_size: a.sample_size,
                },
                sync_every_blocks: a.sync_blocks,
                state_path: Some(state_path),
            },
        );
        let period = Duration::from_secs_f64(a.step_secs);
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                r = node.step() => match r {
                    Ok(s) => {
                        let answered = s.round.results.iter().filter(|r| r.answered).count();
                        let mean = if answered > 0 {
                            s.round.results.iter().filter(|r| r.answered).map(|r| r.reward).sum::<f64>() / answered as f64
                        } else {
                            0.0
                        };
                        let w = match &s.weights {
                            WeightAction::NotDue => String::new(),
                            WeightAction::Skipped(why) => format!(", weights skipped: {why}"),
                            WeightAction::Set(w) => format!(", weights set on {} uids", w.uids.len()),
                            WeightAction::Committed(w) => format!(", weights committed on {} uids", w.uids.len()),
                            WeightAction::Revealed(w) => format!(", weights revealed on {} uids", w.uids.len()),
                            WeightAction::Failed(e) => format!(", weights failed: {e}"),
                        };
                        eprintln!(
                            "{name}: block {} round {}: {answered}/{} answered, mean reward {mean:.3}{}{w}",
                            s.block,
                            s.round.round,
                            s.round.results.len(),
                            if s.synced { ", synced" } else { "" },
                        );
                    }
                    Err(e) => eprintln!("{name}: step failed: {e} (retrying)"),
                },
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(period) => {}
            }
        }
        eprintln!("{name}: shutting down (state saved)");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
