//! `tensornet wallet balance | transfer | overview`: the wallet commands that talk to a node.

use super::chain::{
    block_on, coldkey_account, open_coldkey, parse_account, positive_amount, print_json, send,
    short, ss58, table, usage, RpcArgs, SendArgs,
};
use super::wallet::WalletArgs;
use serde_json::json;
use std::process::ExitCode;
use tensornet_primitives::format_tao;
use tensornet_runtime::Call;

/// `wallet balance`: free, staked and total TAO of the wallet's coldkey (or `--address`).
#[derive(clap::Args, Debug)]
pub struct BalanceArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// Show this address (SS58 or 0x hex) instead of the wallet's coldkey.
    #[arg(long, value_name = "ADDRESS")]
    address: Option<String>,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

/// `wallet transfer`: send free TAO from the coldkey.
#[derive(clap::Args, Debug)]
pub struct TransferArgs {
    /// Recipient (SS58 or 0x hex).
    #[arg(long, visible_alias = "to", value_name = "ADDRESS")]
    dest: String,
    /// Amount in TAO (e.g. 1.5).
    #[arg(long, value_name = "TAO")]
    amount: String,
    #[command(flatten)]
    s: SendArgs,
}

/// `wallet overview`: the coldkey's balance and, per hotkey of the wallet, its registrations,
/// stake and last emission.
#[derive(clap::Args, Debug)]
pub struct OverviewArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

/// Runs `wallet balance`.
pub fn balance(a: BalanceArgs) -> anyhow::Result<ExitCode> {
    let who = match &a.address {
        Some(s) => match parse_account(s) {
            Ok(x) => x,
            Err(e) => return usage(&format!("--address: {e:#}")),
        },
        None => coldkey_account(&a.wallet)?,
    };
    block_on(async move {
        let c = a.rpc.connect().await?;
        let acc = c.account(who).await?;
        let total = u128::from(acc.free) + u128::from(acc.total_stake);
        if a.json {
            print_json(&json!({
                "ss58": ss58(&who),
                "account": who,
                "free": acc.free,
                "staked": acc.total_stake,
                "total": total,
                "free_tao": format_tao(acc.free),
                "staked_tao": format_tao(acc.total_stake),
                "nonce": acc.nonce,
            }));
        } else {
            let mut t = table(&["coldkey", "free (TAO)", "staked (TAO)", "total (TAO)"]);
            t.add_row(vec![
                ss58(&who),
                format_tao(acc.free),
                format_tao(acc.total_stake),
                format_tao(u64::try_from(total).unwrap_or(u64::MAX)),
            ]);
            println!("{t}");
        }
        Ok(ExitCode::SUCCESS)
    })?
}

/// Runs `wallet transfer`.
pub fn transfer(a: TransferArgs) -> anyhow::Result<ExitCode> {
    let dest = match parse_account(&a.dest) {
        Ok(x) => x,
        Err(e) => return usage(&format!("--dest: {e:#}")),
    };
    let amount = match positive_amount(&a.amount) {
        Ok(x) => x,
        Err(e) => return usage(&e),
    };
    block_on(async move {
        let c = a.s.rpc.connect().await?;
        let kp = open_coldkey(&a.s.wallet, &a.s.password)?;
        let what = format!("transfer {} TAO to {}", format_tao(amount), short(&dest));
        let (code, _) = send(
            &c,
            &kp,
            Call::Transfer { dest, amount },
            &a.s.tx,
            a.s.json,
            &what,
        )
        .await?;
        Ok(code)
    })?
}

/// Runs `wallet overview`.
pub fn overview(a: OverviewArgs) -> anyhow::Result<ExitCode> {
    let w = a.wallet.wallet()?;
    let cold = coldkey_account(&a.wallet).ok();
    let hotkeys = w.hotkeys().unwrap_or_default();
    block_on(async move {
        let c = a.rpc.connect().await?;
        let acc = match cold {
            Some(ck) => Some(c.account(ck).await?),
            None => None,
        };
        let mut rows = Vec::new();
        for name in &hotkeys {
            let Ok(hk) = w
                .hotkeypub(name)
                .or_else(|_| w.hotkey(name).map(|k| k.account_id()))
            else {
                continue;
            };
            let view = c.hotkey(hk).await?;
            let regs = view
                .as_ref()
                .map(|v| v.registrations.clone())
                .unwrap_or_default();
            if regs.is_empty() {
                rows.push(json!({
                    "hotkey_name": name, "hotkey": ss58(&hk), "netuid": null, "uid": null,
                    "stake": view.as_ref().map(|v| v.info.total_stake).unwrap_or(0),
                }));
            }
            for (netuid, uid) in regs {
                let n = c.neuron(netuid, hk).await?;
                let n = n.map(|n| n.neuron);
                rows.push(json!({
                    "hotkey_name": name,
                    "hotkey": ss58(&hk),
                    "netuid": netuid,
                    "uid": uid,
                    "stake": n.as_ref().map(|n| n.stake).unwrap_or(0),
                    "validator_permit": n.as_ref().map(|n| n.validator_permit),
                    "active": n.as_ref().map(|n| n.active),
                    "incentive": n.as_ref().map(|n| n.incentive),
                    "dividends": n.as_ref().map(|n| n.dividends),
                    "emission": n.as_ref().map(|n| n.emission),
                    "axon": n.as_ref().and_then(|n| n.axon.as_ref()).map(super::metagraph::axon_string),
                }));
            }
        }
        if a.json {
            print_json(&json!({
                "wallet": w.name(),
                "coldkey": cold.map(|c| ss58(&c)),
                "free": acc.as_ref().map(|x| x.free),
                "staked": acc.as_ref().map(|x| x.total_stake),
                "hotkeys": rows,
            }));
        } else {
            println!(
                "wallet {:?}  coldkey {}  free {} TAO  staked {} TAO",
                w.name(),
                cold.map(|c| ss58(&c)).unwrap_or_else(|| "(none)".into()),
                acc.as_ref().map(|x| format_tao(x.free)).unwrap_or_default(),
                acc.as_ref()
                    .map(|x| format_tao(x.total_stake))
                    .unwrap_or_default(),
            );
            let mut t = table(&[
                "hotkey",
                "address",
                "netuid",
                "uid",
                "stake (TAO)",
                "permit",
                "incentive",
                "dividends",
                "emission (TAO)",
                "axon",
            ]);
            for r in &rows {
                let s = |k: &str| match &r[k] {
                    serde_json::Value::Null => "-".to_string(),
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                let tao = |k: &str| r[k].as_u64().map(format_tao).unwrap_or_else(|| "-".into());
                let frac = |k: &str| {
                    r[k].as_u64()
                        .map(|v| format!("{:.4}", v as f64 / 65535.0))
                        .unwrap_or_else(|| "-".into())
                };
                t.add_row(vec![
                    s("hotkey_name"),
                    s("hotkey"),
                    s("netuid"),
                    s("uid"),
                    tao("stake"),
                    s("validator_permit"),
                    frac("incentive"),
                    frac("dividends"),
                    tao("emission"),
                    s("axon"),
                ]);
            }
            println!("{t}");
        }
        Ok(ExitCode::SUCCESS)
    })?
}
