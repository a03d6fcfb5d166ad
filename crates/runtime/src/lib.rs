//! # tensornet-runtime
//!
//! The chain's deterministic state machine (spec: `../shared/spec/yuma.md` §1.2, §2.6, §4, §5;
//! issue 4 wins where they differ): given a state and a block of signed transactions it
//! produces the next state, identically on every machine. No I/O, no clock, no floats, no
//! hash-map iteration order; the epoch is [`tensornet_yuma::epoch`], never re-implemented.
//!
//! ## How to drive it (the node does exactly this; see [`MemoryChain`])
//! 1. Genesis: [`GenesisConfig::from_json`] or [`dev_genesis`], then [`GenesisConfig::build`]
//!    → the genesis key set, header and hash (the chain id every transaction signs).
//! 2. Per block: [`execute_block`]`(store, genesis_hash, number, timestamp, body)` reads the
//!    parent state through [`StateStore`] and returns a [`BlockOutcome`]: the changed keys, one
//!    [`Receipt`] per transaction and the block-level events. Nothing is written.
//! 3. [`StateRoot::preview`] on the changed keys gives the new state root (compare with or
//!    put in the header); commit the changes atomically to the store and then
//!    [`StateRoot::commit`] the update. On start-up rebuild the tree with
//!    [`StateRoot::from_store`].
//!
//! ## Block application order
//! Signatures (batched, 256 per batch) → block number/timestamp → for every subnet:
//! registration price decay, block emission into pending pools → due epochs (scheduler of
//! spec §5.1, at most `max_epochs_per_block`, staggered by netuid) and their payouts → the
//! transactions in order → ledger check. A block is invalid if a signature is bad, a nonce is
//! wrong, a paying transaction's signer cannot pay the fee, or a free call fails its rules.
//! A paying call that fails its rules pays its fee, bumps the nonce and changes nothing else;
//! its receipt carries the [`CallError`].
//!
//! ## Ledger
//! Every rao ever minted is in exactly one of: a free balance, a stake, a subnet's pending
//! emission, a lock, or `burned`. [`Totals`] keeps the aggregates and every movement updates
//! them ([`State`]'s ledger methods); each block checks
//! `minted = Σfree + Σstake + Σpending + Σlocked + burned` (O(1)); [`view::audit_ledger`] checks
//! the aggregates against a full scan.
//!
//! ## State root
//! See [`root`]: BLAKE2b-256 leaves `(H(key), H(value))` in 2^16 buckets by the first 16 bits
//! of `H(key)`, a depth-16 binary Merkle tree above; incremental per changed key.

pub mod calls;
mod chain;
pub mod exec;
pub mod genesis;
pub mod hash;
mod ledger;
pub mod root;
pub mod state;
pub mod store;
pub mod types;
pub mod view;

pub use chain::MemoryChain;
pub use exec::{
    block_emission, check_transaction, execute_block, execute_block_unchecked, verify_signatures,
    BlockOutcome, TxCheck,
};
pub use genesis::{dev_genesis, Genesis, GenesisConfig, GenesisError};
pub use root::{RootUpdate, StateRoot};
pub use state::{
    AccountInfo, AxonInfo, ChainConfig, HotkeyInfo, Neuron, State, SubnetInfo, SubnetParams,
    Totals, WeightCommit,
};
pub use store::{MemStore, Overlay, StateChanges, StateStore, StoreError};
pub use types::{
    commit_hash, signing_payload, tx_root, Block, BlockError, Call, CallError, Event, GlobalParam,
    Header, Hyperparameter, Receipt, SignedTransaction, SudoCall, UidEmission,
};
pub use view::{metagraph, Metagraph, NeuronView};
