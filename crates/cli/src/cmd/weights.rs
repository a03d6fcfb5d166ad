//! `tensornet weights set | commit | reveal`: the hotkey's weights on a subnet. Weights are
//! given as `--uids 1,2,3 --weights 0.5,0.3,0.2` (any non-negative scale; max-upscaled to u16).
//! `commit` prints (and with `--json` returns) the salt that `reveal` needs, and saves the
//! commit (weights, salt, version key, hash) under `<wallet>/commits/<hotkey>.json` (mode 0600)
//! so that a plain `weights reveal --netuid N` can reveal it later without retyping anything; a
//! successful reveal removes it from that file.

use super::chain::{block_on, print_json, send, send_quiet, usage, RpcArgs, TxArgs};
use super::wallet::WalletArgs;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tensornet_client::{weights_from_floats, PreparedCommit};
use tensornet_keys::wallet::write_atomic;
use tensornet_primitives::Hash32;
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
    /// Reveal committed weights: the oldest commit saved for this hotkey and subnet (or the one
    /// given by --hash), or weights given in full with --uids, --weights and --salt.
    Reveal {
        #[command(flatten)]
        w: RevealIn,
        #[command(flatten)]
        c: Common,
    },
}

/// What to reveal: a saved commit, or the weights and salt in full.
#[derive(clap::Args, Debug)]
struct RevealIn {
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Reveal the saved commit with this hash (default: the oldest one saved for the subnet).
    #[arg(long, value_name = "0xHASH", value_parser = parse_hash, conflicts_with_all = ["uids", "weights", "salt"])]
    hash: Option<Hash32>,
    /// Target UIDs, comma-separated (with --weights and --salt: reveal without a saved commit).
    #[arg(long, value_delimiter = ',', requires_all = ["weights", "salt"])]
    uids: Vec<u16>,
    /// Weights, comma-separated, one per UID, as given to `commit`.
    #[arg(long, value_delimiter = ',', requires_all = ["uids", "salt"])]
    weights: Vec<f64>,
    /// Salt used in the commit, comma-separated.
    #[arg(long, value_delimiter = ',', requires_all = ["uids", "weights"])]
    salt: Vec<u16>,
    /// Weights version key (with --uids).
    #[arg(long = "version-key", default_value_t = 0)]
    version_key: u64,
}

fn parse_hash(text: &str) -> Result<Hash32, String> {
    Hash32::from_hex(text)
        .map_err(|e| format!("{e} (expected 32 bytes of hex, as `weights commit` printed)"))
}

/// One commit saved by `weights commit` until it is revealed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct SavedCommit {
    netuid: u16,
    hash: Hash32,
    uids: Vec<u16>,
    values: Vec<u16>,
    salt: Vec<u16>,
    version_key: u64,
    /// Block that included the commit (absent when sent with --no-wait).
    block: Option<u64>,
}

/// The file holding a hotkey's saved commits.
fn commits_file(c: &Common) -> anyhow::Result<PathBuf> {
    Ok(c.wallet
        .wallet()?
        .path()
        .join("commits")
        .join(format!("{}.json", c.wallet.hotkey)))
}

fn load_commits(path: &Path) -> anyhow::Result<Vec<SavedCommit>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a saved-commits file ({e}); move it away or reveal with --uids, --weights and --salt",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

fn store_commits(path: &Path, commits: &[SavedCommit]) -> anyhow::Result<()> {
    if commits.is_empty() {
        return match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(anyhow::anyhow!("cannot remove {}: {e}", path.display())),
        };
    }
    let mut doc = serde_json::to_vec_pretty(commits)?;
    doc.push(b'\n');
    Ok(write_atomic(path, &doc)?)
}

/// Picks the saved commit to reveal: the one with `hash`, else the oldest for `netuid`.
fn pick_commit(
    saved: &[SavedCommit],
    netuid: u16,
    hash: Option<Hash32>,
) -> Result<SavedCommit, String> {
    let found = match hash {
        Some(h) => saved.iter().find(|s| s.hash == h && s.netuid == netuid),
        None => saved.iter().find(|s| s.netuid == netuid),
    };
    found.cloned().ok_or_else(|| match hash {
        Some(h) => format!(
            "no saved commit {h} for subnet {netuid}; give --uids, --weights and --salt instead"
        ),
        None => format!(
            "no saved commit for subnet {netuid} and this hotkey; run `weights commit` first or give --uids, --weights and --salt"
        ),
    })
}

fn normalized(uids: &[u16], weights: &[f64]) -> Result<(Vec<u16>, Vec<u16>), String> {
    if uids.len() != weights.len() {
        return Err(format!(
            "--uids has {} entries but --weights has {}: give one weight per UID",
            uids.len(),
            weights.len()
        ));
    }
    let pairs: Vec<(u16, f64)> = uids.iter().copied().zip(weights.iter().copied()).collect();
    weights_from_floats(&pairs).map_err(|e| e.to_string())
}

/// A fresh salt: 8 u16 from the operating system's CSPRNG (the salt hides the weights from
/// copiers until the reveal, so it must not be guessable).
fn random_salt() -> Vec<u16> {
    (0..8).map(|_| rand::random::<u16>()).collect()
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        Cmd::Set { w, c } => set(w, c),
        Cmd::Commit { w, salt, c } => commit(w, salt, c),
        Cmd::Reveal { w, c } => reveal(w, c),
    }
}

