//! `tensornet delegate take --take FRACTION`: set the delegate take of the wallet's hotkey
//! (raising is rate-limited by the chain; lowering is not).

use super::chain::{block_on, hotkey_account, open_coldkey, send, short, usage, SendArgs};
use std::process::ExitCode;
use tensornet_runtime::Call;

/// Arguments of `tensornet delegate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Set the hotkey's take, a fraction in [0, 0.18] (e.g. 0.09), or `--take-raw` in /65535.
    Take {
        /// Take as a fraction (0.18 = 18%).
        #[arg(
            long,
            required_unless_present = "take_raw",
            conflicts_with = "take_raw"
        )]
        take: Option<f64>,
        /// Take in units of 1/65535.
        #[arg(long = "take-raw")]
        take_raw: Option<u16>,
        #[command(flatten)]
        s: SendArgs,
    },
}

/// A take fraction in /65535.
pub fn take_units(f: f64) -> Option<u16> {
    (f.is_finite() && (0.0..=1.0).contains(&f)).then(|| (f * 65535.0).round() as u16)
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Cmd::Take {
        take,
        take_raw,
        s:
            SendArgs {
                wallet,
                password,
                tx,
                rpc,
                json,
            },
    } = args.cmd;
    let units = match (take, take_raw) {
        (_, Some(r)) => r,
        (Some(f), None) => match take_units(f) {
            Some(u) => u,
            None => return usage("--take must be a fraction between 0 and 1"),
        },
        (None, None) => return usage("give --take or --take-raw"),
    };
    let hotkey = hotkey_account(&wallet)?;
    block_on(async move {
        let c = rpc.connect().await?;
        let current = c
            .hotkey(hotkey)
            .await?
            .map(|h| h.info.take)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "hotkey {} is not registered: register it first (`tensornet subnet register`)",
                    short(&hotkey)
                )
            })?;
        if current == units {
            eprintln!("take is already {units}/65535: nothing to do");
            if json {
                super::chain::print_json(&serde_json::json!({"take": units, "changed": false}));
            }
            return Ok(ExitCode::SUCCESS);
        }
        let call = if units > current {
            Call::IncreaseTake {
                hotkey,
                take: units,
            }
        } else {
            Call::DecreaseTake {
                hotkey,
                take: units,
            }
        };
        let kp = open_coldkey(&wallet, &password)?;
        let what = format!(
            "set take of {} to {units}/65535 (was {current})",
            short(&hotkey)
        );
        Ok(send(&c, &kp, call, &tx, json, &what).await?.0)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_fraction_to_units() {
        assert_eq!(take_units(0.0), Some(0));
        assert_eq!(take_units(1.0), Some(65535));
        assert_eq!(take_units(0.18), Some(11796));
        assert_eq!(take_units(-0.1), None);
        assert_eq!(take_units(f64::NAN), None);
    }
}
