//! `tensornet wallet` (subcommands being written) and the wallet flags shared by every command.

use std::path::PathBuf;
use std::process::ExitCode;
use tensornet_keys::{Keypair, Wallet};

/// The wallet flags every command uses (`cli-conventions.md`): flatten this into a command's
/// arguments with `#[command(flatten)] wallet: WalletArgs`.
#[derive(clap::Args, Debug, Clone)]
pub struct WalletArgs {
    /// Folder holding the wallets (btcli wallets work as is: `--wallet-path ~/.bittensor/wallets`).
    #[arg(
        long = "wallet-path",
        alias = "wallet.path",
        value_name = "DIR",
        default_value = "~/.tensornet/wallets"
    )]
    pub wallet_path: PathBuf,
    /// Wallet name (a folder under the wallet path).
    #[arg(
        long = "wallet-name",
        visible_alias = "name",
        alias = "wallet.name",
        value_name = "NAME",
        default_value = "default"
    )]
    pub wallet_name: String,
    /// Hotkey name (a file under `<wallet>/hotkeys/`).
    #[arg(
        long = "hotkey",
        alias = "wallet.hotkey",
        alias = "wallet-hotkey",
        value_name = "NAME",
        default_value = "default"
    )]
    pub hotkey: String,
}

impl WalletArgs {
    /// The selected wallet (not required to exist yet).
    pub fn wallet(&self) -> anyhow::Result<Wallet> {
        Ok(Wallet::open(&self.wallet_path, &self.wallet_name)?)
    }

    /// Opens the selected (plaintext) hotkey; works on a wallet that holds only that hotkey.
    pub fn hotkey_keypair(&self) -> anyhow::Result<Keypair> {
        Ok(self.wallet()?.hotkey(&self.hotkey)?)
    }
}

/// Arguments of `tensornet wallet`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tensornet wallet` is not implemented yet")
}
