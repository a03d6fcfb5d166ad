//! `tensornet chain head | block ID | tx HASH`, and the helpers every chain command shares:
//! the `--rpc` flag, connecting with a ~1 s limit, opening the coldkey, submitting a call with
//! a spinner while waiting for inclusion, and printing JSON or tables.

use super::wallet::{PasswordArgs, WalletArgs};
use anyhow::Context;
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tensornet_client::api::{BlockId, HeadInfo, TxStatus};
use tensornet_client::{Client, ClientOptions, Inclusion};
use tensornet_keys::{AccountId, Keypair, PasswordSource, Wallet};
use tensornet_primitives::{format_tao, parse_tao, Hash32};
use tensornet_runtime::Call;

/// The node to talk to.
#[derive(clap::Args, Debug, Clone)]
pub struct RpcArgs {
    /// The node's JSON-RPC URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9944")]
    pub rpc: String,
}

impl RpcArgs {
    /// Connects (fails within about a second when the node is unreachable).
    pub async fn connect(&self) -> anyhow::Result<Client> {
        Ok(Client::connect(&self.rpc, ClientOptions::default()).await?)
    }
}

/// The options of every coldkey-signed transaction command: the wallet, how to unlock its
/// coldkey, how to wait, the node, and the output format.
#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// The wallet whose coldkey signs.
    #[command(flatten)]
    pub wallet: WalletArgs,
    /// Where the coldkey password comes from.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// How to wait for inclusion.
    #[command(flatten)]
    pub tx: TxArgs,
    /// The node.
    #[command(flatten)]
    pub rpc: RpcArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Parses `--amount` in TAO, which must be positive.
pub fn positive_amount(text: &str) -> Result<u64, String> {
    match parse_tao(text) {
        Ok(0) => Err("--amount must be positive".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(format!("--amount: {e}")),
    }
}

/// How a transaction command waits.
#[derive(clap::Args, Debug, Clone)]
pub struct TxArgs {
    /// Return once the node accepted the transaction, without waiting for a block.
    #[arg(long = "no-wait")]
    pub no_wait: bool,
    /// Seconds to wait for inclusion.
    #[arg(long = "timeout", value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
}

/// A current-thread async runtime for one command.
pub fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(rt.block_on(f))
}

/// Parses an SS58 address or `0x` + 64 hex digits.
pub fn parse_account(s: &str) -> anyhow::Result<AccountId> {
    let t = s.trim();
    if t.starts_with("0x") {
        AccountId::from_hex(t).with_context(|| format!("invalid account {s:?}"))
    } else {
        tensornet_keys::ss58_decode(t)
            .with_context(|| format!("invalid address {s:?}: expected SS58 or 0x + 64 hex digits"))
    }
}

/// SS58 of an account.
pub fn ss58(a: &AccountId) -> String {
    tensornet_keys::ss58_encode(a)
}

/// Short SS58 for tables (`5Grw…utQY`).
pub fn short(a: &AccountId) -> String {
    let s = ss58(a);
    if s.len() > 12 {
        format!("{}…{}", &s[..5], &s[s.len() - 4..])
    } else {
        s
    }
}

/// Prints a JSON document on stdout.
pub fn print_json(v: &Value) {
    println!("{v}");
}

/// A table with a header row, for stdout.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(header.iter().copied());
    t
}

/// Prints a usage error and returns exit code 2.
pub fn usage(msg: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(2))
}

/// The coldkey's public address: `coldkeypub.txt`, or the plaintext coldkey.
pub fn coldkey_account(wallet: &WalletArgs) -> anyhow::Result<AccountId> {
    let w = wallet.wallet()?;
    match w.coldkeypub() {
        Ok(a) => Ok(a),
        Err(e) => match w.coldkey(&PasswordSource::None) {
            Ok(kp) => Ok(kp.account_id()),
            Err(_) => Err(e.into()),
        },
    }
}

/// The hotkey's public address: `<hotkey>pub.txt`, or the (plaintext) hotkey file.
pub fn hotkey_account(wallet: &WalletArgs) -> anyhow::Result<AccountId> {
    let w = wallet.wallet()?;
    match w.hotkeypub(&wallet.hotkey) {
        Ok(a) => Ok(a),
        Err(_) => Ok(wallet.hotkey_keypair()?.account_id()),
    }
}

