//! `tensornet miner run`: the miner daemon. Trains its model at start-up, serves it on an axon
//! that only registered validators with a permit may call (checked before the body is read,
//! waiting requests ordered by the caller's stake), registers its hotkey if needed (price
//! limited), publishes the axon on chain and re-publishes it when the address changes. One
//! status line per step on stderr; stops on Ctrl-C / SIGTERM.

use super::daemon::{bad, resolve_config, runtime, shutdown_signal, task, TaskArgs};
use anyhow::Context;
use clap::Subcommand;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tensornet_axon::AxonConfig;
use tensornet_keys::PasswordSource;
use tensornet_primitives::parse_tao;
use tensornet_subnet::{
    miner_axon, AccessPolicy, Metagraph, MinerNode, MinerSettings, RpcChain, Subnet,
};
use tensornet_subnet_supervised::{MinerConfig, MlpConfig, Supervised};

/// Miner commands.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Train the model, register if needed, publish the axon and serve until Ctrl-C.
    Run(RunArgs),
}

/// Arguments of `tensornet miner run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    task: TaskArgs,
    /// IP address published on chain (and listened on).
    #[arg(long = "axon-ip", default_value = "127.0.0.1")]
    axon_ip: IpAddr,
    /// Axon port (0 picks a free port).
    #[arg(long = "axon-port", visible_alias = "port", default_value_t = 8091)]
    axon_port: u16,
    /// Model preset: tiny, ten_percent, mid or full.
    #[arg(long, default_value = "full")]
    preset: String,
    /// Override the preset's hidden size.
    #[arg(long)]
    hidden: Option<usize>,
    /// Override the preset's training epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Override the preset's share of the training split used (0 < f ≤ 1).
    #[arg(long = "train-fraction")]
    train_fraction: Option<f64>,
    /// Highest registration price accepted, TAO.
    #[arg(long = "max-registration-price", default_value = "100")]
    max_registration_price: String,
    /// Seconds between chain syncs (metagraph, registration, axon publication).
    #[arg(long = "sync-secs", default_value_t = 2.0)]
    sync_secs: f64,
    /// Let anyone who signs query the axon (no validator-permit blacklist).
    #[arg(long = "open-axon")]
    open_axon: bool,
}

/// Runs a miner command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        Cmd::Run(a) => {
            let config = a.task.config.clone();
            match resolve_config(config.as_deref(), a) {
                Ok(a) => run_miner(a),
                Err(msg) => bad(msg),
            }
        }
    }
}

fn run_miner(a: RunArgs) -> anyhow::Result<ExitCode> {
    let (netuid, dataset) = match task(a.task.netuid, &a.task.subnet, &a.task.dataset) {
        Ok(t) => t,
        Err(msg) => return bad(msg),
    };
    let Some(mut mlp) = MlpConfig::preset(&a.preset) else {
        return bad(format!(
            "--preset {:?}: use tiny, ten_percent, mid or full",
            a.preset
        ));
    };
    if let Some(h) = a.hidden {
        mlp.hidden = h;
    }
    if let Some(e) = a.epochs {
        mlp.epochs = e;
    }
    if let Some(f) = a.train_fraction {
        mlp.train_fraction = f;
    }
    let max_price = match parse_tao(&a.max_registration_price) {
        Ok(p) => p,
        Err(e) => return bad(format!("--max-registration-price: {e}")),
    };
    if !(a.sync_secs.is_finite() && a.sync_secs > 0.0) {
        return bad("--sync-secs must be positive".into());
    }
    let hotkey = a.task.wallet.hotkey_keypair()?;
    let coldkey = a
        .task
        .wallet
        .wallet()
        .ok()
        .and_then(|w| w.coldkey(&PasswordSource::None).ok());
    let name = format!(
        "miner {}/{}",
        a.task.wallet.wallet_name, a.task.wallet.hotkey
    );
    let started = Instant::now();
    let config = MinerConfig { dataset, mlp };
    let miner = Supervised::miner(&config).map_err(|e| anyhow::anyhow!("training failed: {e}"))?;
    eprintln!(
        "{name}: trained {} ({} hidden, {} epochs, {:.0}% of the data) in {:.2} s",
        a.preset,
        config.mlp.hidden,
        config.mlp.epochs,
        config.mlp.train_fraction * 100.0,
        started.elapsed().as_secs_f64()
    );
    let rt = runtime()?;
    rt.block_on(async move {
        let chain = RpcChain::connect(&a.task.rpc.rpc, hotkey.clone(), coldkey).await?;
        let shared = Arc::new(RwLock::new(Metagraph::default()));
        let policy = if a.open_axon {
            AccessPolicy::open()
        } else {
            AccessPolicy::default()
        };
        let axon = miner_axon(
            Arc::new(miner),
            hotkey.ss58(),
            AxonConfig::default(),
            shared.clone(),
            policy,
        );
        let running = axon
            .spawn(SocketAddr::new(a.axon_ip, a.axon_port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", a.axon_ip, a.axon_port))?;
        let addr = running.addr;
        eprintln!("{name}: axon listening on {addr}");
        let mut node = MinerNode::new(
            chain,
            MinerSettings {
                netuid,
                hotkey: hotkey.ss58(),
                max_registration_price: max_price,
            },
            shared,
        );
        let period = Duration::from_secs_f64(a.sync_secs);
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                r = node.step(addr) => match r {
                    Ok(s) => eprintln!(
                        "{name}: uid {} of {}{}{}",
                        s.uid,
                        s.n,
                        if s.registered { ", registered" } else { "" },
                        if s.published { format!(", axon published at {addr}") } else { String::new() },
                    ),
                    Err(e) => eprintln!("{name}: step failed: {e} (retrying)"),
                },
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(period) => {}
            }
        }
        eprintln!("{name}: shutting down");
        drop(running);
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}
