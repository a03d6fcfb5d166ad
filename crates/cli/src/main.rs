//! # tensornet
//!
//! The one `tensornet` binary. Each command parses its arguments, calls a library crate and
//! prints (conventions: `../shared/design/cli-conventions.md`): with `--json` stdout holds exactly
//! one JSON document; logs, spinners and progress go to stderr. Exit codes: 0 success, 1 a
//! negative answer or a failed operation, 2 bad usage.

mod cmd;

/// mimalloc as the process allocator. A node's epoch block on a large subnet allocates and
/// frees several MB; glibc's allocator hands that memory back to the OS after each block and
/// page-faults it in again on the next (about 3.5 ms of a 4096-UID, 256-validator epoch block,
/// see docs/benchmarks.md); mimalloc keeps it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// tensornet: a Bittensor-style decentralized machine-learning incentive network.
#[derive(Parser, Debug)]
#[command(name = "tensornet", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one Yuma Consensus epoch (or a sequence) from a conformance-schema JSON file.
    Epoch(cmd::epoch::Args),
    /// Create, inspect and use wallets (coldkeys and hotkeys).
    Wallet(cmd::wallet::Args),
    /// Serve, query and benchmark axons (the miner's HTTP server).
    Axon(cmd::axon::Args),
    /// Simulate the incentive mechanism with scripted participants.
    Simulate(cmd::simulate::Args),
    /// Run a tensornet node (chain, block production, JSON-RPC).
    Node(cmd::node::Args),
    /// Subnets: create, list, show, hyperparameters, set, register, burn-cost.
    Subnet(cmd::subnet::Args),
    /// Stake: add, remove, list.
    Stake(cmd::stake::Args),
    /// Delegation: set a hotkey's take.
    Delegate(cmd::delegate::Args),
    /// Weights: set, commit, reveal.
    Weights(cmd::weights::Args),
    /// A subnet's metagraph (one RPC call).
    Metagraph(cmd::metagraph::Args),
    /// Blocks and transactions: head, block, tx, info.
    Chain(cmd::chain::Args),
    /// Run a miner daemon (train, register, publish the axon, serve).
    Miner(cmd::miner::Args),
    /// Run a validator daemon (query miners, score, set weights).
    Validator(cmd::validator::Args),
    /// Start a whole local network: dev node, subnet, validators and miners, live table.
    Localnet(cmd::localnet::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Epoch(a) => cmd::epoch::run(a),
        Command::Wallet(a) => cmd::wallet::run(a),
        Command::Axon(a) => cmd::axon::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Node(a) => cmd::node::run(a),
        Command::Subnet(a) => cmd::subnet::run(a),
        Command::Stake(a) => cmd::stake::run(a),
        Command::Delegate(a) => cmd::delegate::run(a),
        Command::Weights(a) => cmd::weights::run(a),
        Command::Metagraph(a) => cmd::metagraph::run(a),
        Command::Chain(a) => cmd::chain::run(a),
        Command::Miner(a) => cmd::miner::run(a),
        Command::Validator(a) => cmd::validator::run(a),
        Command::Localnet(a) => cmd::localnet::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