fn set(w: WeightsIn, c: Common) -> anyhow::Result<ExitCode> {
    let (uids, values) = match normalized(&w.uids, &w.weights) {
        Ok(x) => x,
        Err(e) => return usage(&e),
    };
    let kp = c.wallet.hotkey_keypair()?;
    let netuid = w.netuid;
    block_on(async move {
        let client = c.rpc.connect().await?;
        let what = format!("set {} weights on subnet {netuid}", uids.len());
        let call = Call::SetWeights {
            netuid,
            uids,
            values,
            version_key: w.version_key,
        };
        Ok(send(&client, &kp, call, &c.tx, c.json, &what).await?.0)
    })?
}

fn commit(w: WeightsIn, salt: Vec<u16>, c: Common) -> anyhow::Result<ExitCode> {
    let (uids, values) = match normalized(&w.uids, &w.weights) {
        Ok(x) => x,
        Err(e) => return usage(&e),
    };
    let kp = c.wallet.hotkey_keypair()?;
    let file = commits_file(&c)?;
    // Fail before sending anything if the saved-commits file is unreadable.
    let mut saved = load_commits(&file)?;
    let netuid = w.netuid;
    let salt = if salt.is_empty() { random_salt() } else { salt };
    let p = PreparedCommit::new(netuid, kp.account_id(), uids, values, salt, w.version_key);
    block_on(async move {
        let client = c.rpc.connect().await?;
        let what = format!("commit weights on subnet {netuid}");
        // With --json the single document is the commit plus its inclusion.
        let (code, inc) = if c.json {
            send_quiet(&client, &kp, p.commit_call(), &c.tx, &what).await?
        } else {
            send(&client, &kp, p.commit_call(), &c.tx, false, &what).await?
        };
        let included_ok = inc.as_ref().is_some_and(|i| i.receipt.error.is_none());
        if included_ok || c.tx.no_wait {
            saved.push(SavedCommit {
                netuid,
                hash: p.hash,
                uids: p.uids.clone(),
                values: p.values.clone(),
                salt: p.salt.clone(),
                version_key: p.version_key,
                block: inc.as_ref().map(|i| i.block_number),
            });
            store_commits(&file, &saved)?;
        }
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
                "saved_to": (included_ok || c.tx.no_wait).then(|| file.display().to_string()),
                "inclusion": inc.as_ref().map(super::chain::inclusion_json),
            }));
        } else if included_ok || c.tx.no_wait {
            eprintln!(
                "saved to {}; reveal with `tensornet weights reveal --netuid {netuid}` (salt {salt_s})",
                file.display()
            );
        }
        Ok(code)
    })?
}

fn reveal(w: RevealIn, c: Common) -> anyhow::Result<ExitCode> {
    let kp = c.wallet.hotkey_keypair()?;
    let netuid = w.netuid;
    let file = commits_file(&c)?;
    let mut saved = load_commits(&file)?;
    let (uids, values, salt, version_key, from_file) = if w.uids.is_empty() {
        match pick_commit(&saved, netuid, w.hash) {
            Ok(s) => (s.uids, s.values, s.salt, s.version_key, Some(s.hash)),
            Err(e) => return usage(&e),
        }
    } else {
        match normalized(&w.uids, &w.weights) {
            Ok((u, v)) => (u, v, w.salt, w.version_key, None),
            Err(e) => return usage(&e),
        }
    };
    block_on(async move {
        let client = c.rpc.connect().await?;
        let what = format!("reveal weights on subnet {netuid}");
        let call = Call::RevealWeights {
            netuid,
            uids,
            values,
            salt,
            version_key,
        };
        let (code, inc) = send(&client, &kp, call, &c.tx, c.json, &what).await?;
        if let (Some(hash), Some(i)) = (from_file, inc.as_ref()) {
            if i.receipt.error.is_none() {
                saved.retain(|s| s.hash != hash);
                store_commits(&file, &saved)?;
            }
        }
        Ok(code)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(netuid: u16, byte: u8) -> SavedCommit {
        SavedCommit {
            netuid,
            hash: Hash32([byte; 32]),
            uids: vec![0, 1],
            values: vec![65535, 100],
            salt: vec![1, 2, 3],
            version_key: 0,
            block: Some(7),
        }
    }

    #[test]
    fn saved_commits_round_trip_and_empty_list_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commits").join("default.json");
        assert!(load_commits(&path).unwrap().is_empty());
        let list = vec![commit(1, 1), commit(2, 2)];
        store_commits(&path, &list).unwrap();
        assert_eq!(load_commits(&path).unwrap(), list);
        store_commits(&path, &[]).unwrap();
        assert!(!path.exists());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"not json").unwrap();
        let err = load_commits(&path).unwrap_err().to_string();
        assert!(err.contains("not a saved-commits file"), "{err}");
    }

    #[test]
    fn pick_takes_the_oldest_of_the_subnet_or_the_named_hash() {
        let list = vec![commit(1, 1), commit(2, 2), commit(1, 3)];
        assert_eq!(pick_commit(&list, 1, None).unwrap().hash, Hash32([1; 32]));
        assert_eq!(pick_commit(&list, 2, None).unwrap().hash, Hash32([2; 32]));
        assert_eq!(
            pick_commit(&list, 1, Some(Hash32([3; 32]))).unwrap().hash,
            Hash32([3; 32])
        );
        assert!(pick_commit(&list, 2, Some(Hash32([3; 32]))).is_err());
        assert!(pick_commit(&list, 9, None)
            .unwrap_err()
            .contains("run `weights commit` first"));
    }

    #[test]
    fn salts_are_not_repeated() {
        assert_ne!(random_salt(), random_salt());
    }
}
