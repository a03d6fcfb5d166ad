//! `tensornet axon set`: publish the hotkey's axon endpoint (ip/port) on a subnet.

use super::chain::{block_on, send, usage, RpcArgs, TxArgs};
use super::wallet::WalletArgs;
use std::net::IpAddr;
use std::process::ExitCode;
use tensornet_client::AxonEndpoint;

/// Arguments of `tensornet axon set`.
#[derive(clap::Args, Debug)]
pub struct SetArgs {
    #[command(flatten)]
    wallet: WalletArgs,
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Public IP address of the axon.
    #[arg(long)]
    ip: IpAddr,
    /// Port of the axon.
    #[arg(long)]
    port: u16,
    /// Protocol number.
    #[arg(long, default_value_t = 4)]
    protocol: u8,
    /// Axon software version.
    #[arg(long = "axon-version", default_value_t = 0)]
    axon_version: u32,
    #[command(flatten)]
    tx: TxArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

/// Runs `axon set` (signed by the hotkey, free).
pub fn set(a: SetArgs) -> anyhow::Result<ExitCode> {
    let ep = AxonEndpoint {
        ip: a.ip,
        port: a.port,
    };
    let call = match ep.serve_call(a.netuid, a.protocol, a.axon_version) {
        Ok(c) => c,
        Err(e) => return usage(&e.to_string()),
    };
    let kp = a.wallet.hotkey_keypair()?;
    block_on(async move {
        let c = a.rpc.connect().await?;
        let what = format!(
            "publish axon {} on subnet {}",
            std::net::SocketAddr::new(a.ip, a.port),
            a.netuid
        );
        Ok(send(&c, &kp, call, &a.tx, a.json, &what).await?.0)
    })?
}
