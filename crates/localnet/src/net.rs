//! [`Localnet`]: start a network from a [`LocalnetConfig`], follow its epochs, read its table,
//! and stop, kill or restart its children.

use crate::children::{Children, Exited};
use crate::report::{measured, Ledger, Row, Summary};
use crate::LocalnetError;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tensornet_client::api::EpochNotice;
use tensornet_client::{Client, ClientError, ClientOptions, Reconnect, Subscription};
use tensornet_keys::{AccountId, Keypair, PasswordSource, Wallet};
use tensornet_primitives::RAO_PER_TAO;
use tensornet_runtime::{Call, Hyperparameter, Metagraph};
use tensornet_subnet::{to_metagraph, ValidatorState};

/// Miner model presets, cycled over the miners by default (clearly different accuracies).
pub const PRESETS: [&str; 4] = ["tiny", "ten_percent", "mid", "full"];

/// Seconds between the miners' chain syncs in a localnet.
pub const MINER_SYNC_SECS: f64 = 1.0;

/// How long [`Localnet::start`] waits for the dev node's RPC.
const NODE_WAIT: Duration = Duration::from_secs(20);

/// How long [`Localnet::start`] waits for every miner to train and publish its axon.
const AXON_WAIT: Duration = Duration::from_secs(120);

/// How long the set-up waits for each of its transactions.
const INCLUSION_WAIT: Duration = Duration::from_secs(30);

/// What to start.
#[derive(Debug, Clone)]
pub struct LocalnetConfig {
    /// The `tensornet` executable every child is started from (`node run`, `miner run`,
    /// `validator run`).
    pub exe: PathBuf,
    /// Folder for the chain (`node/`), the dev wallets (`wallets/`, unencrypted), validator
    /// states (`state/`) and logs (`logs/`). May already exist: the chain, wallets, subnet,
    /// registrations and stakes are reused.
    pub base_path: PathBuf,
    /// Number of miners (≥ 1).
    pub miners: u16,
    /// Number of validators (≥ 1); the first is the subnet owner's hotkey, stakes decrease.
    pub validators: u16,
    /// Dataset name passed to the daemons (digits, breast_cancer, diabetes).
    pub dataset: String,
    /// Turn commit-reveal on for the subnet.
    pub commit_reveal: bool,
    /// Miner model presets, cycled over the miners (miner `i` gets `presets[i % len]`).
    pub presets: Vec<String>,
    /// Extra flags for every `validator run` (default: `--batch-size 200`).
    pub validator_args: Vec<String>,
    /// Extra flags for every `miner run`.
    pub miner_args: Vec<String>,
    /// Called with each set-up progress message (`None`: silent).
    pub progress: Option<fn(&str)>,
}

impl LocalnetConfig {
    /// The defaults of `tensornet localnet`: 2 validators, 4 miners cycling [`PRESETS`],
    /// digits, commit-reveal off, silent.
    pub fn new(exe: impl Into<PathBuf>, base_path: impl Into<PathBuf>) -> LocalnetConfig {
        LocalnetConfig {
            exe: exe.into(),
            base_path: base_path.into(),
            miners: 4,
            validators: 2,
            dataset: "digits".into(),
            commit_reveal: false,
            presets: PRESETS.iter().map(|p| p.to_string()).collect(),
            validator_args: vec!["--batch-size".into(), "200".into()],
            miner_args: Vec::new(),
            progress: None,
        }
    }
}

/// A neuron's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Queries, scores and sets weights.
    Validator,
    /// Trains a model and answers on its axon.
    Miner,
}

/// One neuron of the network (also the name of its child process).
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronInfo {
    /// Wallet and child name: `owner`, `validator1`, …, `miner0`, ….
    pub name: String,
    /// Role.
    pub role: Role,
    /// Miners: the model preset.
    pub preset: Option<String>,
    /// UID on the subnet.
    pub uid: u16,
    /// Hotkey.
    pub hotkey: AccountId,
    /// Validators: the state file.
    pub state_path: Option<PathBuf>,
    /// Miners: the axon port.
    pub axon_port: Option<u16>,
    /// The child's stderr.
    pub log_path: PathBuf,
}

