//! The validator loop over an abstract chain: [`ChainClient`] is what the loop needs from a
//! node (the client crate implements it over RPC), [`ValidatorNode::step`] is one step of the
//! loop — sync the metagraph when due, run a round, reveal or submit weights when due, save
//! state. The daemon calls `step` in a loop with its own pacing, logging and shutdown.

use crate::node::{compute_weights, run_round, weights_due, Metagraph, RoundConfig, RoundReport};
use crate::state::{PendingReveal, StateError, ValidatorState};
use crate::subnet::Validator;
use crate::weights::WeightVector;
use std::future::Future;
use std::path::PathBuf;
use tensornet_axon::Dendrite;
use thiserror::Error;

/// A chain request failed (transport, rejected extrinsic…).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ChainError(pub String);

/// The subnet facts the loops need, read at the current block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetInfo {
    /// Current block.
    pub block: u64,
    /// Epochs the subnet has run (`SubnetEpochIndex`).
    pub epoch_index: u64,
    /// Blocks per epoch.
    pub tempo: u64,
    /// Blocks between weight submissions.
    pub weights_rate_limit: u64,
    /// `MaxWeightsLimit`.
    pub max_weight_limit: u16,
    /// `MinAllowedWeights`.
    pub min_allowed_weights: u16,
    /// Whether weights go through commit-reveal.
    pub commit_reveal: bool,
    /// Epochs between a commit and its reveal.
    pub reveal_period: u64,
    /// `WeightsVersionKey`.
    pub weights_version_key: u64,
}

/// What the miner and validator loops need from a node. The implementation signs with the
/// neuron's hotkey (coldkey for registration) and waits for inclusion.
pub trait ChainClient: Send + Sync {
    /// Subnet facts at the current block.
    fn subnet_info(
        &self,
        netuid: u16,
    ) -> impl Future<Output = Result<SubnetInfo, ChainError>> + Send;
    /// The subnet's neurons.
    fn metagraph(&self, netuid: u16) -> impl Future<Output = Result<Metagraph, ChainError>> + Send;
    /// `set_weights`.
    fn set_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        version_key: u64,
    ) -> impl Future<Output = Result<(), ChainError>> + Send;
    /// `commit_weights` with the hash of `(hotkey, netuid, uids, values, salt, version_key)`.
    fn commit_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> impl Future<Output = Result<(), ChainError>> + Send;
    /// `reveal_weights`.
    fn reveal_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> impl Future<Output = Result<(), ChainError>> + Send;
    /// Registers the hotkey if it is not registered, paying at most `max_price` rao; returns
    /// its UID.
    fn ensure_registered(
        &self,
        netuid: u16,
        max_price: u64,
    ) -> impl Future<Output = Result<u16, ChainError>> + Send;
    /// Publishes (or re-publishes) the axon address.
    fn serve_axon(
        &self,
        netuid: u16,
        addr: std::net::SocketAddr,
    ) -> impl Future<Output = Result<(), ChainError>> + Send;
}

/// Validator loop settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatorSettings {
    /// The subnet.
    pub netuid: u16,
    /// Round settings (timeout, sample size).
    pub round: RoundConfig,
    /// Re-read the metagraph every this many blocks.
    pub sync_every_blocks: u64,
    /// Where the state is saved after every step (`None`: not saved).
    pub state_path: Option<PathBuf>,
}

/// What a step did about weights.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightAction {
    /// Not due.
    NotDue,
    /// Due, but nothing to submit (the reason).
    Skipped(String),
    /// Submitted with `set_weights`.
    Set(WeightVector),
    /// Committed (to be revealed later).
    Committed(WeightVector),
    /// Revealed an earlier commit.
    Revealed(WeightVector),
    /// The chain rejected the call (the message); retried when next due.
    Failed(String),
}

/// One step's report.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// The block the step started at.
    pub block: u64,
    /// Whether the metagraph was re-read.
    pub synced: bool,
    /// The round.
    pub round: RoundReport,
    /// The weight action.
    pub weights: WeightAction,
}

