//! `tensornet subnet create | list | show | hyperparameters | set | register | burn-cost`.

use super::chain::{
    block_on, hotkey_account, open_coldkey, print_json, send, short, ss58, table, usage, RpcArgs,
    SendArgs,
};
use serde_json::{json, Value};
use std::process::ExitCode;
use tensornet_primitives::{format_tao, parse_tao};
use tensornet_runtime::{Call, Event, Hyperparameter};

/// Arguments of `tensornet subnet`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Options shared by read-only subnet commands.
#[derive(clap::Args, Debug)]
struct ReadArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Create a subnet owned by the wallet's coldkey; its hotkey takes UID 0 (locks the lock cost).
    Create {
        #[command(flatten)]
        s: SendArgs,
    },
    /// Every subnet.
    List {
        #[command(flatten)]
        r: ReadArgs,
    },
    /// One subnet's record.
    Show {
        /// Subnet.
        #[arg(long)]
        netuid: u16,
        #[command(flatten)]
        r: ReadArgs,
    },
    /// One subnet's hyperparameters.
    #[command(visible_alias = "hyperparams")]
    Hyperparameters {
        /// Subnet.
        #[arg(long)]
        netuid: u16,
        #[command(flatten)]
        r: ReadArgs,
    },
    /// Set an owner-settable hyperparameter (subnet owner's coldkey).
    Set {
        /// Subnet.
        #[arg(long)]
        netuid: u16,
        /// Name, e.g. tempo, commit_reveal_enabled, alpha_values.
        #[arg(long)]
        param: String,
        /// Value (a number, true/false, or LOW,HIGH for alpha_values).
        #[arg(long)]
        value: String,
        #[command(flatten)]
        s: SendArgs,
    },
    /// Register the wallet's hotkey on a subnet for the current burn price (coldkey pays).
    Register {
        /// Subnet.
        #[arg(long)]
        netuid: u16,
        /// Refuse if the price is above this many TAO.
        #[arg(long = "max-price", value_name = "TAO")]
        max_price: Option<String>,
        #[command(flatten)]
        s: SendArgs,
    },
    /// The registration price of a subnet and the subnet creation lock cost.
    BurnCost {
        /// Subnet (omit for the lock cost only).
        #[arg(long)]
        netuid: Option<u16>,
        #[command(flatten)]
        r: ReadArgs,
    },
}

