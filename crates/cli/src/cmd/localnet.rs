//! `tensornet localnet`: a whole network on this machine in one command. Starts a dev node
//! (tempo 20 blocks of 250 ms, weights rate limit 5, commit-reveal off), creates unencrypted
//! dev wallets under `--base-path` (one coldkey per neuron), creates a subnet whose owner
//! hotkey runs the first validator, funds, registers and stakes the neurons (validators with
//! different stakes), then starts the validators and miners (models of clearly different
//! quality) as child processes of this executable on free 127.0.0.1 ports. A live table on
//! stderr is refreshed every epoch; `--epochs K` stops after K epochs counted from the first
//! epoch that used validator weights and prints the summary (`--json`: one JSON document on
//! stdout). Every child is stopped on exit or Ctrl-C.

use super::chain::table;
use super::daemon::to_metagraph;
use anyhow::{bail, Context};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use tensornet_client::{Client, ClientOptions, Reconnect};
use tensornet_keys::{AccountId, Keypair, PasswordSource, Wallet};
use tensornet_primitives::{format_tao, RAO_PER_TAO};
use tensornet_runtime::{Call, Hyperparameter};
use tensornet_subnet::ValidatorState;

/// Arguments of `tensornet localnet`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder for the chain, the dev wallets (unencrypted: dev use only), validator states and
    /// logs (default: a new folder under the system temp dir). May already exist.
    #[arg(long = "base-path", value_name = "DIR")]
    base_path: Option<PathBuf>,
    /// Number of miners (presets cycle tiny, ten_percent, mid, full).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    miners: u16,
    /// Number of validators (the first is the subnet owner's hotkey; stakes decrease).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    validators: u16,
    /// Dataset: digits, breast_cancer or diabetes.
    #[arg(long, default_value = "digits")]
    dataset: String,
    /// Stop after this many epochs, counted from the first epoch that used validator weights,
    /// and print the summary (default: run until Ctrl-C).
    #[arg(long)]
    epochs: Option<u64>,
    /// Print the final summary as one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Turn commit-reveal on for the subnet (weights are committed, then revealed an epoch
    /// later, so the first paid epoch comes later).
    #[arg(long = "commit-reveal")]
    commit_reveal: bool,
}

const PRESETS: [&str; 4] = ["tiny", "ten_percent", "mid", "full"];

/// Seconds between the miners' chain syncs in a localnet.
const MINER_SYNC_SECS: f64 = 1.0;

/// The child processes; all are stopped when this is dropped.
struct Children(Vec<(String, Child)>);

impl Children {
    fn spawn(&mut self, name: &str, args: &[String], log: &Path) -> anyhow::Result<()> {
        let exe = std::env::current_exe().context("cannot find the tensornet executable")?;
        let file = std::fs::File::create(log)
            .with_context(|| format!("cannot create log file {}", log.display()))?;
        let child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        self.0.push((name.to_string(), child));
        Ok(())
    }

    /// A child that exited early, if any.
    fn exited(&mut self) -> Option<String> {
        for (name, c) in &mut self.0 {
            if let Ok(Some(status)) = c.try_wait() {
                return Some(format!("{name} exited ({status})"));
            }
        }
        None
    }

    /// Children that exited since the last call: `(name, message)`.
    fn newly_exited(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, c) in &mut self.0 {
            if self_reported(name) {
                continue;
            }
            if let Ok(Some(status)) = c.try_wait() {
                out.push((name.clone(), format!("{name} exited ({status})")));
                name.insert(0, '~');
            }
        }
        out
    }
}

/// Whether a child was already reported as exited by [`Children::newly_exited`] (its name is
/// then marked with a leading `~`).
fn self_reported(name: &str) -> bool {
    name.starts_with('~')
}