/// One epoch seen by [`Localnet::next_epoch`].
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// The node's notice.
    pub notice: EpochNotice,
    /// Whether this is the first epoch that paid a miner (counting starts here).
    pub first_weighted: bool,
    /// Epochs counted so far including this one, `None` before the first paid epoch.
    pub counted: Option<u64>,
}

/// What [`Localnet::follow`] reports.
#[derive(Debug)]
pub enum Event<'a> {
    /// A miner or validator exited on its own; the network goes on.
    Exited(&'a Exited),
    /// The first epoch that used validator weights (paid a miner).
    FirstWeighted {
        /// Its block.
        block: u64,
        /// Seconds since [`Localnet::start`] began.
        secs: f64,
    },
    /// An epoch ran; the table after it.
    Epoch {
        /// The epoch.
        report: &'a EpochReport,
        /// The table.
        rows: &'a [Row],
    },
    /// The stop future resolved; the summary follows.
    Interrupted,
}

/// A running network; every child is stopped when it is dropped.
pub struct Localnet {
    sub: Subscription<EpochNotice>,
    client: Client,
    children: Children,
    config: LocalnetConfig,
    rpc: String,
    netuid: u16,
    neurons: Vec<NeuronInfo>,
    ledger: Ledger,
    started: Instant,
}

/// A neuron being set up.
struct Setup {
    name: String,
    validator: bool,
    preset: Option<String>,
    cold: Keypair,
    hot: Keypair,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalnetError {
    let what = what.into();
    move |source| LocalnetError::Io { what, source }
}

fn cl(what: impl Into<String>) -> impl FnOnce(ClientError) -> LocalnetError {
    let what = what.into();
    move |source| LocalnetError::Client { what, source }
}

fn free_port() -> Result<u16, LocalnetError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(io("cannot find a free port"))?;
    Ok(l.local_addr()
        .map_err(io("cannot find a free port"))?
        .port())
}

fn dev_wallet(root: &Path, name: &str) -> Result<(Keypair, Keypair), LocalnetError> {
    let keys = |what: String| move |source| LocalnetError::Keys { what, source };
    let w = Wallet::open(root, name).map_err(keys(format!("cannot open wallet {name}")))?;
    let cold = match w.coldkey(&PasswordSource::None) {
        Ok(k) => k,
        Err(_) => {
            let k = Keypair::generate(12).map_err(keys("cannot generate a key".into()))?;
            w.write_coldkey(&k, None, false)
                .map_err(keys(format!("cannot write the coldkey of wallet {name}")))?;
            k
        }
    };
    let hot = match w.hotkey("default") {
        Ok(k) => k,
        Err(_) => {
            let k = Keypair::generate(12).map_err(keys("cannot generate a key".into()))?;
            w.write_hotkey("default", &k, None, false)
                .map_err(keys(format!("cannot write the hotkey of wallet {name}")))?;
            k
        }
    };
    Ok((cold, hot))
}

/// Submits all, then waits for each to be included without error.
async fn send_all(
    client: &Client,
    txs: Vec<(&Keypair, Call)>,
    what: &str,
) -> Result<(), LocalnetError> {
    let mut signed = Vec::new();
    for (k, call) in txs {
        signed.push(
            client
                .submit(k, call)
                .await
                .map_err(cl(format!("{what}: submit")))?,
        );
    }
    for tx in &signed {
        let inc = client
            .wait_included(tx, INCLUSION_WAIT)
            .await
            .map_err(cl(format!("{what}: inclusion")))?;
        if let Some(e) = inc.receipt.error {
            return Err(LocalnetError::Rejected {
                what: what.to_string(),
                reason: e.to_string(),
            });
        }
    }
    Ok(())
}