/// A step failed before querying (no chain, or the state could not be saved).
#[derive(Debug, Error)]
pub enum NodeError {
    /// The chain could not be read.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The state could not be saved.
    #[error("state: {0}")]
    State(#[from] StateError),
}

/// A validator: chain client, dendrite, subnet validator, and its persistent state.
pub struct ValidatorNode<C, V> {
    chain: C,
    dendrite: Dendrite,
    validator: V,
    state: ValidatorState,
    metagraph: Metagraph,
    last_sync: Option<u64>,
    settings: ValidatorSettings,
}

impl<C: ChainClient, V: Validator> ValidatorNode<C, V> {
    /// A validator node resuming from `state` (see [`ValidatorState::load_or_new`]).
    pub fn new(
        chain: C,
        dendrite: Dendrite,
        validator: V,
        state: ValidatorState,
        settings: ValidatorSettings,
    ) -> Self {
        ValidatorNode {
            chain,
            dendrite,
            validator,
            state,
            metagraph: Metagraph::default(),
            last_sync: None,
            settings,
        }
    }

    /// The persistent state.
    pub fn state(&self) -> &ValidatorState {
        &self.state
    }

    /// The last synced metagraph.
    pub fn metagraph(&self) -> &Metagraph {
        &self.metagraph
    }

    /// The chain client.
    pub fn chain(&self) -> &C {
        &self.chain
    }

    /// One loop step (see the module doc).
    pub async fn step(&mut self) -> Result<StepReport, NodeError> {
        let netuid = self.settings.netuid;
        let info = self.chain.subnet_info(netuid).await?;
        let synced = self
            .last_sync
            .is_none_or(|l| info.block.saturating_sub(l) >= self.settings.sync_every_blocks.max(1));
        if synced {
            self.metagraph = self.chain.metagraph(netuid).await?;
            self.state.scores.sync_hotkeys(&self.metagraph.hotkeys());
            self.last_sync = Some(info.block);
        }
        let round = run_round(
            &self.dendrite,
            &mut self.validator,
            &self.metagraph,
            &mut self.state,
            &self.settings.round,
        )
        .await;
        let weights = self.weights(&info).await;
        if let Some(path) = &self.settings.state_path {
            self.state.save(path)?;
        }
        Ok(StepReport {
            block: info.block,
            synced,
            round,
            weights,
        })
    }

    async fn weights(&mut self, info: &SubnetInfo) -> WeightAction {
        let netuid = self.settings.netuid;
        let key = info.weights_version_key;
        if let Some(p) = self.state.pending_reveal.clone() {
            let due = p.commit_epoch.saturating_add(info.reveal_period);
            if info.epoch_index < due {
                return WeightAction::NotDue;
            }
            self.state.pending_reveal = None;
            if info.epoch_index > due {
                return WeightAction::Skipped("the commit expired before its reveal".into());
            }
            let w = WeightVector {
                uids: p.uids,
                values: p.values,
            };
            return match self.chain.reveal_weights(netuid, &w, &p.salt, key).await {
                Ok(()) => WeightAction::Revealed(w),
                Err(e) => WeightAction::Failed(e.0),
            };
        }
        if !weights_due(
            info.block,
            self.state.last_weights_block,
            info.tempo,
            info.weights_rate_limit,
        ) {
            return WeightAction::NotDue;
        }
        let w = match compute_weights(
            &self.state,
            &self.metagraph,
            info.max_weight_limit,
            info.min_allowed_weights,
        ) {
            Ok(w) => w,
            Err(e) => return WeightAction::Skipped(e.to_string()),
        };
        if info.commit_reveal {
            let salt: Vec<u16> = (0..8).map(|_| rand::random::<u16>()).collect();
            match self.chain.commit_weights(netuid, &w, &salt, key).await {
                Ok(()) => {
                    self.state.last_weights_block = Some(info.block);
                    self.state.pending_reveal = Some(PendingReveal {
                        commit_block: info.block,
                        commit_epoch: info.epoch_index,
                        salt,
                        uids: w.uids.clone(),
                        values: w.values.clone(),
                    });
                    WeightAction::Committed(w)
                }
                Err(e) => WeightAction::Failed(e.0),
            }
        } else {
            match self.chain.set_weights(netuid, &w, key).await {
                Ok(()) => {
                    self.state.last_weights_block = Some(info.block);
                    WeightAction::Set(w)
                }
                Err(e) => WeightAction::Failed(e.0),
            }
        }
    }
}

/// Miner loop settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerSettings {
    /// The subnet.
    pub netuid: u16,
    /// The miner's hotkey (SS58), to find itself in the metagraph.
    pub hotkey: String,
    /// Highest registration price accepted, rao.
    pub max_registration_price: u64,
}