impl Drop for Children {
    fn drop(&mut self) {
        #[cfg(unix)]
        for (_, c) in &self.0 {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for (_, c) in &mut self.0 {
            loop {
                match c.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = c.kill();
                        let _ = c.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

/// One neuron of the localnet: its wallet and keys.
struct Neuron {
    name: String,
    validator: bool,
    preset: Option<&'static str>,
    cold: Keypair,
    hot: Keypair,
}

fn dev_wallet(root: &Path, name: &str) -> anyhow::Result<(Keypair, Keypair)> {
    let w = Wallet::open(root, name)?;
    let cold = match w.coldkey(&PasswordSource::None) {
        Ok(k) => k,
        Err(_) => {
            let k = Keypair::generate(12)?;
            w.write_coldkey(&k, None, false)
                .with_context(|| format!("cannot write the coldkey of wallet {name}"))?;
            k
        }
    };
    let hot = match w.hotkey("default") {
        Ok(k) => k,
        Err(_) => {
            let k = Keypair::generate(12)?;
            w.write_hotkey("default", &k, None, false)
                .with_context(|| format!("cannot write the hotkey of wallet {name}"))?;
            k
        }
    };
    Ok((cold, hot))
}

async fn send_all(client: &Client, txs: Vec<(&Keypair, Call)>, what: &str) -> anyhow::Result<()> {
    let mut signed = Vec::new();
    for (k, call) in txs {
        signed.push(
            client
                .submit(k, call)
                .await
                .with_context(|| format!("{what}: submit"))?,
        );
    }
    for tx in &signed {
        let inc = client
            .wait_included(tx, Duration::from_secs(30))
            .await
            .with_context(|| format!("{what}: inclusion"))?;
        if let Some(e) = inc.receipt.error {
            bail!("{what}: {e}");
        }
    }
    Ok(())
}

/// Runs `tensornet localnet`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if a.dataset
        .parse::<tensornet_subnet_supervised::DatasetName>()
        .is_err()
    {
        eprintln!(
            "error: --dataset {:?}: use digits, breast_cancer or diabetes",
            a.dataset
        );
        return Ok(ExitCode::from(2));
    }
    if a.epochs == Some(0) {
        eprintln!("error: --epochs must be at least 1");
        return Ok(ExitCode::from(2));
    }
    let base = a.base_path.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tensornet-localnet-{}", std::process::id()))
    });
    for d in ["wallets", "logs", "state"] {
        std::fs::create_dir_all(base.join(d))
            .with_context(|| format!("cannot create {}", base.join(d).display()))?;
    }
    eprintln!("localnet: base path {}", base.display());
    let rt = super::daemon::runtime()?;
    let mut children = Children(Vec::new());
    // Ctrl-C while the network is being set up stops everything at once; once the epochs are
    // followed, the loop itself stops and prints the summary.
    let following = std::sync::atomic::AtomicBool::new(false);
    let out = rt.block_on(async {
        tokio::select! {
            biased;
            r = localnet(&a, &base, &mut children, &following) => r,
            _ = async {
                super::daemon::shutdown_signal().await;
                if following.load(std::sync::atomic::Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
            } => Err(anyhow::anyhow!("interrupted while starting the network")),
        }
    });
    drop(children);
    let summary = out?;
    if a.json {
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn localnet(
    a: &Args,
    base: &Path,
    children: &mut Children,
    following: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let port = free_port()?;
    let rpc = format!("http://127.0.0.1:{port}");
    children.spawn(
        "node",
        &[
            "node".into(),
            "run".into(),
            "--dev".into(),
            "--base-path".into(),
            base.join("node").display().to_string(),
            "--rpc-addr".into(),
            format!("127.0.0.1:{port}"),
        ],
        &base.join("logs/node.log"),
    )?;
    let opts = ClientOptions {
        reconnect: Reconnect::For(Duration::from_secs(10)),
        ..ClientOptions::default()
    };
    let mut client = None;
    for _ in 0..100 {
        if let Ok(c) = Client::connect(&rpc, opts.clone()).await {
            client = Some(c);
            break;
        }
        if let Some(e) = children.exited() {
            bail!("{e}; see {}", base.join("logs/node.log").display());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let Some(client) = client else {
        bail!("the dev node did not answer on {rpc} within 20 s");
    };
    eprintln!("localnet: dev node at {rpc}");

    // Wallets: one coldkey per neuron; the owner's hotkey is the first validator.
    let wroot = base.join("wallets");
    let mut neurons = Vec::new();
    for i in 0..a.validators {
        let name = if i == 0 {
            "owner".to_string()
        } else {
            format!("validator{i}")
        };
        let (cold, hot) = dev_wallet(&wroot, &name)?;
        neurons.push(Neuron {
            name,
            validator: true,
            preset: None,
            cold,
            hot,
        });
    }
    for i in 0..a.miners {
        let name = format!("miner{i}");
        let (cold, hot) = dev_wallet(&wroot, &name)?;
        neurons.push(Neuron {
            name,
            validator: false,
            preset: Some(PRESETS[usize::from(i) % PRESETS.len()]),
            cold,
            hot,
        });
    }

    // Fund every coldkey from //Alice.
    let alice = Keypair::from_uri("//Alice")?;
    let mut txs = Vec::new();
    for n in &neurons {
        let have = client.account(n.cold.account_id()).await?.free;
        let want = if n.validator { 20_000 } else { 1_000 } * RAO_PER_TAO;
        if have < want {
            txs.push((
                &alice,
                Call::Transfer {
                    dest: n.cold.account_id(),
                    amount: want - have,
                },
            ));
        }
    }
    send_all(&client, txs, "funding the dev wallets").await?;

    // The subnet, owned by the owner's coldkey with the owner's hotkey.
    let owner = &neurons[0];
    let find = |subnets: Vec<tensornet_runtime::SubnetInfo>, hk: AccountId| {
        subnets
            .into_iter()
            .find(|s| s.owner_hotkey == hk)
            .map(|s| s.netuid)
    };
    let netuid = match find(client.subnets().await?, owner.hot.account_id()) {
        Some(n) => n,
        None => {
            send_all(
                &client,
                vec![(
                    &owner.cold,
                    Call::RegisterNetwork {
                        hotkey: owner.hot.account_id(),
                    },
                )],
                "creating the subnet",
            )
            .await?;
            find(client.subnets().await?, owner.hot.account_id())
                .context("the subnet was created but is not listed")?
        }
    };
    let params = client.hyperparameters(netuid).await?;
    if params.commit_reveal_enabled != a.commit_reveal {
        send_all(
            &client,
            vec![(
                &owner.cold,
                Call::SetHyperparameter {
                    netuid,
                    param: Hyperparameter::CommitRevealEnabled(a.commit_reveal),
                },
            )],
            "setting commit-reveal",
        )
        .await?;
    }
    eprintln!(
        "localnet: subnet {netuid} on {} (commit-reveal {})",
        a.dataset,
        if a.commit_reveal { "on" } else { "off" }
    );

    // Register the other neurons, then stake the validators (decreasing stakes).
    let mut txs = Vec::new();
    for n in &neurons[1..] {
        if client.neuron(netuid, n.hot.account_id()).await?.is_none() {
            txs.push((
                &n.cold,
                Call::BurnedRegister {
                    netuid,
                    hotkey: n.hot.account_id(),
                    max_price: Some(500 * RAO_PER_TAO),
                },
            ));
        }
    }
    send_all(&client, txs, "registering the neurons").await?;
    let mut txs = Vec::new();
    let nv = u64::from(a.validators);
    for (i, n) in neurons.iter().enumerate().filter(|(_, n)| n.validator) {
        let want = (nv - i as u64) * 5_000 * RAO_PER_TAO;
        let have = client
            .hotkey(n.hot.account_id())
            .await?
            .map_or(0, |h| h.info.total_stake);
        if have < want {
            txs.push((
                &n.cold,
                Call::AddStake {
                    hotkey: n.hot.account_id(),
                    amount: want - have,
                },
            ));
        }
    }
    send_all(&client, txs, "staking the validators").await?;
    let mut uid_of = BTreeMap::new();
    for (i, n) in neurons.iter().enumerate() {
        let info = client
            .neuron(netuid, n.hot.account_id())
            .await?
            .with_context(|| format!("{} is not registered", n.name))?;
        uid_of.insert(info.neuron.uid, i);
    }
    eprintln!(
        "localnet: {} validators and {} miners registered ({:.1} s)",
        a.validators,
        a.miners,
        started.elapsed().as_secs_f64()
    );

    // Start the daemons: miners first; validators once every miner's axon is on chain, so
    // every miner is scored from the same first round (the moving averages start together).
    let mut state_paths = Vec::new();
    let miners_first = neurons
        .iter()
        .filter(|n| !n.validator)
        .chain(neurons.iter().filter(|n| n.validator));
    let mut waited = false;
    let mut ports: BTreeMap<AccountId, u16> = BTreeMap::new();
    for n in miners_first {
        if n.validator && !waited {
            waited = true;
            wait_for_axons(&client, netuid, &neurons, &ports, children, base).await?;
        }
        let mut args: Vec<String> = vec![
            if n.validator { "validator" } else { "miner" }.into(),
            "run".into(),
            "--wallet-path".into(),
            wroot.display().to_string(),
            "--wallet-name".into(),
            n.name.clone(),
            "--hotkey".into(),
            "default".into(),
            "--rpc".into(),
            rpc.clone(),
            "--netuid".into(),
            netuid.to_string(),
            "--dataset".into(),
            a.dataset.clone(),
        ];
        if n.validator {
            let sp = base.join(format!("state/{}.json", n.name));
            args.extend([
                "--state".into(),
                sp.display().to_string(),
                "--batch-size".into(),
                "200".into(),
            ]);
            state_paths.push(sp);
        } else {
            let port = free_port()?;
            ports.insert(n.hot.account_id(), port);
            args.extend([
                "--axon-port".into(),
                port.to_string(),
                "--preset".into(),
                n.preset.unwrap_or("full").into(),
                "--sync-secs".into(),
                MINER_SYNC_SECS.to_string(),
            ]);
        }
        children.spawn(&n.name, &args, &base.join(format!("logs/{}.log", n.name)))?;
    }
    eprintln!(
        "localnet: daemons started; logs in {}",
        base.join("logs").display()
    );

    // Follow the epochs.
    let mut sub = client.subscribe_epochs(netuid).await?;
    let mut counted: u64 = 0;
    let mut minted: u128 = 0;
    let mut owner_cut: u128 = 0;
    let mut burned: u128 = 0;
    let mut earned: BTreeMap<u16, u128> = BTreeMap::new();
    let mut first_incentive: Option<f64> = None;
    let limit = Duration::from_secs(120 + 30 * a.epochs.unwrap_or(0));
    let stop = super::daemon::shutdown_signal();
    tokio::pin!(stop);
    following.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut last_rows = Vec::new();
    loop {
        if a.epochs.is_some_and(|k| counted >= k) {
            break;
        }
        // The network goes on without a dead miner or validator (the validators score a dead
        // miner 0 and its weight drops to 0 after 3 failed queries); without the node it stops.
        for (name, e) in children.newly_exited() {
            if name == "node" {
                bail!("{e}; see the logs in {}", base.join("logs").display());
            }
            eprintln!(
                "localnet: {e}; the others go on (see {})",
                base.join(format!("logs/{name}.log")).display()
            );
        }
        if a.epochs.is_some() && started.elapsed() > limit {
            bail!(
                "only {counted} epochs with validator weights after {} s; see the logs in {}",
                limit.as_secs(),
                base.join("logs").display()
            );
        }
        let notice = tokio::select! {
            _ = &mut stop => { eprintln!("localnet: interrupted"); break; }
            _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
            n = sub.next() => match n {
                Some(Ok(n)) => n,
                Some(Err(e)) => bail!("epoch subscription failed: {e}"),
                None => bail!("the node closed the epoch subscription"),
            },
        };
        let weighted = notice
            .emission
            .iter()
            .any(|e| e.server > 0 && uid_of.get(&e.uid).is_some_and(|&i| !neurons[i].validator));
        if weighted && first_incentive.is_none() {
            first_incentive = Some(started.elapsed().as_secs_f64());
            eprintln!(
                "localnet: first epoch with validator weights at block {} ({:.1} s after start)",
                notice.block_number,
                started.elapsed().as_secs_f64()
            );
        }
        if first_incentive.is_some() {
            counted += 1;
            // `rao_emission` excludes the owner cut: together they are what the epoch minted.
            minted += u128::from(notice.rao_emission) + u128::from(notice.owner_cut);
            owner_cut += u128::from(notice.owner_cut);
            burned += u128::from(notice.burned);
            for e in &notice.emission {
                *earned.entry(e.uid).or_default() += u128::from(e.server) + u128::from(e.validator);
            }
        }
        last_rows = rows(&client, netuid, &neurons, &uid_of, &state_paths, &earned).await?;
        eprintln!(
            "epoch {} (block {}){}",
            notice.epoch_index,
            notice.block_number,
            if first_incentive.is_some() {
                format!(", counted {counted}")
            } else {
                ", waiting for validator weights".into()
            }
        );
        eprintln!("{}", render(&last_rows));
    }
    if last_rows.is_empty() {
        last_rows = rows(&client, netuid, &neurons, &uid_of, &state_paths, &earned).await?;
    }
    let distributed: u128 = earned.values().sum();
    let balanced = minted == distributed + owner_cut + burned;
    eprintln!(
        "summary: {counted} epochs; minted {} TAO = distributed {} + owner cut {} + burned {} ({})",
        tao(minted),
        tao(distributed),
        tao(owner_cut),
        tao(burned),
        if balanced {
            "ledger balanced"
        } else {
            "LEDGER NOT BALANCED"
        }
    );
    if !a.json {
        println!("{}", render(&last_rows));
    }
    Ok(json!({
        "epochs": counted,
        "neurons": last_rows.iter().map(|r| json!({
            "uid": r.uid,
            "role": if r.validator { "validator" } else { "miner" },
            "stake": r.stake,
            "accuracy": r.accuracy,
            "incentive": r.incentive,
            "dividends": r.dividends,
            "emission": r.emission,
            "earned": r.earned,
        })).collect::<Vec<_>>(),
        "minted": minted,
        "owner_cut": owner_cut,
        "burned": burned,
    }))
}

fn tao(rao: u128) -> String {
    format_tao(u64::try_from(rao).unwrap_or(u64::MAX))
}

/// Waits until every miner has published its axon (they train their models first) and the
/// validators hold their permits (from the first epoch), so that every miner answers the
/// validators from their first round on and the moving averages start together.
async fn wait_for_axons(
    client: &Client,
    netuid: u16,
    neurons: &[Neuron],
    ports: &BTreeMap<AccountId, u16>,
    children: &mut Children,
    base: &Path,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let mg = client.metagraph(netuid, false).await?;
        let serving = neurons
            .iter()
            .filter(|n| !n.validator)
            .filter(|n| {
                mg.neurons.iter().any(|v| {
                    // The address of this run (a resumed chain holds the last run's).
                    v.hotkey == n.hot.account_id()
                        && v.axon.as_ref().map(|a| a.port) == ports.get(&v.hotkey).copied()
                })
            })
            .count();
        let miners = neurons.iter().filter(|n| !n.validator).count();
        let permits = neurons.iter().filter(|n| n.validator).all(|n| {
            mg.neurons
                .iter()
                .any(|v| v.hotkey == n.hot.account_id() && v.validator_permit)
        });
        if serving == miners && permits {
            // The miners re-read the metagraph every MINER_SYNC_SECS: let all of them see the
            // permits before the first query, so none blacklists the validators' first rounds.
            tokio::time::sleep(Duration::from_secs_f64(MINER_SYNC_SECS * 1.5 + 0.25)).await;
            eprintln!(
                "localnet: {miners} miners trained and serving, validator permits set ({:.1} s)",
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if let Some(e) = children.exited() {
            bail!("{e}; see the logs in {}", base.join("logs").display());
        }
        if start.elapsed() > Duration::from_secs(120) {
            bail!(
                "only {serving} of {miners} miners published their axon within 120 s; see the logs in {}",
                base.join("logs").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One row of the live table / summary.
struct Row {
    uid: u16,
    name: String,
    validator: bool,
    stake: u64,
    accuracy: Option<f64>,
    consensus: f64,
    incentive: f64,
    dividends: f64,
    emission: u64,
    earned: u128,
}

/// The validators' mean bias-corrected moving average for `uid` (their measured accuracy).
fn measured(states: &[ValidatorState], uid: u16, hotkey: &str) -> f64 {
    let mut vals = Vec::new();
    for s in states {
        if let Some(e) = s.scores.get(uid) {
            if e.hotkey == hotkey && e.answered > 0 {
                // Failures before the first answer leave the average at 0, so correcting
                // for the answered steps only gives the mean reward of the answers.
                let steps = i32::try_from(e.answered).unwrap_or(i32::MAX);
                let norm = 1.0 - (1.0 - s.scores.alpha()).powi(steps);
                if norm > 0.0 {
                    vals.push((e.score / norm).clamp(0.0, 1.0));
                }
            }
        }
    }
    if vals.is_empty() {
        0.0
    } else {
        vals.iter().sum::<f64>() / vals.len() as f64
    }
}

async fn rows(
    client: &Client,
    netuid: u16,
    neurons: &[Neuron],
    uid_of: &BTreeMap<u16, usize>,
    state_paths: &[PathBuf],
    earned: &BTreeMap<u16, u128>,
) -> anyhow::Result<Vec<Row>> {
    let mg = client.metagraph(netuid, false).await?;
    let fm = to_metagraph(netuid, &mg);
    let states: Vec<ValidatorState> = state_paths
        .iter()
        .filter_map(|p| ValidatorState::load(p).ok().flatten())
        .collect();
    let f = |x: u16| f64::from(x) / 65535.0;
    Ok(mg
        .neurons
        .iter()
        .zip(&fm.neurons)
        .map(|(n, v)| {
            let who = uid_of.get(&n.uid).map(|&i| &neurons[i]);
            let validator = who.is_some_and(|w| w.validator);
            Row {
                uid: n.uid,
                name: who.map_or_else(
                    || "?".into(),
                    |w| match w.preset {
                        Some(p) => format!("{} ({p})", w.name),
                        None => w.name.clone(),
                    },
                ),
                validator,
                stake: n.stake,
                accuracy: (!validator).then(|| measured(&states, n.uid, &v.hotkey)),
                consensus: f(n.consensus),
                incentive: f(n.incentive),
                dividends: f(n.dividends),
                emission: n.emission,
                earned: earned.get(&n.uid).copied().unwrap_or(0),
            }
        })
        .collect())
}

fn render(rows: &[Row]) -> comfy_table::Table {
    let mut t = table(&[
        "uid",
        "neuron",
        "role",
        "stake (TAO)",
        "accuracy",
        "consensus",
        "incentive",
        "dividends",
        "emission (TAO)",
        "earned (TAO)",
    ]);
    for r in rows {
        t.add_row(vec![
            r.uid.to_string(),
            r.name.clone(),
            if r.validator { "validator" } else { "miner" }.to_string(),
            format_tao(r.stake),
            r.accuracy
                .map_or_else(|| "-".into(), |x| format!("{:.1}%", x * 100.0)),
            format!("{:.4}", r.consensus),
            format!("{:.4}", r.incentive),
            format!("{:.4}", r.dividends),
            format_tao(r.emission),
            tao(r.earned),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensornet_subnet::{Outcome, ScoreKeeper};

    fn state(rewards: &[Option<f64>]) -> ValidatorState {
        let mut k = ScoreKeeper::new(0.1, 3).unwrap();
        for r in rewards {
            let o = match r {
                Some(x) => Outcome::Answered(*x),
                None => Outcome::Failed,
            };
            k.record(2, "hk", o);
        }
        ValidatorState::new(1, "vali", k)
    }

    #[test]
    fn measured_accuracy_is_the_bias_corrected_mean_of_answers() {
        // Failures before the first answer (miner not yet reachable) do not bias the mean.
        let s = state(&[None, None, Some(0.9), Some(0.9), Some(0.9)]);
        assert!((measured(&[s], 2, "hk") - 0.9).abs() < 1e-12);
        // Two validators: the mean of their measurements.
        let a = state(&[Some(0.8); 4]);
        let b = state(&[Some(0.6); 7]);
        assert!((measured(&[a, b], 2, "hk") - 0.7).abs() < 1e-12);
    }

    #[test]
    fn measured_accuracy_ignores_other_hotkeys_and_unmeasured_uids() {
        let s = state(&[Some(0.9)]);
        assert_eq!(measured(std::slice::from_ref(&s), 2, "other"), 0.0);
        assert_eq!(measured(std::slice::from_ref(&s), 3, "hk"), 0.0);
        assert_eq!(measured(&[], 2, "hk"), 0.0);
    }
}