/// Opens the coldkey: `--password-env`, btcli's `BT_PW_<PATH>` variable, a single prompt on
/// a terminal, or fails under `--no-prompt` (or without a terminal) when it is encrypted.
pub fn open_coldkey(wallet: &WalletArgs, password: &PasswordArgs) -> anyhow::Result<Keypair> {
    let w: Wallet = wallet.wallet()?;
    let path = w.coldkey_path();
    let encrypted = w.coldkey_is_encrypted().unwrap_or(false);
    let src = if let Some(var) = &password.password_env {
        PasswordSource::Env(var.clone())
    } else if !encrypted || !path.exists() {
        PasswordSource::None
    } else if let Some(pw) = tensornet_keys::keyfile::btcli_env_password(&path) {
        // btcli's `BT_PW_<PATH>` variable also unlocks, as in `tensornet wallet`.
        PasswordSource::Text(pw)
    } else if password.no_prompt || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "{} is encrypted: pass --password-env VAR (no prompt with --no-prompt or without a terminal)",
            path.display()
        );
    } else {
        PasswordSource::Text(prompt(&path)?)
    };
    if encrypted {
        eprintln!("decrypting {} (takes a few seconds)…", path.display());
    }
    Ok(w.coldkey(&src)?)
}

fn prompt(path: &Path) -> anyhow::Result<tensornet_keys::Zeroizing<String>> {
    rpassword::prompt_password(format!("Password for {}: ", path.display()))
        .map(tensornet_keys::Zeroizing::new)
        .context(
            "reading the password from the terminal (use --password-env VAR when there is none)",
        )
}

/// A spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(msg: String) -> indicatif::ProgressBar {
    let pb =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// JSON of an inclusion.
pub fn inclusion_json(inc: &Inclusion) -> Value {
    json!({
        "tx_hash": inc.tx_hash,
        "status": "included",
        "block_number": inc.block_number,
        "block_hash": inc.block_hash,
        "index": inc.index,
        "fee": inc.receipt.fee,
        "success": inc.receipt.error.is_none(),
        "error": inc.receipt.error.as_ref().map(|e| e.to_string()),
        "events": inc.receipt.events,
    })
}

/// Signs and submits `call`, waits for inclusion with a spinner (unless `--no-wait`), prints
/// the outcome and returns the exit code: 1 when the call failed its rules (fee paid only).
pub async fn send(
    client: &Client,
    signer: &Keypair,
    call: Call,
    tx: &TxArgs,
    json_out: bool,
    what: &str,
) -> anyhow::Result<(ExitCode, Option<Inclusion>)> {
    send_with(client, signer, call, tx, Some(json_out), what).await
}

/// [`send`] that prints nothing on stdout (the caller prints its own JSON document).
pub async fn send_quiet(
    client: &Client,
    signer: &Keypair,
    call: Call,
    tx: &TxArgs,
    what: &str,
) -> anyhow::Result<(ExitCode, Option<Inclusion>)> {
    send_with(client, signer, call, tx, None, what).await
}

async fn send_with(
    client: &Client,
    signer: &Keypair,
    call: Call,
    tx: &TxArgs,
    out: Option<bool>,
    what: &str,
) -> anyhow::Result<(ExitCode, Option<Inclusion>)> {
    let signed = client.submit(signer, call).await?;
    let hash = signed.hash();
    if tx.no_wait {
        match out {
            None => {}
            Some(true) => {
                print_json(&json!({"tx_hash": hash, "status": "submitted", "nonce": signed.nonce}))
            }
            Some(false) => println!("{what}: submitted {hash}"),
        }
        return Ok((ExitCode::SUCCESS, None));
    }
    let pb = spinner(format!("{what}: waiting for inclusion of {hash}"));
    let res = client
        .wait_included(&signed, Duration::from_secs(tx.timeout))
        .await;
    pb.finish_and_clear();
    let inc = res?;
    match (out, &inc.receipt.error) {
        (None, _) => {}
        (Some(true), _) => print_json(&inclusion_json(&inc)),
        (Some(false), None) => println!(
            "{what}: included in block {} ({}), fee {} TAO",
            inc.block_number,
            inc.tx_hash,
            format_tao(inc.receipt.fee)
        ),
        (Some(false), Some(e)) => println!(
            "{what}: FAILED in block {}: {e} (fee {} TAO paid)",
            inc.block_number,
            format_tao(inc.receipt.fee)
        ),
    }
    let code = match &inc.receipt.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("error: {what} failed: {e}; check the arguments and try again");
            ExitCode::from(1)
        }
    };
    Ok((code, Some(inc)))
}

