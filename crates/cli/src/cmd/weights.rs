//! `tensornet weights set | commit | reveal`: the hotkey's weights on a subnet. Weights are
//! given as `--uids 1,2,3 --weights 0.5,0.3,0.2` (any non-negative scale; max-upscaled to u16).
//! `commit` prints (and with `--json` returns) the salt that `reveal` needs.

use super::chain::{block_on, print_json, send, send_quiet, usage, RpcArgs, TxArgs};
use super::wallet::WalletArgs;
use serde_json::json;
use std::process::ExitCode;
use tensornet_client::{weights_from_floats, PreparedCommit};
use tensornet_runtime::Call;

/// Arguments of `tensornet weights`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

/// UIDs and weights.
#[derive(clap::Args, Debug)]
struct WeightsIn {
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Target UIDs, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    uids: Vec<u16>,
    /// Weights, comma-separated, one per UID (any non-negative scale).
    #[arg(long, value_delimiter = ',', required = true)]
    weights: Vec<f64>,
    /// Weights version key.
    #[arg(long = "version-key", default_value_t = 0)]
    version_key: u64,
}

/// Signing and output options (weights are signed by the hotkey; no password).
#[derive(clap::Args, Debug)]
struct Common {
    #[command(flatten)]
    wallet: WalletArgs,
    #[command(flatten)]
    tx: TxArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Set weights (commit-reveal off).
    Set {
        #[command(flatten)]
        w: WeightsIn,
        #[command(flatten)]
        c: Common,
    },
    /// Commit a hash of the weights (commit-reveal on); prints the salt for `reveal`.
    Commit {
        #[command(flatten)]
        w: WeightsIn,
        /// Salt, comma-separated u16 values (random when omitted).
        #[arg(long, value_delimiter = ',')]
        salt: Vec<u16>,
        #[command(flatten)]
        c: Common,
    },
    /// Reveal previously committed weights with their salt.
    Reveal {
        #[command(flatten)]
        w: WeightsIn,
        /// Salt used in the commit, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        salt: Vec<u16>,
        #[command(flatten)]
        c: Common,
    },
}

fn normalized(w: &WeightsIn) -> Result<(Vec<u16>, Vec<u16>), String> {
    if w.uids.len() != w.weights.len() {
        return Err(format!(
            "--uids has {} entries but --weights has {}: give one weight per UID",
            w.uids.len(),
            w.weights.len()
        ));
    }
    let pairs: Vec<(u16, f64)> = w
        .uids
        .iter()
        .copied()
        .zip(w.weights.iter().copied())
        .collect();
    weights_from_floats(&pairs).map_err(|e| e.to_string())
}

fn random_salt() -> Vec<u16> {
    // 8 random u16 from the OS-seeded std hasher (no extra dependency; not secret material).
    use std::hash::{BuildHasher, Hasher};
    (0..8)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(i);
            (h.finish() & 0xffff) as u16
        })
        .collect()
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (w, c, salt, kind) = match args.cmd {
        Cmd::Set { w, c } => (w, c, Vec::new(), 0),
        Cmd::Commit { w, salt, c } => (w, c, salt, 1),
        Cmd::Reveal { w, salt, c } => (w, c, salt, 2),
    };
    let (uids, values) = match normalized(&w) {
        Ok(x) => x,
        Err(e) => return usage(&e),
    };
    let kp = c.wallet.hotkey_keypair()?;
    let netuid = w.netuid;
    block_on(async move {
        let client = c.rpc.connect().await?;
        match kind {
            0 => {
                let what = format!("set {} weights on subnet {netuid}", uids.len());
                let call = Call::SetWeights {
                    netuid,
                    uids,
                    values,
                    version_key: w.version_key,
                };
                Ok(send(&client, &kp, call, &c.tx, c.json, &what).await?.0)
            }
            1 => {
                let salt = if salt.is_empty() { random_salt() } else { salt };
                let p =
                    PreparedCommit::new(netuid, kp.account_id(), uids, values, salt, w.version_key);
                let what = format!("commit weights on subnet {netuid}");
                // With --json the single document is the commit plus its inclusion.
                let (code, inc) = if c.json {
                    send_quiet(&client, &kp, p.commit_call(), &c.tx, &what).await?
                } else {
                    send(&client, &kp, p.commit_call(), &c.tx, false, &what).await?
                };
                let salt_s = p
                    .salt
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                if c.json {
                    print_json(&json!({
                        "commit_hash": p.hash,
                        "salt": p.salt,
                        "uids": p.uids,
                        "values": p.values,
                        "version_key": p.version_key,
                        "inclusion": inc.as_ref().map(super::chain::inclusion_json),
                    }));
                } else {
                    eprintln!("keep this salt for the reveal: --salt {salt_s}");
                }
                Ok(code)
            }
            _ => {
                let what = format!("reveal weights on subnet {netuid}");
                let call = Call::RevealWeights {
                    netuid,
                    uids,
                    values,
                    salt,
                    version_key: w.version_key,
                };
                Ok(send(&client, &kp, call, &c.tx, c.json, &what).await?.0)
            }
        }
    })?
}
