//! `tensornet metagraph --netuid N`: the whole metagraph of a subnet in one RPC call, as a
//! table (UID, hotkey, stake, permit, active, consensus, incentive, dividends, trust,
//! emission, axon) or one JSON document.

use super::chain::{block_on, print_json, short, ss58, table, RpcArgs};
use serde_json::json;
use std::process::ExitCode;
use tensornet_client::decode_ip;
use tensornet_primitives::format_tao;
use tensornet_runtime::AxonInfo;

/// Arguments of `tensornet metagraph`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Include each UID's weight and bond rows (JSON only).
    #[arg(long = "with-weights")]
    with_weights: bool,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

/// `IP:PORT` of an axon (`[v6]:port`), or `?` when malformed.
pub fn axon_string(a: &AxonInfo) -> String {
    match decode_ip(a.ip, a.ip_type) {
        Some(std::net::IpAddr::V6(v6)) => format!("[{v6}]:{}", a.port),
        Some(ip) => format!("{ip}:{}", a.port),
        None => "?".into(),
    }
}

fn frac(v: u16) -> f64 {
    f64::from(v) / 65535.0
}

/// Runs the command.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    block_on(async move {
        let c = a.rpc.connect().await?;
        let m = c.metagraph(a.netuid, a.with_weights).await?;
        if a.json {
            let neurons: Vec<_> = m
                .neurons
                .iter()
                .map(|n| {
                    let mut v = json!({
                        "uid": n.uid,
                        "hotkey": ss58(&n.hotkey),
                        "coldkey": ss58(&n.coldkey),
                        "stake": n.stake,
                        "validator_permit": n.validator_permit,
                        "active": n.active,
                        "consensus": frac(n.consensus),
                        "incentive": frac(n.incentive),
                        "dividends": frac(n.dividends),
                        "trust": frac(n.validator_trust),
                        "emission": n.emission,
                        "last_update": n.last_update,
                        "axon": n.axon.as_ref().map(axon_string),
                    });
                    if let Some(w) = &n.weights {
                        v["weights"] = json!(w);
                    }
                    if let Some(b) = &n.bonds {
                        v["bonds"] = json!(b);
                    }
                    v
                })
                .collect();
            print_json(&json!({
                "netuid": a.netuid,
                "block": m.block,
                "n": m.subnet.n,
                "epoch_index": m.subnet.epoch_index,
                "tempo": m.subnet.params.tempo,
                "neurons": neurons,
            }));
        } else {
            println!(
                "subnet {}  block {}  n {}  epoch {}  tempo {}",
                a.netuid, m.block, m.subnet.n, m.subnet.epoch_index, m.subnet.params.tempo
            );
            let mut t = table(&[
                "UID",
                "hotkey",
                "stake (TAO)",
                "permit",
                "active",
                "consensus",
                "incentive",
                "dividends",
                "trust",
                "emission (TAO)",
                "axon",
            ]);
            for n in &m.neurons {
                t.add_row(vec![
                    n.uid.to_string(),
                    short(&n.hotkey),
                    format_tao(n.stake),
                    if n.validator_permit { "yes" } else { "no" }.into(),
                    if n.active { "yes" } else { "no" }.into(),
                    format!("{:.4}", frac(n.consensus)),
                    format!("{:.4}", frac(n.incentive)),
                    format!("{:.4}", frac(n.dividends)),
                    format!("{:.4}", frac(n.validator_trust)),
                    format_tao(n.emission),
                    n.axon
                        .as_ref()
                        .map(axon_string)
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
            println!("{t}");
        }
        Ok(ExitCode::SUCCESS)
    })?
}