/// Parses `--param NAME --value V` into a hyperparameter.
pub fn parse_hyperparameter(name: &str, value: &str) -> Result<Hyperparameter, String> {
    let v = value.trim();
    fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
        v.parse::<T>()
            .map_err(|_| format!("--value {v:?} is not a valid number for {name}"))
    }
    fn flag(name: &str, v: &str) -> Result<bool, String> {
        match v {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            _ => Err(format!("--value {v:?}: {name} takes true or false")),
        }
    }
    let n = name.trim().replace('-', "_");
    Ok(match n.as_str() {
        "tempo" => Hyperparameter::Tempo(num(&n, v)?),
        "kappa" => Hyperparameter::Kappa(num(&n, v)?),
        "bonds_moving_average" => Hyperparameter::BondsMovingAverage(num(&n, v)?),
        "bonds_penalty" => Hyperparameter::BondsPenalty(num(&n, v)?),
        "yuma3_enabled" => Hyperparameter::Yuma3Enabled(flag(&n, v)?),
        "liquid_alpha_enabled" => Hyperparameter::LiquidAlphaEnabled(flag(&n, v)?),
        "alpha_values" => {
            let (lo, hi) = v
                .split_once(',')
                .ok_or_else(|| "alpha_values takes LOW,HIGH".to_string())?;
            Hyperparameter::AlphaValues(num(&n, lo.trim())?, num(&n, hi.trim())?)
        }
        "alpha_sigmoid_steepness" => Hyperparameter::AlphaSigmoidSteepness(num(&n, v)?),
        "max_allowed_validators" => Hyperparameter::MaxAllowedValidators(num(&n, v)?),
        "min_allowed_weights" => Hyperparameter::MinAllowedWeights(num(&n, v)?),
        "max_weight_limit" => Hyperparameter::MaxWeightLimit(num(&n, v)?),
        "activity_cutoff" => Hyperparameter::ActivityCutoff(num(&n, v)?),
        "commit_reveal_enabled" | "commit_reveal_weights_enabled" => {
            Hyperparameter::CommitRevealEnabled(flag(&n, v)?)
        }
        "reveal_period" => Hyperparameter::RevealPeriod(num(&n, v)?),
        "weights_rate_limit" => Hyperparameter::WeightsRateLimit(num(&n, v)?),
        "weights_version_key" | "weights_version" => Hyperparameter::WeightsVersionKey(num(&n, v)?),
        "immunity_period" => Hyperparameter::ImmunityPeriod(num(&n, v)?),
        "max_allowed_uids" => Hyperparameter::MaxAllowedUids(num(&n, v)?),
        "serving_rate_limit" => Hyperparameter::ServingRateLimit(num(&n, v)?),
        "emission_weight" => Hyperparameter::EmissionWeight(num(&n, v)?),
        _ => {
            return Err(format!(
                "unknown hyperparameter {name:?}: see `tensornet subnet hyperparameters`"
            ))
        }
    })
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Argument errors are usage errors (exit 2) before any network access.
    let param = match &args.cmd {
        Cmd::Set { param, value, .. } => match parse_hyperparameter(param, value) {
            Ok(p) => Some(p),
            Err(e) => return usage(&e),
        },
        _ => None,
    };
    let max_price = match &args.cmd {
        Cmd::Register {
            max_price: Some(p), ..
        } => match parse_tao(p) {
            Ok(v) => Some(v),
            Err(e) => return usage(&format!("--max-price: {e}")),
        },
        _ => None,
    };
    block_on(async move {
        match args.cmd {
            Cmd::Create { s } => {
                let hotkey = hotkey_account(&s.wallet)?;
                let c = s.rpc.connect().await?;
                let cost = c.burn_cost(None).await?.network_lock;
                let kp = open_coldkey(&s.wallet, &s.password)?;
                let what = format!("create subnet (lock {} TAO)", format_tao(cost));
                let (code, inc) = send(
                    &c,
                    &kp,
                    Call::RegisterNetwork { hotkey },
                    &s.tx,
                    s.json,
                    &what,
                )
                .await?;
                if !s.json {
                    if let Some(netuid) = inc.as_ref().and_then(|i| {
                        i.receipt.events.iter().find_map(|e| match e {
                            Event::NetworkRegistered { netuid, .. } => Some(*netuid),
                            _ => None,
                        })
                    }) {
                        println!("created subnet {netuid}");
                    }
                }
                Ok(code)
            }
            Cmd::List { r } => {
                let c = r.rpc.connect().await?;
                let subnets = c.subnets().await?;
                if r.json {
                    print_json(&serde_json::to_value(&subnets)?);
                } else {
                    let mut t = table(&[
                        "netuid",
                        "n",
                        "max n",
                        "tempo",
                        "owner",
                        "burn (TAO)",
                        "lock (TAO)",
                        "epoch",
                        "pending (TAO)",
                    ]);
                    for s in &subnets {
                        t.add_row(vec![
                            s.netuid.to_string(),
                            s.n.to_string(),
                            s.params.max_allowed_uids.to_string(),
                            s.params.tempo.to_string(),
                            short(&s.owner),
                            format_tao(s.burn),
                            format_tao(s.lock),
                            s.epoch_index.to_string(),
                            format_tao(
                                s.pending_server
                                    .saturating_add(s.pending_validator)
                                    .saturating_add(s.pending_owner_cut),
                            ),
                        ]);
                    }
                    println!("{t}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Show { netuid, r } => {
                let c = r.rpc.connect().await?;
                let s = c.subnet(netuid).await?;
                if r.json {
                    print_json(&serde_json::to_value(&s)?);
                } else {
                    let v = serde_json::to_value(&s)?;
                    let mut t = table(&["field", "value"]);
                    if let Value::Object(m) = v {
                        for (k, v) in m {
                            if k == "params" {
                                continue;
                            }
                            let shown = match (k.as_str(), &v) {
                                ("owner" | "owner_hotkey", _) => s_account(&v),
                                (
                                    "burn" | "lock" | "pending_server" | "pending_validator"
                                    | "pending_owner_cut",
                                    Value::Number(n),
                                ) => n
                                    .as_u64()
                                    .map(|r| format!("{} TAO", format_tao(r)))
                                    .unwrap_or_else(|| v.to_string()),
                                _ => v.to_string(),
                            };
                            t.add_row(vec![k, shown]);
                        }
                    }
                    println!("{t}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Hyperparameters { netuid, r } => {
                let c = r.rpc.connect().await?;
                let p = c.hyperparameters(netuid).await?;
                let v = serde_json::to_value(&p)?;
                if r.json {
                    print_json(&v);
                } else {
                    let mut t = table(&["hyperparameter", "value"]);
                    if let Value::Object(m) = v {
                        for (k, v) in m {
                            t.add_row(vec![k, v.to_string()]);
                        }
                    }
                    println!("{t}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Set { netuid, s, .. } => {
                let Some(param) = param else {
                    return Ok(ExitCode::from(2));
                };
                let c = s.rpc.connect().await?;
                let kp = open_coldkey(&s.wallet, &s.password)?;
                let what = format!("set {param:?} on subnet {netuid}");
                Ok(send(
                    &c,
                    &kp,
                    Call::SetHyperparameter { netuid, param },
                    &s.tx,
                    s.json,
                    &what,
                )
                .await?
                .0)
            }
            Cmd::Register { netuid, s, .. } => {
                let hotkey = hotkey_account(&s.wallet)?;
                let c = s.rpc.connect().await?;
                let price = c.burn_cost(Some(netuid)).await?.registration.unwrap_or(0);
                let kp = open_coldkey(&s.wallet, &s.password)?;
                let what = format!(
                    "register {} on subnet {netuid} (burn ≈ {} TAO)",
                    short(&hotkey),
                    format_tao(price)
                );
                let (code, inc) = send(
                    &c,
                    &kp,
                    Call::BurnedRegister {
                        netuid,
                        hotkey,
                        max_price,
                    },
                    &s.tx,
                    s.json,
                    &what,
                )
                .await?;
                if !s.json {
                    if let Some((uid, price)) = inc.as_ref().and_then(|i| {
                        i.receipt.events.iter().find_map(|e| match e {
                            Event::NeuronRegistered { uid, price, .. } => Some((*uid, *price)),
                            _ => None,
                        })
                    }) {
                        println!(
                            "registered {} as UID {uid} (burned {} TAO)",
                            ss58(&hotkey),
                            format_tao(price)
                        );
                    }
                }
                Ok(code)
            }
            Cmd::BurnCost { netuid, r } => {
                let c = r.rpc.connect().await?;
                let b = c.burn_cost(netuid).await?;
                if r.json {
                    print_json(&json!({
                        "netuid": b.netuid,
                        "registration": b.registration,
                        "network_lock": b.network_lock,
                    }));
                } else {
                    if let (Some(n), Some(p)) = (b.netuid, b.registration) {
                        println!("registration on subnet {n}: {} TAO", format_tao(p));
                    }
                    println!("subnet creation lock: {} TAO", format_tao(b.network_lock));
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })?
}

fn s_account(v: &Value) -> String {
    v.as_str()
        .and_then(|s| tensornet_primitives::AccountId::from_hex(s).ok())
        .map(|a| ss58(&a))
        .unwrap_or_else(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperparameters_parse() {
        assert_eq!(
            parse_hyperparameter("tempo", "30"),
            Ok(Hyperparameter::Tempo(30))
        );
        assert_eq!(
            parse_hyperparameter("commit-reveal-enabled", "true"),
            Ok(Hyperparameter::CommitRevealEnabled(true))
        );
        assert_eq!(
            parse_hyperparameter("alpha_values", "2000, 60000"),
            Ok(Hyperparameter::AlphaValues(2000, 60000))
        );
        assert!(parse_hyperparameter("tempo", "-1").is_err());
        assert!(parse_hyperparameter("tempo", "70000").is_err());
        assert!(parse_hyperparameter("nope", "1").is_err());
        assert!(parse_hyperparameter("yuma3_enabled", "maybe").is_err());
    }
}
