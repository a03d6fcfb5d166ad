//! `tensornet axon`: serve the connectivity-check echo miner, query an axon, benchmark axons.
//!
//! - `echo`  serves `Echo` and `Classify` on 127.0.0.1 (or `--ip`) until Ctrl-C; requests must be
//!   signed for the wallet's hotkey.
//! - `query` sends one signed request with the wallet's hotkey and prints the answer.
//! - `bench` sends `--calls` requests with `--concurrency` in flight and prints calls/s, latency
//!   percentiles and failures (`--json`: one compact line).

use super::wallet::WalletArgs;
use anyhow::Context;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tensornet_axon::bench::{run_bench, BenchConfig, BenchReport};
use tensornet_axon::{
    echo_axon, Answer, AxonConfig, AxonTarget, Classify, Dendrite, Echo, GateConfig, Synapse,
};

/// Arguments of `tensornet axon`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Serve the connectivity-check miner (Echo and Classify) with the wallet's hotkey.
    Echo(EchoArgs),
    /// Send one signed request to an axon and print the answer.
    Query(QueryArgs),
    /// Benchmark one or more axons: calls/s, latency percentiles, failures.
    Bench(BenchArgs),
    /// Publish the hotkey's axon address (ip/port) on a subnet (needs a node).
    Set(super::axon_set::SetArgs),
}

/// Synapses the commands know.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum SynapseName {
    #[value(name = "Echo")]
    Echo,
    #[value(name = "Classify")]
    Classify,
}

#[derive(clap::Args, Debug)]
struct EchoArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8091)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    ip: IpAddr,
    /// Handlers running at once; further requests wait in the queue.
    #[arg(long, default_value_t = 256)]
    max_concurrency: usize,
    /// Largest accepted request body, bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
}

#[derive(clap::Args, Debug)]
struct QueryArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// The axon's address, IP:PORT.
    #[arg(long)]
    axon: SocketAddr,
    /// The axon's hotkey (SS58); the request is signed for it.
    #[arg(long)]
    axon_hotkey: String,
    /// Synapse to send.
    #[arg(long, value_enum, default_value = "Echo")]
    synapse: SynapseName,
    /// The synapse's fields as JSON, e.g. '{"text":"hi"}'.
    #[arg(long)]
    body: String,
    /// Timeout, seconds.
    #[arg(long, default_value_t = 12.0)]
    timeout: f64,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// Axon addresses, IP:PORT[,IP:PORT…].
    #[arg(long, value_delimiter = ',', required = true)]
    targets: Vec<SocketAddr>,
    /// The axons' hotkey (SS58): one for all targets, or one per target (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    axon_hotkey: Vec<String>,
    /// Synapse to send.
    #[arg(long, value_enum, default_value = "Echo")]
    synapse: SynapseName,
    /// Number of calls (rounds with --fanout).
    #[arg(long, default_value_t = 1000)]
    calls: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Each call is a round to every target at once; latency is the round's.
    #[arg(long)]
    fanout: bool,
    /// Per-call timeout, seconds.
    #[arg(long, default_value_t = 12.0)]
    timeout: f64,
    /// Print one compact JSON line.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match args.cmd {
        Cmd::Echo(a) => rt.block_on(echo(a)),
        Cmd::Query(a) => rt.block_on(query(a)),
        Cmd::Bench(a) => rt.block_on(bench(a)),
        Cmd::Set(a) => super::axon_set::set(a),
    }
}

fn timeout_of(secs: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("--timeout {secs} is not a positive number of seconds"))
}