impl Localnet {
    /// Starts the network (see the crate doc) and returns once every miner serves its axon,
    /// the validators hold their permits and all daemons run. On error, or if the future is
    /// dropped, every child started so far is stopped.
    pub async fn start(config: LocalnetConfig) -> Result<Localnet, LocalnetError> {
        let started = Instant::now();
        if config.miners == 0 || config.validators == 0 {
            return Err(LocalnetError::Failed(
                "a localnet needs at least one miner and one validator".into(),
            ));
        }
        if config.presets.is_empty() {
            return Err(LocalnetError::Failed("no miner presets given".into()));
        }
        let base = config.base_path.clone();
        for d in ["wallets", "logs", "state"] {
            std::fs::create_dir_all(base.join(d))
                .map_err(io(format!("cannot create {}", base.join(d).display())))?;
        }
        let progress = |m: &str| {
            if let Some(p) = config.progress {
                p(m)
            }
        };
        let mut children = Children::new(config.exe.clone());
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
        let wait = Instant::now();
        while wait.elapsed() < NODE_WAIT {
            if let Ok(c) = Client::connect(&rpc, opts.clone()).await {
                client = Some(c);
                break;
            }
            if let Some(e) = children.exited() {
                return Err(LocalnetError::Failed(format!(
                    "{e}; see {}",
                    base.join("logs/node.log").display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let Some(client) = client else {
            return Err(LocalnetError::Failed(format!(
                "the dev node did not answer on {rpc} within {} s",
                NODE_WAIT.as_secs()
            )));
        };
        progress(&format!("dev node at {rpc}"));

        // Wallets: one coldkey per neuron; the owner's hotkey is the first validator.
        let wroot = base.join("wallets");
        let mut setup = Vec::new();
        for i in 0..config.validators {
            let name = if i == 0 {
                "owner".to_string()
            } else {
                format!("validator{i}")
            };
            let (cold, hot) = dev_wallet(&wroot, &name)?;
            setup.push(Setup {
                name,
                validator: true,
                preset: None,
                cold,
                hot,
            });
        }
        for i in 0..config.miners {
            let name = format!("miner{i}");
            let (cold, hot) = dev_wallet(&wroot, &name)?;
            let preset = config.presets[usize::from(i) % config.presets.len()].clone();
            setup.push(Setup {
                name,
                validator: false,
                preset: Some(preset),
                cold,
                hot,
            });
        }

        // Fund every coldkey from //Alice.
        let alice = Keypair::from_uri("//Alice").map_err(|source| LocalnetError::Keys {
            what: "cannot derive //Alice".into(),
            source,
        })?;
        let mut txs = Vec::new();
        for n in &setup {
            let have = client
                .account(n.cold.account_id())
                .await
                .map_err(cl("reading a balance"))?
                .free;
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
        let owner = &setup[0];
        let find = |subnets: Vec<tensornet_runtime::SubnetInfo>, hk: AccountId| {
            subnets
                .into_iter()
                .find(|s| s.owner_hotkey == hk)
                .map(|s| s.netuid)
        };
        let subnets = client.subnets().await.map_err(cl("listing subnets"))?;
        let netuid = match find(subnets, owner.hot.account_id()) {
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
                let subnets = client.subnets().await.map_err(cl("listing subnets"))?;
                find(subnets, owner.hot.account_id()).ok_or_else(|| {
                    LocalnetError::Failed("the subnet was created but is not listed".into())
                })?
            }
        };
        let params = client
            .hyperparameters(netuid)
            .await
            .map_err(cl("reading the hyperparameters"))?;
        if params.commit_reveal_enabled != config.commit_reveal {
            send_all(
                &client,
                vec![(
                    &owner.cold,
                    Call::SetHyperparameter {
                        netuid,
                        param: Hyperparameter::CommitRevealEnabled(config.commit_reveal),
                    },
                )],
                "setting commit-reveal",
            )
            .await?;
        }
        progress(&format!(
            "subnet {netuid} on {} (commit-reveal {})",
            config.dataset,
            if config.commit_reveal { "on" } else { "off" }
        ));

        // Register the other neurons, then stake the validators (decreasing stakes).
        let mut txs = Vec::new();
        for n in &setup[1..] {
            let known = client
                .neuron(netuid, n.hot.account_id())
                .await
                .map_err(cl("reading a neuron"))?;
            if known.is_none() {
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
        let nv = u64::from(config.validators);
        for (i, n) in setup.iter().enumerate().filter(|(_, n)| n.validator) {
            let want = (nv - i as u64) * 5_000 * RAO_PER_TAO;
            let have = client
                .hotkey(n.hot.account_id())
                .await
                .map_err(cl("reading a stake"))?
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
        let mut neurons = Vec::new();
        for n in &setup {
            let info = client
                .neuron(netuid, n.hot.account_id())
                .await
                .map_err(cl("reading a neuron"))?
                .ok_or_else(|| LocalnetError::Failed(format!("{} is not registered", n.name)))?;
            neurons.push(NeuronInfo {
                name: n.name.clone(),
                role: if n.validator {
                    Role::Validator
                } else {
                    Role::Miner
                },
                preset: n.preset.clone(),
                uid: info.neuron.uid,
                hotkey: n.hot.account_id(),
                state_path: n
                    .validator
                    .then(|| base.join(format!("state/{}.json", n.name))),
                axon_port: if n.validator {
                    None
                } else {
                    Some(free_port()?)
                },
                log_path: base.join(format!("logs/{}.log", n.name)),
            });
        }
        progress(&format!(
            "{} validators and {} miners registered ({:.1} s)",
            config.validators,
            config.miners,
            started.elapsed().as_secs_f64()
        ));

        // Start the daemons: miners first; validators once every miner's axon is on chain, so
        // every miner is scored from the same first round (the moving averages start together).
        let common = |n: &NeuronInfo| -> Vec<String> {
            vec![
                match n.role {
                    Role::Validator => "validator",
                    Role::Miner => "miner",
                }
                .into(),
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
                config.dataset.clone(),
            ]
        };
        for n in neurons.iter().filter(|n| n.role == Role::Miner) {
            let mut args = common(n);
            args.extend([
                "--axon-port".into(),
                n.axon_port.unwrap_or(0).to_string(),
                "--preset".into(),
                n.preset.clone().unwrap_or_else(|| "full".into()),
                "--sync-secs".into(),
                MINER_SYNC_SECS.to_string(),
            ]);
            args.extend(config.miner_args.iter().cloned());
            children.spawn(&n.name, &args, &n.log_path)?;
        }
        wait_for_axons(&client, netuid, &neurons, &mut children, &base, &progress).await?;
        for n in neurons.iter().filter(|n| n.role == Role::Validator) {
            let mut args = common(n);
            if let Some(sp) = &n.state_path {
                args.extend(["--state".into(), sp.display().to_string()]);
            }
            args.extend(config.validator_args.iter().cloned());
            children.spawn(&n.name, &args, &n.log_path)?;
        }
        progress(&format!(
            "daemons started; logs in {}",
            base.join("logs").display()
        ));
        let sub = client
            .subscribe_epochs(netuid)
            .await
            .map_err(cl("subscribing to the epochs"))?;
        Ok(Localnet {
            sub,
            client,
            children,
            config,
            rpc,
            netuid,
            neurons,
            ledger: Ledger::default(),
            started,
        })
    }

    /// The node's client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The node's RPC URL.
    pub fn rpc_url(&self) -> &str {
        &self.rpc
    }

    /// The subnet.
    pub fn netuid(&self) -> u16 {
        self.netuid
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &LocalnetConfig {
        &self.config
    }

    /// The neurons: validators first (the owner's first), then the miners.
    pub fn neurons(&self) -> &[NeuronInfo] {
        &self.neurons
    }

    /// The neuron called `name`.
    pub fn neuron(&self, name: &str) -> Result<&NeuronInfo, LocalnetError> {
        self.neurons
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| LocalnetError::UnknownNeuron(name.to_string()))
    }

    /// The child processes (the node is `node`, the daemons go by their neuron's name).
    pub fn children(&mut self) -> &mut Children {
        &mut self.children
    }

    /// Kills a child at once (SIGKILL): a crash, as far as the network can tell.
    pub fn kill(&mut self, name: &str) -> Result<(), LocalnetError> {
        self.children.kill(name)
    }

    /// Stops a child gracefully (SIGTERM; SIGKILL after [`crate::STOP_GRACE`]).
    pub fn stop(&mut self, name: &str) -> Result<(), LocalnetError> {
        self.children.stop(name)
    }

    /// Starts a child again with its original arguments (stopping it first if it runs); a
    /// validator resumes from its state file.
    pub fn restart(&mut self, name: &str) -> Result<(), LocalnetError> {
        self.children.restart(name)
    }

    /// The books of the counted epochs so far.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Time since [`start`](Self::start) began.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The saved state of validator `name` (`None` before its first save).
    pub fn validator_state(&self, name: &str) -> Result<Option<ValidatorState>, LocalnetError> {
        let n = self.neuron(name)?;
        let Some(p) = &n.state_path else {
            return Err(LocalnetError::Failed(format!("{name} is not a validator")));
        };
        ValidatorState::load(p).map_err(|e| LocalnetError::Failed(e.to_string()))
    }

    /// The subnet's metagraph (with each neuron's weight and bond rows if asked).
    pub async fn metagraph(&self, with_matrices: bool) -> Result<Metagraph, LocalnetError> {
        self.client
            .metagraph(self.netuid, with_matrices)
            .await
            .map_err(cl("reading the metagraph"))
    }

    /// The table now: one row per UID, from the metagraph and the validators' saved states.
    pub async fn rows(&self) -> Result<Vec<Row>, LocalnetError> {
        let mg = self.metagraph(false).await?;
        let fm = to_metagraph(self.netuid, &mg);
        let states: Vec<ValidatorState> = self
            .neurons
            .iter()
            .filter_map(|n| n.state_path.as_ref())
            .filter_map(|p| ValidatorState::load(p).ok().flatten())
            .collect();
        let f = |x: u16| f64::from(x) / 65535.0;
        Ok(mg
            .neurons
            .iter()
            .zip(&fm.neurons)
            .map(|(n, v)| {
                let who = self.neurons.iter().find(|w| w.uid == n.uid);
                let validator = who.is_some_and(|w| w.role == Role::Validator);
                Row {
                    uid: n.uid,
                    name: who.map_or_else(
                        || "?".into(),
                        |w| match &w.preset {
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
                    earned: self.ledger.earned.get(&n.uid).copied().unwrap_or(0),
                }
            })
            .collect())
    }

    /// Waits up to `wait` for the next epoch of the subnet (`Ok(None)` if none ran) and adds
    /// it to the ledger once epochs pay miners. Cancel-safe: an epoch is either returned and
    /// booked, or left for the next call.
    pub async fn next_epoch(
        &mut self,
        wait: Duration,
    ) -> Result<Option<EpochReport>, LocalnetError> {
        let notice = match tokio::time::timeout(wait, self.sub.next()).await {
            Err(_) => return Ok(None),
            Ok(Some(Ok(n))) => n,
            Ok(Some(Err(e))) => {
                return Err(LocalnetError::Failed(format!(
                    "epoch subscription failed: {e}"
                )))
            }
            Ok(None) => {
                return Err(LocalnetError::Failed(
                    "the node closed the epoch subscription".into(),
                ))
            }
        };
        let weighted = notice.emission.iter().any(|e| {
            e.server > 0
                && self
                    .neurons
                    .iter()
                    .any(|n| n.uid == e.uid && n.role == Role::Miner)
        });
        let first_weighted = weighted && self.ledger.first_weighted.is_none();
        if first_weighted {
            self.ledger.first_weighted =
                Some((notice.block_number, self.started.elapsed().as_secs_f64()));
        }
        let counted = if self.ledger.first_weighted.is_some() {
            self.ledger.record(&notice);
            Some(self.ledger.counted)
        } else {
            None
        };
        Ok(Some(EpochReport {
            notice,
            first_weighted,
            counted,
        }))
    }

    /// Follows the epochs until `epochs` have been counted (from the first that paid a miner)
    /// or `stop` resolves, reporting each to `on`, and returns the summary. A miner or
    /// validator that exits is reported and the network goes on; the node's exit, or fewer
    /// than `epochs` counted within 120 s + 30 s per epoch of the start, is an error.
    pub async fn follow<S: Future<Output = ()>>(
        &mut self,
        epochs: Option<u64>,
        stop: S,
        mut on: impl FnMut(Event<'_>),
    ) -> Result<Summary, LocalnetError> {
        let logs = self.config.base_path.join("logs");
        let limit = Duration::from_secs(120 + 30 * epochs.unwrap_or(0));
        tokio::pin!(stop);
        let mut last_rows = Vec::new();
        loop {
            if epochs.is_some_and(|k| self.ledger.counted >= k) {
                break;
            }
            // The network goes on without a dead miner or validator (the validators score a
            // dead miner 0 and its weight drops to 0 after 3 failed queries); without the
            // node it stops.
            for ex in self.children.newly_exited() {
                if ex.name == "node" {
                    return Err(LocalnetError::Failed(format!(
                        "{}; see the logs in {}",
                        ex.message,
                        logs.display()
                    )));
                }
                on(Event::Exited(&ex));
            }
            if epochs.is_some() && self.started.elapsed() > limit {
                return Err(LocalnetError::Failed(format!(
                    "only {} epochs with validator weights after {} s; see the logs in {}",
                    self.ledger.counted,
                    limit.as_secs(),
                    logs.display()
                )));
            }
            let report = tokio::select! {
                _ = &mut stop => { on(Event::Interrupted); break; }
                r = self.next_epoch(Duration::from_secs(2)) => match r? {
                    Some(r) => r,
                    None => continue,
                },
            };
            if report.first_weighted {
                if let Some((block, secs)) = self.ledger.first_weighted {
                    on(Event::FirstWeighted { block, secs });
                }
            }
            last_rows = self.rows().await?;
            on(Event::Epoch {
                report: &report,
                rows: &last_rows,
            });
        }
        if last_rows.is_empty() {
            last_rows = self.rows().await?;
        }
        Ok(Summary {
            ledger: self.ledger.clone(),
            rows: last_rows,
        })
    }
}

/// Waits until every miner has published its axon on this run's port (they train their
/// models first) and the validators hold their permits (from the first epoch), so that every
/// miner answers the validators from their first round on and the moving averages start
/// together.
async fn wait_for_axons(
    client: &Client,
    netuid: u16,
    neurons: &[NeuronInfo],
    children: &mut Children,
    base: &Path,
    progress: &impl Fn(&str),
) -> Result<(), LocalnetError> {
    let start = Instant::now();
    let miners = neurons.iter().filter(|n| n.role == Role::Miner).count();
    loop {
        let mg = client
            .metagraph(netuid, false)
            .await
            .map_err(cl("reading the metagraph"))?;
        let serving = neurons
            .iter()
            .filter(|n| n.role == Role::Miner)
            .filter(|n| {
                mg.neurons.iter().any(|v| {
                    // The address of this run (a resumed chain holds the last run's).
                    v.hotkey == n.hotkey
                        && v.axon.as_ref().map(|a| a.port).is_some()
                        && v.axon.as_ref().map(|a| a.port) == n.axon_port
                })
            })
            .count();
        let permits = neurons
            .iter()
            .filter(|n| n.role == Role::Validator)
            .all(|n| {
                mg.neurons
                    .iter()
                    .any(|v| v.hotkey == n.hotkey && v.validator_permit)
            });
        if serving == miners && permits {
            // The miners re-read the metagraph every MINER_SYNC_SECS: let all of them see the
            // permits before the first query, so none blacklists the validators' first rounds.
            tokio::time::sleep(Duration::from_secs_f64(MINER_SYNC_SECS * 1.5 + 0.25)).await;
            progress(&format!(
                "{miners} miners trained and serving, validator permits set ({:.1} s)",
                start.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        if let Some(e) = children.exited() {
            return Err(LocalnetError::Failed(format!(
                "{e}; see the logs in {}",
                base.join("logs").display()
            )));
        }
        if start.elapsed() > AXON_WAIT {
            return Err(LocalnetError::Failed(format!(
                "only {serving} of {miners} miners published their axon within {} s; see the logs in {}",
                AXON_WAIT.as_secs(),
                base.join("logs").display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
