//! `tensornet node run | verify`: run a node (store, block production, JSON-RPC) or replay a
//! stored chain from genesis and check it.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tensornet_node::engine::SingleAuthority;
use tensornet_node::{Node, NodeConfig};
use tensornet_runtime::{dev_genesis, GenesisConfig};

/// Node commands.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Which chain: the dev genesis or a genesis file.
#[derive(clap::Args, Debug)]
struct ChainArgs {
    /// Development chain: the built-in dev genesis (//Alice … //Ferdie), 250 ms blocks, data in
    /// a temporary folder unless --base-path is given.
    #[arg(long, required_unless_present = "genesis")]
    dev: bool,
    /// Genesis JSON file (see the runtime's genesis docs).
    #[arg(long, value_name = "FILE")]
    genesis: Option<PathBuf>,
}

impl ChainArgs {
    fn genesis(&self) -> Result<GenesisConfig> {
        match &self.genesis {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read genesis file {}", p.display()))?;
                GenesisConfig::from_json(&text)
                    .with_context(|| format!("invalid genesis file {}", p.display()))
            }
            None => Ok(dev_genesis()?),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a node until SIGINT/SIGTERM.
    Run {
        #[command(flatten)]
        chain: ChainArgs,
        /// Data directory (may already exist and hold other files); the chain is stored in
        /// DIR/tensornet/chain.redb and resumed when started again.
        #[arg(long, value_name = "DIR")]
        base_path: Option<PathBuf>,
        /// JSON-RPC (HTTP and WebSocket) listen address; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:9944", value_name = "ADDR")]
        rpc_addr: SocketAddr,
        /// Block time in milliseconds (default: 250 with --dev, else the genesis' block time).
        #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
        block_time: Option<u64>,
    },
    /// Replay a stored chain from genesis and check every block and the final state root.
    Verify {
        #[command(flatten)]
        chain: ChainArgs,
        /// Data directory of the node.
        #[arg(long, value_name = "DIR")]
        base_path: PathBuf,
        /// Print one JSON document: {"head": N, "state_root": "0x…"}.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a node command.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.cmd {
        Cmd::Run {
            chain,
            base_path,
            rpc_addr,
            block_time,
        } => run_node(chain, base_path, rpc_addr, block_time),
        Cmd::Verify {
            chain,
            base_path,
            json,
        } => {
            let genesis = chain.genesis()?;
            let (head, root) = tensornet_node::verify_store(&base_path, &genesis)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"head": head, "state_root": root.to_hex()})
                );
            } else {
                println!("ok: {head} blocks replayed, state root {root}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_node(
    chain: ChainArgs,
    base_path: Option<PathBuf>,
    rpc_addr: SocketAddr,
    block_time: Option<u64>,
) -> Result<ExitCode> {
    let started = Instant::now();
    let genesis = chain.genesis()?;
    let mut cfg = NodeConfig::new(genesis)?;
    cfg.base_path = base_path;
    cfg.rpc_addr = rpc_addr;
    cfg.block_time = match (block_time, chain.dev) {
        (Some(ms), _) => Duration::from_millis(ms),
        (None, true) => Duration::from_millis(250),
        (None, false) => cfg.block_time,
    };
    if cfg.base_path.is_none() && !chain.dev {
        anyhow::bail!(
            "--base-path DIR is required without --dev (the chain must be stored somewhere)"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let engine = Box::new(SingleAuthority::new(cfg.block_time));
        let node = Node::start(cfg, engine).await?;
        let head = node.shared().head_number();
        eprintln!(
            "tensornet node: RPC ready on {addr} (http://{addr}, ws://{addr}); head #{head}, {} ms",
            started.elapsed().as_millis(),
            addr = node.rpc_addr(),
        );
        wait_for_signal().await?;
        eprintln!("tensornet node: shutting down");
        node.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok(())
}