async fn echo(a: EchoArgs) -> anyhow::Result<ExitCode> {
    let hotkey = a
        .wallet
        .hotkey_keypair()
        .context("cannot load the hotkey (create it with `tensornet wallet new-hotkey`)")?;
    let config = AxonConfig {
        max_body_bytes: a.max_body_bytes,
        gate: GateConfig {
            max_concurrent: a.max_concurrency,
            per_hotkey: a.max_concurrency,
            max_queue: 65_536,
        },
        external_ip: a.ip.to_string(),
        external_port: a.port,
        ..AxonConfig::default()
    };
    let axon = echo_axon(hotkey.ss58(), config);
    let running = axon
        .spawn(SocketAddr::new(a.ip, a.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", a.ip, a.port))?;
    eprintln!(
        "echo axon listening on {} (hotkey {}); Ctrl-C to stop",
        running.addr,
        hotkey.ss58()
    );
    tokio::select! {
        r = running.task => {
            match r {
                Ok(Ok(())) => Ok(ExitCode::SUCCESS),
                Ok(Err(e)) => Err(anyhow::anyhow!("axon stopped: {e}")),
                Err(e) => Err(anyhow::anyhow!("axon task failed: {e}")),
            }
        }
        _ = tokio::signal::ctrl_c() => {
            eprintln!("stopping");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_body<S: Synapse>(body: &str) -> Result<S, String> {
    serde_json::from_str(body).map_err(|e| {
        format!(
            "--body is not a valid {} synapse ({e}); e.g. {}",
            S::NAME,
            if S::NAME == "Echo" {
                r#"'{"text":"hi"}'"#
            } else {
                r#"'{"pixels":[0.0, 0.5, …64 values]}'"#
            }
        )
    })
}

fn print_answer<S: Synapse>(a: &Answer<S>, json: bool) -> anyhow::Result<ExitCode> {
    let response = match &a.synapse {
        Some(s) => serde_json::to_value(s)?,
        None => serde_json::Value::Null,
    };
    if json {
        let doc = serde_json::json!({
            "status_code": a.status_code,
            "status_message": a.status_message,
            "process_time_ms": a.process_time * 1000.0,
            "axon_process_time_ms": a.axon_process_time.map(|t| t * 1000.0),
            "response": response,
        });
        println!("{doc}");
    } else {
        println!(
            "{} {} ({:.2} ms)",
            a.status_code,
            a.status_message,
            a.process_time * 1000.0
        );
        if !response.is_null() {
            println!("{response}");
        }
    }
    Ok(if a.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn query_typed<S: Synapse>(a: &QueryArgs, synapse: S) -> anyhow::Result<ExitCode> {
    let kp = a
        .wallet
        .hotkey_keypair()
        .context("cannot load the hotkey (create it with `tensornet wallet new-hotkey`)")?;
    let dendrite = Dendrite::new(kp)?;
    let target = AxonTarget::new(a.axon, a.axon_hotkey.clone());
    let answer = dendrite
        .call(&target, &synapse, timeout_of(a.timeout)?)
        .await;
    print_answer(&answer, a.json)
}

fn usage(msg: String) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn check_hotkeys(hotkeys: &[String]) -> Result<(), String> {
    for h in hotkeys {
        tensornet_keys::ss58_decode(h)
            .map_err(|e| format!("--axon-hotkey {h} is not an SS58 address: {e}"))?;
    }
    Ok(())
}

async fn query(a: QueryArgs) -> anyhow::Result<ExitCode> {
    if let Err(m) = check_hotkeys(std::slice::from_ref(&a.axon_hotkey)) {
        return Ok(usage(m));
    }
    match a.synapse {
        SynapseName::Echo => match parse_body::<Echo>(&a.body) {
            Ok(s) => query_typed(&a, s).await,
            Err(m) => Ok(usage(m)),
        },
        SynapseName::Classify => match parse_body::<Classify>(&a.body) {
            Ok(s) => query_typed(&a, s).await,
            Err(m) => Ok(usage(m)),
        },
    }
}

fn print_report(r: &BenchReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        println!(
            "{:.1} calls/s  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  failures {}  ({} calls in {:.2} s{})",
            r.calls_per_s,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.failures,
            r.calls,
            r.wall_s,
            r.cpu_ms_per_1000_calls
                .map(|c| format!(", dendrite CPU {c:.1} ms per 1,000 calls"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

async fn bench(a: BenchArgs) -> anyhow::Result<ExitCode> {
    if a.axon_hotkey.len() != 1 && a.axon_hotkey.len() != a.targets.len() {
        return Ok(usage(format!(
            "give one --axon-hotkey for all targets or one per target ({} targets, {} hotkeys)",
            a.targets.len(),
            a.axon_hotkey.len()
        )));
    }
    if let Err(m) = check_hotkeys(&a.axon_hotkey) {
        return Ok(usage(m));
    }
    if a.concurrency == 0 {
        return Ok(usage("--concurrency must be at least 1".into()));
    }
    let kp = a
        .wallet
        .hotkey_keypair()
        .context("cannot load the hotkey (create it with `tensornet wallet new-hotkey`)")?;
    let dendrite = Arc::new(Dendrite::new(kp)?);
    let targets: Vec<AxonTarget> = a
        .targets
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let hk = a.axon_hotkey.get(i).unwrap_or(&a.axon_hotkey[0]);
            AxonTarget::new(*addr, hk.clone())
        })
        .collect();
    let targets = Arc::new(targets);
    let config = BenchConfig {
        calls: a.calls,
        concurrency: a.concurrency,
        timeout: timeout_of(a.timeout)?,
        fanout: a.fanout,
    };
    eprintln!(
        "bench: {} {} call(s), {} in flight, {} target(s){}",
        a.calls,
        match a.synapse {
            SynapseName::Echo => "Echo",
            SynapseName::Classify => "Classify",
        },
        a.concurrency,
        targets.len(),
        if a.fanout { ", fan-out rounds" } else { "" }
    );
    let report = match a.synapse {
        SynapseName::Echo => {
            let s = Echo {
                text: "bench".into(),
                response: None,
            };
            run_bench(dendrite, targets, s, &config).await
        }
        SynapseName::Classify => {
            let s = Classify {
                pixels: (0..64)
                    .map(|j| ((j * 7) % 13) as f64 / 13.0 - 0.25)
                    .collect(),
                logits: None,
            };
            run_bench(dendrite, targets, s, &config).await
        }
    };
    print_report(&report, a.json)?;
    Ok(if report.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
