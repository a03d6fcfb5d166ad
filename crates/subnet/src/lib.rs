//! # tensornet-subnet
//!
//! The subnet framework: what a subnet author implements once, and the chain-independent parts of
//! the miner and validator loops (issue 7, point 1; weight rules of `spec/yuma.md` §3.6 and §5.4).
//!
//! What it owns:
//! - [`subnet`]: the [`Subnet`] trait with its [`Miner`] side (answer a synapse with a trained
//!   model) and [`Validator`] side (draw a challenge from private data, score a batch of answers
//!   into rewards in [0, 1]);
//! - [`scores`]: the per-UID moving average ([`ScoreKeeper`]; α = 0.1 by default, reset when a
//!   UID's hotkey changes, weight 0 after 3 failed queries in a row until the UID answers again);
//! - [`state`]: the validator's [`ValidatorState`], saved atomically and restored on restart;
//! - [`weights`]: scores → a weight vector the chain accepts ([`process_weights`]: normalise,
//!   drop zero-score and non-serving UIDs, `max_weight_limit`, `min_allowed_weights`, u16
//!   max-upscaling);
//! - [`node`]: loop building blocks that need only the axon crate — the [`Metagraph`] snapshot,
//!   [`miner_axon`] (blacklist by permit before the body is read, priority by stake) and
//!   [`run_round`] (query concurrently, score, update the moving averages);
//! - [`chain`]: the [`ChainClient`] trait (what the loops need from a node) and
//!   [`ValidatorNode::step`], one validator-loop step over it (sync when due, round, reveal or
//!   submit weights when due, save state) and [`MinerNode::step`] (register with a price limit,
//!   publish or re-publish the axon, refresh the metagraph the axon's hooks read);
//! - [`rpc`]: [`RpcChain`], the [`ChainClient`] over a node's JSON-RPC (client crate), and
//!   [`to_metagraph`], the runtime metagraph as the loops see it.
//!
//! Invariants: every reward and every stored score is in [0, 1]; a failed query scores 0; a
//! weight vector returned by [`process_weights`] passes the chain's `set_weights` checks for the
//! limits it was computed with (unique UIDs `< n`, enough entries, max-weight test) and its
//! largest value is 65535.
//!
//! Not here: the daemons' config, pacing, logging and shutdown (the `tensornet miner run` and
//! `validator run` commands), and starting whole networks (`tensornet-localnet`).

pub mod chain;
pub mod node;
pub mod rpc;
pub mod scores;
pub mod state;
pub mod subnet;
pub mod weights;

pub use chain::{
    ChainClient, ChainError, MinerNode, MinerSettings, MinerStep, NodeError, StepReport,
    SubnetInfo, ValidatorNode, ValidatorSettings, WeightAction,
};
pub use node::{
    compute_weights, miner_axon, pick_miners, run_round, weights_due, AccessPolicy, Metagraph,
    NeuronView, RoundConfig, RoundReport, SharedMetagraph, UidResult,
};
pub use rpc::{to_metagraph, RpcChain};
pub use scores::{Outcome, ScoreError, ScoreKeeper, UidScore, DEFAULT_ALPHA, DEFAULT_MAX_FAILURES};
pub use state::{PendingReveal, StateError, ValidatorState, STATE_VERSION};
pub use subnet::{HandlerError, Miner, Subnet, SubnetError, Validator};
pub use weights::{
    passes_max_weight_limit, process_weights, quantize_max_upscale, WeightError, WeightLimits,
    WeightVector,
};
