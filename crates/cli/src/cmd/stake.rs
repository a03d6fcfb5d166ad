//! `tensornet stake add | remove | list`: move free TAO to stake on a hotkey and back.

use super::chain::{
    block_on, coldkey_account, hotkey_account, open_coldkey, parse_account, positive_amount,
    print_json, send, short, ss58, table, usage, RpcArgs, SendArgs,
};
use super::wallet::WalletArgs;
use serde_json::json;
use std::process::ExitCode;
use tensornet_primitives::{format_tao, AccountId};
use tensornet_runtime::Call;

/// Arguments of `tensornet stake`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Options of `stake add` and `stake remove`.
#[derive(clap::Args, Debug)]
struct MoveArgs {
    /// Amount in TAO.
    #[arg(long, value_name = "TAO")]
    amount: String,
    /// Stake on this hotkey (SS58 or 0x hex) instead of the wallet's hotkey.
    #[arg(
        long = "hotkey-address",
        alias = "include-hotkeys",
        value_name = "ADDRESS"
    )]
    hotkey_address: Option<String>,
    #[command(flatten)]
    s: SendArgs,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Stake free TAO of the coldkey on a hotkey.
    Add(MoveArgs),
    /// Unstake TAO from a hotkey back to the coldkey's free balance.
    Remove(MoveArgs),
    /// The coldkey's stakes.
    List {
        #[command(flatten)]
        wallet: WalletArgs,
        /// List this coldkey (SS58 or 0x hex) instead of the wallet's.
        #[arg(long, value_name = "ADDRESS")]
        address: Option<String>,
        #[command(flatten)]
        rpc: RpcArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

fn target(a: &MoveArgs) -> anyhow::Result<Result<AccountId, String>> {
    Ok(match &a.hotkey_address {
        Some(s) => parse_account(s).map_err(|e| format!("--hotkey-address: {e:#}")),
        None => Ok(hotkey_account(&a.s.wallet)?),
    })
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        Cmd::Add(a) => move_stake(a, true),
        Cmd::Remove(a) => move_stake(a, false),
        Cmd::List {
            wallet,
            address,
            rpc,
            json,
        } => {
            let who = match address {
                Some(s) => match parse_account(&s) {
                    Ok(x) => x,
                    Err(e) => return usage(&format!("--address: {e:#}")),
                },
                None => coldkey_account(&wallet)?,
            };
            block_on(async move {
                let c = rpc.connect().await?;
                let acc = c.account(who).await?;
                if json {
                    print_json(&json!({
                        "coldkey": ss58(&who),
                        "total_stake": acc.total_stake,
                        "stakes": acc.stakes.iter().map(|s| json!({"hotkey": ss58(&s.hotkey), "amount": s.amount})).collect::<Vec<_>>(),
                    }));
                } else {
                    let mut t = table(&["hotkey", "stake (TAO)"]);
                    for s in &acc.stakes {
                        t.add_row(vec![ss58(&s.hotkey), format_tao(s.amount)]);
                    }
                    println!("{t}");
                    println!(
                        "total staked by {}: {} TAO",
                        short(&who),
                        format_tao(acc.total_stake)
                    );
                }
                Ok(ExitCode::SUCCESS)
            })?
        }
    }
}

fn move_stake(a: MoveArgs, add: bool) -> anyhow::Result<ExitCode> {
    let amount = match positive_amount(&a.amount) {
        Ok(v) => v,
        Err(e) => return usage(&e),
    };
    let hotkey = match target(&a)? {
        Ok(h) => h,
        Err(e) => return usage(&e),
    };
    block_on(async move {
        let c = a.s.rpc.connect().await?;
        let kp = open_coldkey(&a.s.wallet, &a.s.password)?;
        let (call, what) = if add {
            (
                Call::AddStake { hotkey, amount },
                format!("stake {} TAO on {}", format_tao(amount), short(&hotkey)),
            )
        } else {
            (
                Call::RemoveStake { hotkey, amount },
                format!("unstake {} TAO from {}", format_tao(amount), short(&hotkey)),
            )
        };
        Ok(send(&c, &kp, call, &a.s.tx, a.s.json, &what).await?.0)
    })?
}