/// Arguments of `tensornet chain`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// The latest durably stored block.
    Head {
        #[command(flatten)]
        rpc: RpcArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// A block by number or hash, with its transactions and receipts.
    Block {
        /// Block number or 0x hash.
        id: String,
        #[command(flatten)]
        rpc: RpcArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// A transaction's status: pending, included (with receipt), rejected or unknown.
    Tx {
        /// Transaction hash (0x…).
        hash: String,
        #[command(flatten)]
        rpc: RpcArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Chain facts: genesis hash, head, fees, lock cost, node version.
    Info {
        #[command(flatten)]
        rpc: RpcArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

fn head_json(h: &HeadInfo) -> Value {
    json!({
        "number": h.number,
        "hash": h.hash,
        "state_root": h.state_root,
        "parent_hash": h.parent_hash,
        "timestamp": h.timestamp,
        "tx_count": h.tx_count,
    })
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    block_on(run_async(args))?
}

async fn run_async(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        Cmd::Head { rpc, json } => {
            let c = rpc.connect().await?;
            let h = c.head().await?;
            if json {
                print_json(&head_json(&h));
            } else {
                println!(
                    "block {}\n  hash        {}\n  state root  {}\n  parent      {}\n  timestamp   {} ms\n  txs         {}",
                    h.number, h.hash, h.state_root, h.parent_hash, h.timestamp, h.tx_count
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Block { id, rpc, json } => {
            let at = if id.trim().starts_with("0x") {
                match Hash32::from_hex(&id) {
                    Ok(h) => BlockId::Hash(h),
                    Err(e) => return usage(&format!("block id {id:?}: {e}")),
                }
            } else {
                match id.trim().parse::<u64>() {
                    Ok(n) => BlockId::Number(n),
                    Err(_) => {
                        return usage(&format!(
                            "block id {id:?}: expected a block number or a 0x hash"
                        ))
                    }
                }
            };
            let c = rpc.connect().await?;
            let Some(b) = c.block(at).await? else {
                if json {
                    print_json(&Value::Null);
                }
                eprintln!("error: no block {id} on this chain");
                return Ok(ExitCode::from(1));
            };
            if json {
                print_json(&serde_json::to_value(&b)?);
            } else {
                println!(
                    "block {} {}\n  parent      {}\n  state root  {}\n  timestamp   {} ms",
                    b.header.number,
                    b.hash,
                    b.header.parent_hash,
                    b.header.state_root,
                    b.header.timestamp
                );
                let mut t = table(&[
                    "#",
                    "hash",
                    "signer",
                    "nonce",
                    "call",
                    "fee (TAO)",
                    "result",
                ]);
                for (i, (tx, r)) in b.transactions.iter().zip(&b.receipts).enumerate() {
                    let call = serde_json::to_value(&tx.call)
                        .ok()
                        .and_then(|v| match v {
                            Value::Object(m) => m.keys().next().cloned(),
                            Value::String(s) => Some(s),
                            _ => None,
                        })
                        .unwrap_or_default();
                    t.add_row(vec![
                        i.to_string(),
                        r.tx_hash.to_hex(),
                        short(&tx.signer),
                        tx.nonce.to_string(),
                        call,
                        format_tao(r.fee),
                        r.error
                            .as_ref()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| "ok".into()),
                    ]);
                }
                println!("{t}");
                println!("{} block events", b.events.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Tx { hash, rpc, json } => {
            let h = match Hash32::from_hex(&hash) {
                Ok(h) => h,
                Err(e) => return usage(&format!("transaction hash {hash:?}: {e}")),
            };
            let c = rpc.connect().await?;
            let st = c.tx_status(h).await?;
            if json {
                print_json(&serde_json::to_value(&st)?);
            } else {
                match &st {
                    TxStatus::Pending { ready } => {
                        println!(
                            "pending ({})",
                            if *ready {
                                "ready"
                            } else {
                                "waiting for an earlier nonce"
                            }
                        )
                    }
                    TxStatus::Included {
                        block_number,
                        block_hash,
                        index,
                        receipt,
                    } => println!(
                        "included in block {block_number} ({block_hash}) at index {index}: {}",
                        receipt
                            .error
                            .as_ref()
                            .map(|e| format!("FAILED: {e}"))
                            .unwrap_or_else(|| "ok".into())
                    ),
                    TxStatus::Rejected { code, reason } => println!("rejected ({code}): {reason}"),
                    TxStatus::Unknown => println!("unknown to this node"),
                }
            }
            Ok(match st {
                TxStatus::Rejected { .. } | TxStatus::Unknown => ExitCode::from(1),
                _ => ExitCode::SUCCESS,
            })
        }
        Cmd::Info { rpc, json } => {
            let c = rpc.connect().await?;
            let i = c.chain_info().await?;
            if json {
                print_json(&serde_json::to_value(&i)?);
            } else {
                println!(
                    "genesis     {}\nhead        {} ({})\nnode        {}\ntx fee      {} TAO\nlock cost   {} TAO\nblock time  {} ms",
                    i.genesis_hash,
                    i.head.number,
                    i.head.hash,
                    i.node_version,
                    format_tao(i.config.tx_fee),
                    format_tao(i.network_lock_cost),
                    i.config.block_time_ms
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
