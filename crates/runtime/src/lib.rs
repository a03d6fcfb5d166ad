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
//! ## Calls ([`Call`]), their rules (checked in this order) and fees
//! Paying calls are signed by a coldkey and pay the flat `tx_fee` (genesis parameter, default
//! 100,000 rao), which is burned, even when the call then fails. Free calls are signed by a
//! hotkey, pay nothing, and make the block invalid if they fail (so producers must
//! pre-check them with [`check_transaction`]).
//!
//! | call | fee | rules → [`CallError`] |
//! |---|---|---|
//! | `transfer(dest, amount)` | fee | amount > 0 (`ZeroAmount`); free ≥ amount (`InsufficientBalance`) |
//! | `register_network(hotkey)` | fee | hotkey not owned by another coldkey (`HotkeyOwnedByOther`); a free netuid in 1..=`max_subnets` (`TooManySubnets`); free ≥ lock cost (`InsufficientBalance`). Lock = max(min, last·2 − last/interval·(now − last_block)) (×1 for the first), held as locked balance. Owner hotkey takes UID 0, immortal. |
//! | `burned_register(netuid, hotkey, max_price?)` | fee + price (burned) | subnet exists (`SubnetNotFound`); hotkey not another's (`HotkeyOwnedByOther`); not on the subnet yet (`AlreadyRegistered`); price ≤ max_price (`PriceTooHigh`); if full, a prunable UID (`NoPrunableUid`); free ≥ price (`InsufficientBalance`). Price: 1 TAO at creation, ×f per block (f^360 = ½, Q32), ×1.26 after each registration, clamped to [500,000 rao, 100 TAO]. Pruning: skip owner hotkey + `immune_owner_uids_limit` (1) earliest owner-coldkey hotkeys; min (emission, registration block, uid); non-immune if more than `min_non_immune_uids` (10) are non-immune, else immune (falling back to non-immune). Replacement clears outputs, axon, commits, own weights/bonds rows, zeroes others' weights to it. |
//! | `serve_axon(netuid, ip, port, ip_type, protocol, version)` | free | subnet (`SubnetNotFound`); signer registered (`NotRegistered`); ip_type 4/6, non-zero port, not 0/broadcast (`InvalidAxon`); loopback/private only if `allow_private_axons` (`PrivateAddress`); `serving_rate_limit` (50) since the last serve (`RateLimited`) |
//! | `set_weights(netuid, uids, values, version_key)` | free | subnet; commit-reveal off (`CommitRevealEnabled`); equal lengths and ≤ n (`WeightsLengthMismatch`); registered (`NotRegistered`); stake ≥ `stake_threshold` unless owner (`StakeBelowThreshold`); version key (`IncorrectVersionKey`); rate limit since `last_update` (`RateLimited`); permit, self-weight or owner (`NoValidatorPermit`); unique (`DuplicateUids`) existing uids (`UidNotFound`); len ≥ min(min_allowed_weights, n) unless self-weight (`TooFewWeights`); max weight limit if < 65535 (`MaxWeightExceeded`); store max-upscaled values in submission order; `last_update = now` |
//! | `commit_weights(netuid, hash)` | free | subnet; commit-reveal on (`CommitRevealDisabled`); registered; rate limit (`RateLimited`); expired commits dropped, < 10 pending (`TooManyUnrevealedCommits`); `last_update = now` |
//! | `reveal_weights(netuid, uids, values, salt, version_key)` | free | subnet; commit-reveal on; registered; a pending commit with [`commit_hash`] (`InvalidReveal`); subnet epoch == commit epoch + `reveal_period` (`RevealTooEarly` / `ExpiredCommit`); then the `set_weights` rules without rate limit and without touching `last_update` |
//! | `add_stake(hotkey, amount)` | fee | amount > 0; hotkey known (`HotkeyNotFound`); free ≥ amount |
//! | `remove_stake(hotkey, amount)` | fee | amount > 0; hotkey known; own stake on it ≥ amount (`InsufficientStake`) |
//! | `increase_take(hotkey, take)` / `decrease_take` | fee | hotkey known; signer owns it (`NotHotkeyOwner`); strictly up / down (`InvalidTake`); up: ≤ `max_take` (`OutOfRange`) and `take_rate_limit` since the last change (`RateLimited`) |
//! | `set_hyperparameter(netuid, param)` | fee | subnet; signer is its owner (`NotSubnetOwner`); not root-only (`RootOnlyParameter`); owner bounds (`OutOfRange`, `LiquidAlphaDisabled`), see [`Hyperparameter`] |
//! | `sudo(call)` | fee | signer is the root key (`NotRoot`); any hyperparameter with hard bounds only (max UIDs ≤ 4096 and ≥ n, …) or a [`GlobalParam`] |
//!
//! ## Emission and epochs
//! Block emission `block_emission / 2^⌊log2(S/(S − issuance))⌋` (exact integers), split over
//! subnets by `emission_weight`; each share: owner cut 11796/65535 → pending owner cut, rest r:
//! r/2 pending server, r − r/2 pending validator. When the epoch runs, `rao_emission` = the
//! pending server + validator amounts; miners' server emission is staked to their hotkey
//! (owner coldkey) except hotkeys of the subnet owner's coldkey (burned); validator emission
//! pays the take to the hotkey owner and the rest pro rata to the hotkey's stakers; the owner
//! cut is staked to the owner hotkey; `rao_emission` − paid is burned. If the epoch function
//! fails, the pending amounts keep accumulating (event `EpochFailed`). With commit-reveal on,
//! weights of a hotkey with a pending (unexpired) commit to UIDs registered after that commit
//! are removed from the epoch's inputs (spec §2.6).
//!
//! ## Ledger
//! Every rao ever minted is in exactly one of: a free balance, a stake, a subnet's pending
//! emission, a lock, or `burned`. [`Totals`] keeps the aggregates and every movement updates
//! them ([`State`]'s ledger methods); each block checks
//! `minted = Σfree + Σstake + Σpending + Σlocked + burned` (O(1)); [`view::audit_ledger`] checks
//! the aggregates against a full scan. A hotkey's record holds its total stake and its owner
//! coldkey's own stake; each other coldkey staked on it (a nominator) has its own entry, and the
//! record counts them, so an epoch credit to a hotkey without nominators writes one key.
//!
//! ## State root
//! See [`root`] (scheme version 3): BLAKE2b-256 leaves `H(key) ‖ value` (values of at most 64
//! bytes inline, longer ones as `H(value)`) in 2^16 buckets by the first 16 bits of `H(key)`,
//! a 4-ary Merkle tree of depth 8 above (one BLAKE2b block per node); incremental per changed
//! key, the hashes of each step computed together with SIMD, large updates on two threads
//! (the root is the same either way).

pub mod calls;
mod chain;
pub mod exec;
pub mod fixtures;
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
pub use view::{metagraph, neuron, Metagraph, NeuronView};