/// What a miner step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinerStep {
    /// The miner's UID.
    pub uid: u16,
    /// Neurons in the synced metagraph.
    pub n: u16,
    /// Whether it registered in this step.
    pub registered: bool,
    /// Whether it (re-)published its axon in this step.
    pub published: bool,
}

/// The chain side of a miner: registration, axon publication, metagraph sync for the axon's
/// blacklist and priority hooks (the [`SharedMetagraph`](crate::node::SharedMetagraph) given to [`crate::miner_axon`]).
pub struct MinerNode<C> {
    chain: C,
    settings: MinerSettings,
    metagraph: crate::node::SharedMetagraph,
    published: Option<std::net::SocketAddr>,
}

impl<C: ChainClient> MinerNode<C> {
    /// A miner node; `metagraph` is the one its axon reads.
    pub fn new(chain: C, settings: MinerSettings, metagraph: crate::node::SharedMetagraph) -> Self {
        MinerNode {
            chain,
            settings,
            metagraph,
            published: None,
        }
    }

    /// The shared metagraph.
    pub fn metagraph(&self) -> crate::node::SharedMetagraph {
        self.metagraph.clone()
    }

    /// One step: sync the metagraph; register if the hotkey is not on the subnet (price
    /// limited); publish the axon at `addr` if it is not published there yet (first step,
    /// address change, or the chain shows another address).
    pub async fn step(&mut self, addr: std::net::SocketAddr) -> Result<MinerStep, NodeError> {
        let netuid = self.settings.netuid;
        let mut mg = self.chain.metagraph(netuid).await?;
        let mut registered = false;
        if mg.by_hotkey(&self.settings.hotkey).is_none() {
            self.chain
                .ensure_registered(netuid, self.settings.max_registration_price)
                .await?;
            registered = true;
            self.published = None;
            mg = self.chain.metagraph(netuid).await?;
        }
        let me = mg
            .by_hotkey(&self.settings.hotkey)
            .cloned()
            .ok_or_else(|| {
                ChainError(format!(
                    "hotkey {} is not on subnet {netuid} after registering",
                    self.settings.hotkey
                ))
            })?;
        let mut published = false;
        if self.published != Some(addr) || me.axon != Some(addr) {
            self.chain.serve_axon(netuid, addr).await?;
            self.published = Some(addr);
            published = true;
        }
        let n = mg.n();
        if let Ok(mut shared) = self.metagraph.write() {
            *shared = mg;
        }
        Ok(MinerStep {
            uid: me.uid,
            n,
            registered,
            published,
        })
    }
}

/// A shared client is a client.
impl<T: ChainClient> ChainClient for std::sync::Arc<T> {
    fn subnet_info(
        &self,
        netuid: u16,
    ) -> impl Future<Output = Result<SubnetInfo, ChainError>> + Send {
        (**self).subnet_info(netuid)
    }
    fn metagraph(&self, netuid: u16) -> impl Future<Output = Result<Metagraph, ChainError>> + Send {
        (**self).metagraph(netuid)
    }
    fn set_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        version_key: u64,
    ) -> impl Future<Output = Result<(), ChainError>> + Send {
        (**self).set_weights(netuid, weights, version_key)
    }
    fn commit_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> impl Future<Output = Result<(), ChainError>> + Send {
        (**self).commit_weights(netuid, weights, salt, version_key)
    }
    fn reveal_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> impl Future<Output = Result<(), ChainError>> + Send {
        (**self).reveal_weights(netuid, weights, salt, version_key)
    }
    fn ensure_registered(
        &self,
        netuid: u16,
        max_price: u64,
    ) -> impl Future<Output = Result<u16, ChainError>> + Send {
        (**self).ensure_registered(netuid, max_price)
    }
    fn serve_axon(
        &self,
        netuid: u16,
        addr: std::net::SocketAddr,
    ) -> impl Future<Output = Result<(), ChainError>> + Send {
        (**self).serve_axon(netuid, addr)
    }
}
