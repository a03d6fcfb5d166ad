//! State records, their key layout, and typed access over an [`Overlay`].
//!
//! Key layout (every value is the SCALE encoding of the named record):
//!
//! | key | value |
//! |---|---|
//! | `g` `cfg` | [`ChainConfig`] |
//! | `g` `tot` | [`Totals`] |
//! | `g` `blk` | [`BlockInfo`] |
//! | `a` ‖ account | [`AccountInfo`] |
//! | `h` ‖ hotkey | [`HotkeyInfo`] |
//! | `s` ‖ hotkey ‖ coldkey | a nominator's stake, `u64` rao (the owner coldkey's stake is in the [`HotkeyInfo`]) |
//! | `n` ‖ netuid (BE) | [`SubnetInfo`] |
//! | `u` ‖ netuid ‖ uid (BE) | a [`Neuron`]'s registration fields: hotkey, block at registration, last update, axon |
//! | `o` ‖ netuid | every UID's epoch outputs as one value, [`OUTPUT_LEN`] bytes per UID (see [`NeuronOutputs`]) |
//! | `k` ‖ netuid ‖ hotkey | uid `u16` |
//! | `w` ‖ netuid ‖ uid | weights row (submission order), [`encode_row`] format |
//! | `b` ‖ netuid ‖ uid | bonds row, [`encode_row`] format |
//! | `c` ‖ netuid ‖ hotkey | pending commits `Vec<`[`WeightCommit`]`>` |

use crate::store::{Overlay, StoreError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use tensornet_primitives::{AccountId, Balance, BlockNumber, Hash32, NetUid, Uid, RAO_PER_TAO};

/// A coldkey's (or hotkey's) account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Next transaction nonce.
    pub nonce: u64,
    /// Free balance, rao.
    pub free: Balance,
}

/// A hotkey known to the chain (registered at least once).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct HotkeyInfo {
    /// Owner coldkey.
    pub owner: AccountId,
    /// Delegate take `/65535`.
    pub take: u16,
    /// Block of the last take change (rate limit of increases).
    pub last_take_change: BlockNumber,
    /// Sum of all stake on this hotkey, rao: `owner_stake` plus every nominator's entry.
    pub total_stake: Balance,
    /// The owner coldkey's own stake on this hotkey, rao. It lives in this record, not under
    /// a stake key, so that crediting a miner (whose stake is usually all its owner's) in an
    /// epoch writes one key instead of two.
    pub owner_stake: Balance,
    /// Number of other coldkeys with a stake entry (`s` ‖ hotkey ‖ coldkey) on this hotkey;
    /// 0 means the owner's stake is all there is and no scan is needed.
    pub nominators: u32,
}

impl HotkeyInfo {
    /// A newly known hotkey: no stake, no nominators, no take change yet.
    pub fn new(owner: AccountId, take: u16) -> HotkeyInfo {
        HotkeyInfo {
            owner,
            take,
            last_take_change: 0,
            total_stake: 0,
            owner_stake: 0,
            nominators: 0,
        }
    }
}

/// The ledger aggregates. Invariant: `minted = free + staked + pending + locked + burned`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Totals {
    /// Every rao ever created (genesis balances and emission).
    pub minted: Balance,
    /// Every rao destroyed (fees, registration prices, owner incentive, epoch dust).
    pub burned: Balance,
    /// Σ free balances.
    pub free: Balance,
    /// Σ stake.
    pub staked: Balance,
    /// Σ subnets' pending emission (server + validator + owner cut).
    pub pending: Balance,
    /// Σ network locks.
    pub locked: Balance,
}

impl Totals {
    /// `minted − burned`.
    pub fn total_issuance(&self) -> Balance {
        self.minted.saturating_sub(self.burned)
    }
    /// Checks `minted = free + staked + pending + locked + burned`.
    pub fn check(&self) -> Result<(), String> {
        let sum = [
            self.free,
            self.staked,
            self.pending,
            self.locked,
            self.burned,
        ]
        .iter()
        .try_fold(0u64, |a, b| a.checked_add(*b));
        if sum == Some(self.minted) {
            Ok(())
        } else {
            Err(format!("{self:?} does not add up"))
        }
    }
}

/// The last applied block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Number.
    pub number: BlockNumber,
    /// Timestamp, ms.
    pub timestamp: u64,
}

/// Per-subnet hyperparameters (see spec §1.2; defaults are the "new subnet" column).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetParams {
    /// Blocks between epochs (0 = never).
    pub tempo: u16,
    /// Consensus majority `/65535`.
    pub kappa: u16,
    /// Bond EMA, ppm.
    pub bonds_moving_average: u64,
    /// Bonds penalty `/65535`.
    pub bonds_penalty: u16,
    /// Yuma 3.
    pub yuma3_enabled: bool,
    /// Liquid alpha.
    pub liquid_alpha_enabled: bool,
    /// Liquid alpha low.
    pub alpha_low: u16,
    /// Liquid alpha high.
    pub alpha_high: u16,
    /// Liquid alpha sigmoid steepness.
    pub alpha_sigmoid_steepness: i16,
    /// Top-k permits.
    pub max_allowed_validators: u16,
    /// Minimum weights per submission.
    pub min_allowed_weights: u16,
    /// Max normalized weight (65535 = no limit).
    pub max_weight_limit: u16,
    /// Activity cutoff, blocks.
    pub activity_cutoff: u64,
    /// Commit-reveal on.
    pub commit_reveal_enabled: bool,
    /// Reveal period, epochs.
    pub reveal_period: u64,
    /// Weights rate limit, blocks.
    pub weights_rate_limit: u64,
    /// Minimum weights version key.
    pub weights_version_key: u64,
    /// Immunity period, blocks.
    pub immunity_period: u16,
    /// Maximum UIDs.
    pub max_allowed_uids: u16,
    /// Serving rate limit, blocks.
    pub serving_rate_limit: u64,
    /// Relative emission weight.
    pub emission_weight: u64,
}

impl Default for SubnetParams {
    /// The reference's "new subnet" values.
    fn default() -> Self {
        SubnetParams {
            tempo: 360,
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            yuma3_enabled: true,
            liquid_alpha_enabled: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1000,
            max_allowed_validators: 64,
            min_allowed_weights: 1,
            max_weight_limit: 65_535,
            activity_cutoff: 5000,
            commit_reveal_enabled: true,
            reveal_period: 1,
            weights_rate_limit: 100,
            weights_version_key: 0,
            immunity_period: 5000,
            max_allowed_uids: 256,
            serving_rate_limit: 50,
            emission_weight: 1,
        }
    }
}

/// Chain-wide configuration (genesis parameters; root may change most of them).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The root (sudo) key.
    pub root: AccountId,
    /// Flat fee of paying calls, rao.
    pub tx_fee: Balance,
    /// Base block emission before halving, rao.
    pub block_emission: Balance,
    /// Target block time, ms (used by the node).
    pub block_time_ms: u64,
    /// Accept loopback/private axon addresses.
    pub allow_private_axons: bool,
    /// Global stake threshold, rao.
    pub stake_threshold: Balance,
    /// Minimum network lock.
    pub network_min_lock: Balance,
    /// Lock decay interval, blocks.
    pub network_lock_reduction_interval: u64,
    /// Lock paid by the last network registration.
    pub network_last_lock: Balance,
    /// Block of the last network registration (0 = none).
    pub network_last_lock_block: BlockNumber,
    /// Highest netuid allowed.
    pub max_subnets: u16,
    /// Epochs per block.
    pub max_epochs_per_block: u16,
    /// Take of a newly registered hotkey `/65535`.
    pub default_take: u16,
    /// Max take `/65535`.
    pub max_take: u16,
    /// Blocks between take increases.
    pub take_rate_limit: u64,
    /// Pruning: immune UIDs are taken only when at most this many non-immune remain.
    pub min_non_immune_uids: u16,
    /// Pruning: owner-coldkey hotkeys (besides the owner hotkey) never pruned.
    pub immune_owner_uids_limit: u16,
    /// Registration price of a new subnet.
    pub burn_initial: Balance,
    /// Minimum registration price.
    pub burn_min: Balance,
    /// Maximum registration price.
    pub burn_max: Balance,
    /// Blocks for the price to halve.
    pub burn_half_life: u64,
    /// Price multiplier after a registration, percent (126 = ×1.26).
    pub burn_increase_percent: u64,
    /// Hyperparameters of every new subnet.
    pub new_subnet: SubnetParams,
}

impl ChainConfig {
    /// Defaults of the issue / reference, with the given root key.
    pub fn with_root(root: AccountId) -> ChainConfig {
        ChainConfig {
            root,
            tx_fee: 100_000,
            block_emission: RAO_PER_TAO,
            block_time_ms: 12_000,
            allow_private_axons: false,
            stake_threshold: 0,
            network_min_lock: 1000 * RAO_PER_TAO,
            network_lock_reduction_interval: 14 * 7200,
            network_last_lock: 1000 * RAO_PER_TAO,
            network_last_lock_block: 0,
            max_subnets: 1024,
            max_epochs_per_block: 2,
            default_take: 11_796,
            max_take: 11_796,
            take_rate_limit: 216_000,
            min_non_immune_uids: 10,
            immune_owner_uids_limit: 1,
            burn_initial: RAO_PER_TAO,
            burn_min: 500_000,
            burn_max: 100 * RAO_PER_TAO,
            burn_half_life: 360,
            burn_increase_percent: 126,
            new_subnet: SubnetParams::default(),
        }
    }
}

/// A subnet.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SubnetInfo {
    /// Its netuid.
    pub netuid: NetUid,
    /// Owner coldkey.
    pub owner: AccountId,
    /// Owner hotkey (UID 0, never pruned).
    pub owner_hotkey: AccountId,
    /// Locked balance, rao.
    pub lock: Balance,
    /// Block of creation.
    pub registered_at: BlockNumber,
    /// Number of UIDs.
    pub n: u16,
    /// Current registration price, rao.
    pub burn: Balance,
    /// Pending server emission.
    pub pending_server: Balance,
    /// Pending validator emission.
    pub pending_validator: Balance,
    /// Pending owner cut.
    pub pending_owner_cut: Balance,
    /// Scheduler: block of the last epoch slot.
    pub last_epoch_block: BlockNumber,
    /// Scheduler: deferred epoch block (0 = none).
    pub pending_epoch_at: BlockNumber,
    /// Scheduler: blocks since the last epoch.
    pub blocks_since_last_step: u64,
    /// Epochs run so far.
    pub epoch_index: u64,
    /// Block of the last successful epoch (0 = none).
    pub last_mechanism_step_block: BlockNumber,
    /// Hyperparameters.
    pub params: SubnetParams,
}

/// An axon endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct AxonInfo {
    /// Block served.
    pub block: BlockNumber,
    /// Version.
    pub version: u32,
    /// Address (IPv4 in the low 32 bits).
    pub ip: u128,
    /// Port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
    /// Protocol.
    pub protocol: u8,
}

/// One UID of a subnet, with the latest epoch outputs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Neuron {
    /// Hotkey.
    pub hotkey: AccountId,
    /// Block of the latest (re)registration.
    pub block_at_registration: BlockNumber,
    /// Block of the last weights set or commit.
    pub last_update: BlockNumber,
    /// Active in the last epoch.
    pub active: bool,
    /// Validator permit from the last epoch.
    pub validator_permit: bool,
    /// Normalized stake `/65535`.
    pub stake_weight: u16,
    /// Consensus `/65535`.
    pub consensus: u16,
    /// Incentive `/65535`.
    pub incentive: u16,
    /// Dividends `/65535`.
    pub dividends: u16,
    /// Validator trust `/65535`.
    pub validator_trust: u16,
    /// Emission of the last epoch, rao.
    pub emission: Balance,
    /// Axon, if served.
    pub axon: Option<AxonInfo>,
}

impl Neuron {
    /// A freshly (re)registered neuron.
    pub fn new(hotkey: AccountId, now: BlockNumber) -> Neuron {
        Neuron {
            hotkey,
            block_at_registration: now,
            last_update: now,
            active: true,
            validator_permit: false,
            stake_weight: 0,
            consensus: 0,
            incentive: 0,
            dividends: 0,
            validator_trust: 0,
            emission: 0,
            axon: None,
        }
    }
}

/// The fields of a neuron that an epoch reads (see [`State::epoch_neurons`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpochNeuron {
    /// Hotkey (all zeros for a missing UID).
    pub hotkey: AccountId,
    /// Block at registration.
    pub block_at_registration: BlockNumber,
    /// Block of the last weights update.
    pub last_update: BlockNumber,
    /// Validator permit from the last epoch.
    pub validator_permit: bool,
}

/// A pending weights commit.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct WeightCommit {
    /// Commit hash.
    pub hash: Hash32,
    /// Subnet epoch index at commit time.
    pub epoch: u64,
    /// Block of the commit.
    pub block: BlockNumber,
}

/// Bytes per UID in the per-subnet epoch outputs vector.
pub const OUTPUT_LEN: usize = 19;

/// The epoch outputs of one UID, stored for all UIDs of a subnet as one value (so an epoch
/// writes one key for them instead of one per neuron). Entry format, [`OUTPUT_LEN`] bytes:
/// flags (bit 0 active, bit 1 validator permit), then stake weight, consensus, incentive,
/// dividends, validator trust as `u16` little-endian, then emission `u64` little-endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NeuronOutputs {
    /// Active in the last epoch.
    pub active: bool,
    /// Validator permit.
    pub validator_permit: bool,
    /// Normalized stake.
    pub stake_weight: u16,
    /// Consensus.
    pub consensus: u16,
    /// Incentive.
    pub incentive: u16,
    /// Dividends.
    pub dividends: u16,
    /// Validator trust.
    pub validator_trust: u16,
    /// Emission, rao.
    pub emission: Balance,
}

impl NeuronOutputs {
    /// The outputs part of a neuron.
    pub fn of(n: &Neuron) -> NeuronOutputs {
        NeuronOutputs {
            active: n.active,
            validator_permit: n.validator_permit,
            stake_weight: n.stake_weight,
            consensus: n.consensus,
            incentive: n.incentive,
            dividends: n.dividends,
            validator_trust: n.validator_trust,
            emission: n.emission,
        }
    }
    /// Copies the outputs into a neuron.
    pub fn apply(&self, n: &mut Neuron) {
        n.active = self.active;
        n.validator_permit = self.validator_permit;
        n.stake_weight = self.stake_weight;
        n.consensus = self.consensus;
        n.incentive = self.incentive;
        n.dividends = self.dividends;
        n.validator_trust = self.validator_trust;
        n.emission = self.emission;
    }
    /// Appends the entry to `out`.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.active) | (u8::from(self.validator_permit) << 1));
        for v in [
            self.stake_weight,
            self.consensus,
            self.incentive,
            self.dividends,
            self.validator_trust,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.emission.to_le_bytes());
    }
    /// Entry `uid` of an outputs vector; `None` past its end.
    pub fn decode_at(bytes: &[u8], uid: Uid) -> Option<NeuronOutputs> {
        let start = usize::from(uid) * OUTPUT_LEN;
        let e = bytes.get(start..start + OUTPUT_LEN)?;
        let u = |i: usize| u16::from_le_bytes([e[1 + 2 * i], e[2 + 2 * i]]);
        let mut em = [0u8; 8];
        em.copy_from_slice(&e[11..19]);
        Some(NeuronOutputs {
            active: e[0] & 1 != 0,
            validator_permit: e[0] & 2 != 0,
            stake_weight: u(0),
            consensus: u(1),
            incentive: u(2),
            dividends: u(3),
            validator_trust: u(4),
            emission: u64::from_le_bytes(em),
        })
    }
}

/// The registration fields of a neuron (the per-UID key's value).
#[derive(Encode, Decode)]
struct NeuronRecord {
    hotkey: AccountId,
    block_at_registration: BlockNumber,
    last_update: BlockNumber,
    axon: Option<AxonInfo>,
}

impl NeuronRecord {
    fn of(n: &Neuron) -> NeuronRecord {
        NeuronRecord {
            hotkey: n.hotkey,
            block_at_registration: n.block_at_registration,
            last_update: n.last_update,
            axon: n.axon.clone(),
        }
    }
    fn with(self, o: NeuronOutputs) -> Neuron {
        let mut n = Neuron {
            hotkey: self.hotkey,
            block_at_registration: self.block_at_registration,
            last_update: self.last_update,
            active: false,
            validator_permit: false,
            stake_weight: 0,
            consensus: 0,
            incentive: 0,
            dividends: 0,
            validator_trust: 0,
            emission: 0,
            axon: self.axon,
        };
        o.apply(&mut n);
        n
    }
}

/// Tag byte of the dense row format.
const DENSE_ROW: u8 = 1;

/// Encodes a weights/bonds row in the shorter of two formats:
/// - sparse: 4 bytes per entry, `uid` then `value`, each u16 little-endian, no length prefix
///   (length a multiple of 4);
/// - dense, when the uids are strictly ascending and it is shorter:
///   `0x01 ‖ m: u16 LE ‖ m values u16 LE ‖ presence bitmap` for uids `0 … m − 1` with `m` =
///   the last uid + 1; an absent uid has value 0 and its bit (bit `u % 8` of bitmap byte
///   `u / 8`, `⌈m/8⌉` bytes) clear, so explicit zero entries survive. One zero byte is
///   appended when the length would otherwise be a multiple of 4. A row on most UIDs (Yuma
///   bonds and weights on every UID) takes a little over half the bytes.
pub fn encode_row(row: &[(u16, u16)]) -> Vec<u8> {
    let m = row.last().map_or(0, |(u, _)| usize::from(*u) + 1);
    let dense_len = 3 + 2 * m + m.div_ceil(8);
    if dense_len < 4 * row.len() {
        if let Some(v) = encode_dense(row, m, dense_len) {
            return v;
        }
    }
    let mut v = Vec::with_capacity(row.len() * 4);
    for (u, w) in row {
        v.extend_from_slice(&u.to_le_bytes());
        v.extend_from_slice(&w.to_le_bytes());
    }
    v
}

/// The dense format of a row whose last uid is `m − 1`; `None` unless its uids are strictly
/// ascending. The row is taken run by run of consecutive uids (rows on most UIDs are a few
/// long runs): each run's values in one pass, its bits a byte at a time; a run starting
/// below the end of the previous one means the row is not ascending.
fn encode_dense(row: &[(u16, u16)], m: usize, dense_len: usize) -> Option<Vec<u8>> {
    let pad = usize::from(dense_len.is_multiple_of(4));
    let mut v = vec![0u8; dense_len + pad];
    v[0] = DENSE_ROW;
    v[1..3].copy_from_slice(&(m as u16).to_le_bytes());
    let (values, bitmap) = v[3..dense_len].split_at_mut(2 * m);
    let mut a = 0;
    let mut free_from = 0;
    while a < row.len() {
        let u0 = usize::from(row[a].0);
        if u0 < free_from {
            return None;
        }
        let run = &row[a..a + run_len(&row[a..])];
        let dst = values.get_mut(2 * u0..2 * (u0 + run.len()))?;
        for (c, (_, w)) in dst.chunks_exact_mut(2).zip(run) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        set_bits(bitmap, u0, u0 + run.len());
        free_from = u0 + run.len();
        a += run.len();
    }
    Some(v)
}

/// How many entries at the start of `rest` have consecutive uids (`rest[k].0 = rest[0].0 +
/// k`), compared 16 at a time while whole blocks match.
fn run_len(rest: &[(u16, u16)]) -> usize {
    let Some(first) = rest.first() else {
        return 0;
    };
    let u0 = usize::from(first.0);
    let mut len = 0;
    for block in rest.chunks_exact(16) {
        let whole = block.iter().enumerate().fold(true, |ok, (k, (u, _))| {
            ok & (usize::from(*u) == u0 + len + k)
        });
        if !whole {
            break;
        }
        len += 16;
    }
    while rest
        .get(len)
        .is_some_and(|(u, _)| usize::from(*u) == u0 + len)
    {
        len += 1;
    }
    len
}

/// Sets bits `from … to − 1` of a bitmap (bit `u % 8` of byte `u / 8`); bits past its end are
/// ignored.
fn set_bits(bitmap: &mut [u8], from: usize, to: usize) {
    let mut u = from;
    while u < to && !u.is_multiple_of(8) {
        if let Some(b) = bitmap.get_mut(u / 8) {
            *b |= 1 << (u % 8);
        }
        u += 1;
    }
    let whole = (to - u) / 8;
    if let Some(bytes) = bitmap.get_mut(u / 8..u / 8 + whole) {
        bytes.fill(0xFF);
    }
    u += 8 * whole;
    while u < to {
        if let Some(b) = bitmap.get_mut(u / 8) {
            *b |= 1 << (u % 8);
        }
        u += 1;
    }
}

/// Decodes [`encode_row`]; `None` for a length or tag that is neither format.
pub fn decode_row(bytes: &[u8]) -> Option<Vec<(u16, u16)>> {
    if bytes.len() & 3 == 0 {
        return Some(
            bytes
                .chunks_exact(4)
                .map(|c| {
                    (
                        u16::from_le_bytes([c[0], c[1]]),
                        u16::from_le_bytes([c[2], c[3]]),
                    )
                })
                .collect(),
        );
    }
    let (&tag, rest) = bytes.split_first()?;
    let m = usize::from(u16::from_le_bytes([*rest.first()?, *rest.get(1)?]));
    let len = 3 + 2 * m + m.div_ceil(8);
    let padded = len + usize::from(len.is_multiple_of(4));
    if tag != DENSE_ROW || bytes.len() != padded {
        return None;
    }
    let values = &bytes[3..3 + 2 * m];
    let bitmap = &bytes[3 + 2 * m..len];
    let mut out = Vec::with_capacity(m);
    let mut b = 0;
    while let Some(&bits) = bitmap.get(b) {
        if bits == 0xFF {
            // A run of whole bytes of present uids (a row on most UIDs): one pass.
            let run = bitmap[b..].iter().take_while(|x| **x == 0xFF).count();
            let (base, end) = (8 * b, 8 * (b + run));
            let vals = values.get(2 * base..2 * end)?;
            out.extend(
                vals.chunks_exact(2)
                    .enumerate()
                    .map(|(i, c)| ((base + i) as u16, u16::from_le_bytes([c[0], c[1]]))),
            );
            b += run;
            continue;
        }
        let base = 8 * b;
        let mut bits = bits;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let c = values.get(2 * (base + i)..2 * (base + i) + 2)?;
            out.push(((base + i) as u16, u16::from_le_bytes([c[0], c[1]])));
        }
        b += 1;
    }
    Some(out)
}

/// Key constructors (see the module table).
pub mod keys {
    use super::*;

    /// Chain config.
    pub const CONFIG: &[u8] = b"gcfg";
    /// Ledger totals.
    pub const TOTALS: &[u8] = b"gtot";
    /// Last block info.
    pub const BLOCK: &[u8] = b"gblk";
    /// Prefix of accounts.
    pub const ACCOUNT: u8 = b'a';
    /// Prefix of hotkeys.
    pub const HOTKEY: u8 = b'h';
    /// Prefix of stakes.
    pub const STAKE: u8 = b's';
    /// Prefix of subnets.
    pub const SUBNET: u8 = b'n';
    /// Prefix of neurons.
    pub const NEURON: u8 = b'u';
    /// Prefix of hotkey→uid.
    pub const UID: u8 = b'k';
    /// Prefix of weights.
    pub const WEIGHTS: u8 = b'w';
    /// Prefix of bonds.
    pub const BONDS: u8 = b'b';
    /// Prefix of commits.
    pub const COMMITS: u8 = b'c';
    /// Prefix of the per-subnet epoch outputs vector.
    pub const OUTPUTS: u8 = b'o';

    fn k(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
        v.push(prefix);
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    }
    /// Account key.
    pub fn account(a: &AccountId) -> Vec<u8> {
        k(ACCOUNT, &[&a.0])
    }
    /// Hotkey key.
    pub fn hotkey(h: &AccountId) -> Vec<u8> {
        k(HOTKEY, &[&h.0])
    }
    /// Stake key.
    pub fn stake(h: &AccountId, c: &AccountId) -> Vec<u8> {
        k(STAKE, &[&h.0, &c.0])
    }
    /// Prefix of all stakes on a hotkey.
    pub fn stake_prefix(h: &AccountId) -> Vec<u8> {
        k(STAKE, &[&h.0])
    }
    /// Subnet key.
    pub fn subnet(n: NetUid) -> Vec<u8> {
        k(SUBNET, &[&n.to_be_bytes()])
    }
    /// Neuron key.
    pub fn neuron(n: NetUid, uid: Uid) -> Vec<u8> {
        k(NEURON, &[&n.to_be_bytes(), &uid.to_be_bytes()])
    }
    /// Epoch outputs vector key (one per subnet).
    pub fn outputs(n: NetUid) -> Vec<u8> {
        k(OUTPUTS, &[&n.to_be_bytes()])
    }
    /// Hotkey→uid key.
    pub fn uid(n: NetUid, h: &AccountId) -> Vec<u8> {
        k(UID, &[&n.to_be_bytes(), &h.0])
    }
    /// Weights row key.
    pub fn weights(n: NetUid, uid: Uid) -> Vec<u8> {
        k(WEIGHTS, &[&n.to_be_bytes(), &uid.to_be_bytes()])
    }
    /// Bonds row key.
    pub fn bonds(n: NetUid, uid: Uid) -> Vec<u8> {
        k(BONDS, &[&n.to_be_bytes(), &uid.to_be_bytes()])
    }
    /// Commits key.
    pub fn commits(n: NetUid, h: &AccountId) -> Vec<u8> {
        k(COMMITS, &[&n.to_be_bytes(), &h.0])
    }
}

/// Typed reads and writes over an [`Overlay`]. A value that does not decode is reported as a
/// store error (corrupt state) and read as absent.
///
/// The chain config and the ledger totals are cached: the config is re-read after a write to
/// it or a rollback; the totals live in memory and are written once by
/// [`State::into_changes`]. Use [`State::commit_tx`] / [`State::rollback_tx`] (not the
/// overlay's) so the caches follow.
pub struct State<'a> {
    /// The overlay.
    pub overlay: Overlay<'a>,
    cfg: RefCell<Option<ChainConfig>>,
    totals: RefCell<Option<Totals>>,
    committed_totals: Option<Totals>,
}

impl<'a> State<'a> {
    /// Wraps an overlay.
    pub fn new(overlay: Overlay<'a>) -> State<'a> {
        State {
            overlay,
            cfg: RefCell::new(None),
            totals: RefCell::new(None),
            committed_totals: None,
        }
    }

    /// Keeps the current transaction's writes.
    pub fn commit_tx(&mut self) {
        self.overlay.commit_tx();
        self.committed_totals = *self.totals.get_mut();
    }

    /// Drops the current transaction's writes.
    pub fn rollback_tx(&mut self) {
        self.overlay.rollback_tx();
        *self.totals.get_mut() = self.committed_totals;
        *self.cfg.get_mut() = None;
    }

    /// Flushes the totals and returns every change (see [`Overlay::into_changes`]).
    pub fn into_changes(mut self) -> Result<crate::store::StateChanges, StoreError> {
        if let Some(t) = *self.totals.get_mut() {
            self.overlay.put(keys::TOTALS.to_vec(), t.encode());
        }
        self.overlay.into_changes()
    }

    /// Reads and decodes.
    pub fn get<T: Decode>(&self, key: &[u8]) -> Option<T> {
        match self
            .overlay
            .read(key, |b| b.map(|mut b| T::decode(&mut b)))?
        {
            Ok(v) => Some(v),
            Err(e) => {
                self.overlay.fail(StoreError(format!(
                    "corrupt value under key {key:02x?}: {e}"
                )));
                None
            }
        }
    }
    /// Encodes and writes.
    pub fn put<T: Encode>(&mut self, key: Vec<u8>, v: &T) {
        if key == keys::CONFIG {
            *self.cfg.get_mut() = None;
        }
        self.overlay.put(key, v.encode());
    }
    /// Deletes.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.overlay.delete(key);
    }

    /// Chain config (a default with a zero root if genesis never wrote it).
    pub fn config(&self) -> ChainConfig {
        if let Some(c) = self.cfg.borrow().as_ref() {
            return c.clone();
        }
        let c: ChainConfig = self
            .get(keys::CONFIG)
            .unwrap_or_else(|| ChainConfig::with_root(AccountId([0; 32])));
        *self.cfg.borrow_mut() = Some(c.clone());
        c
    }
    /// Ledger totals.
    pub fn totals(&self) -> Totals {
        if let Some(t) = *self.totals.borrow() {
            return t;
        }
        let t: Totals = self.get(keys::TOTALS).unwrap_or_default();
        *self.totals.borrow_mut() = Some(t);
        t
    }
    /// Writes ledger totals (in memory until [`State::into_changes`]).
    pub fn set_totals(&mut self, t: &Totals) {
        *self.totals.get_mut() = Some(*t);
    }
    /// An account (default if absent).
    pub fn account(&self, a: &AccountId) -> AccountInfo {
        self.get(&keys::account(a)).unwrap_or_default()
    }
    /// Writes an account; an empty account (nonce 0, no balance) is deleted.
    pub fn set_account(&mut self, a: &AccountId, info: &AccountInfo) {
        if info.nonce == 0 && info.free == 0 {
            self.delete(keys::account(a));
        } else {
            self.put(keys::account(a), info);
        }
    }
    /// A hotkey.
    pub fn hotkey(&self, h: &AccountId) -> Option<HotkeyInfo> {
        self.get(&keys::hotkey(h))
    }
    /// The stake of coldkey `c` on hotkey `h` (0 if none): the owner's is in the hotkey
    /// record, a nominator's under its own key.
    pub fn stake(&self, h: &AccountId, c: &AccountId) -> Balance {
        match self.hotkey(h) {
            Some(hk) if hk.owner == *c => hk.owner_stake,
            Some(hk) if hk.nominators == 0 => 0,
            _ => self.nominator_stake(h, c),
        }
    }
    /// A nominator's stake entry (0 if absent; never the owner's, see [`State::stake`]).
    pub fn nominator_stake(&self, h: &AccountId, c: &AccountId) -> Balance {
        self.get(&keys::stake(h, c)).unwrap_or(0)
    }
    /// A subnet.
    pub fn subnet(&self, n: NetUid) -> Option<SubnetInfo> {
        self.get(&keys::subnet(n))
    }
    /// Writes a subnet.
    pub fn set_subnet(&mut self, s: &SubnetInfo) {
        self.put(keys::subnet(s.netuid), s);
    }
    /// All netuids, ascending.
    pub fn netuids(&self) -> Vec<NetUid> {
        self.overlay
            .scan_prefix(&[keys::SUBNET])
            .into_iter()
            .filter_map(|(k, _)| Some(u16::from_be_bytes([*k.get(1)?, *k.get(2)?])))
            .collect()
    }
    /// A neuron.
    pub fn neuron(&self, n: NetUid, uid: Uid) -> Option<Neuron> {
        let rec: NeuronRecord = self.get(&keys::neuron(n, uid))?;
        let outs = self.overlay.get(&keys::outputs(n)).unwrap_or_default();
        Some(rec.with(NeuronOutputs::decode_at(&outs, uid).unwrap_or_default()))
    }
    /// Writes a neuron (its registration fields under its own key, its outputs into the
    /// subnet's outputs vector; each only if changed).
    pub fn set_neuron(&mut self, n: NetUid, uid: Uid, v: &Neuron) {
        let key = keys::neuron(n, uid);
        let rec = NeuronRecord::of(v).encode();
        if self.overlay.get(&key).as_deref() != Some(rec.as_slice()) {
            self.overlay.put(key, rec);
        }
        let o = NeuronOutputs::of(v);
        let mut outs = self.overlay.get(&keys::outputs(n)).unwrap_or_default();
        if NeuronOutputs::decode_at(&outs, uid) == Some(o) {
            return;
        }
        let start = usize::from(uid) * OUTPUT_LEN;
        if outs.len() < start + OUTPUT_LEN {
            outs.resize(start + OUTPUT_LEN, 0);
        }
        let mut e = Vec::with_capacity(OUTPUT_LEN);
        o.encode_to(&mut e);
        outs[start..start + OUTPUT_LEN].copy_from_slice(&e);
        self.overlay.put(keys::outputs(n), outs);
    }
    /// Writes the epoch outputs of UIDs `0..outs.len()` of a subnet as one value (entries past
    /// them are kept), if changed.
    pub fn set_outputs(&mut self, n: NetUid, outs: &[NeuronOutputs]) {
        let key = keys::outputs(n);
        let old = self.overlay.get(&key).unwrap_or_default();
        let mut v = Vec::with_capacity(old.len().max(outs.len() * OUTPUT_LEN));
        for o in outs {
            o.encode_to(&mut v);
        }
        if let Some(rest) = old.get(v.len()..) {
            v.extend_from_slice(rest);
        }
        if v != old {
            self.overlay.put(key, v);
        }
    }
    /// UID of a hotkey on a subnet.
    pub fn uid_of(&self, n: NetUid, h: &AccountId) -> Option<Uid> {
        self.get(&keys::uid(n, h))
    }
    fn row(&self, key: &[u8]) -> Vec<(u16, u16)> {
        let Some(bytes) = self.overlay.get(key) else {
            return Vec::new();
        };
        match decode_row(&bytes) {
            Some(r) => r,
            None => {
                self.overlay
                    .fail(StoreError(format!("corrupt row under key {key:02x?}")));
                Vec::new()
            }
        }
    }
    fn set_row(&mut self, key: Vec<u8>, row: &[(u16, u16)]) {
        if row.is_empty() {
            self.delete(key);
        } else {
            self.overlay.put(key, encode_row(row));
        }
    }
    /// Weights row.
    pub fn weights(&self, n: NetUid, uid: Uid) -> Vec<(u16, u16)> {
        self.row(&keys::weights(n, uid))
    }
    /// Writes a weights row (empty = delete).
    pub fn set_weights(&mut self, n: NetUid, uid: Uid, row: &[(u16, u16)]) {
        self.set_row(keys::weights(n, uid), row);
    }
    /// Bonds row.
    pub fn bonds(&self, n: NetUid, uid: Uid) -> Vec<(u16, u16)> {
        self.row(&keys::bonds(n, uid))
    }
    /// Writes a bonds row (empty = delete).
    pub fn set_bonds(&mut self, n: NetUid, uid: Uid, row: &[(u16, u16)]) {
        self.set_row(keys::bonds(n, uid), row);
    }
    /// Pending commits.
    pub fn commits(&self, n: NetUid, h: &AccountId) -> Vec<WeightCommit> {
        self.get(&keys::commits(n, h)).unwrap_or_default()
    }
    /// Writes pending commits (empty = delete).
    pub fn set_commits(&mut self, n: NetUid, h: &AccountId, c: &Vec<WeightCommit>) {
        if c.is_empty() {
            self.delete(keys::commits(n, h));
        } else {
            self.put(keys::commits(n, h), c);
        }
    }
    /// Every neuron of a subnet by one prefix scan: `result[uid]`, `None` for a missing uid.
    pub fn neurons(&self, n: NetUid, count: u16) -> Vec<Option<Neuron>> {
        let mut out = vec![None; usize::from(count)];
        let mut prefix = vec![keys::NEURON];
        prefix.extend_from_slice(&n.to_be_bytes());
        let outs = self.overlay.get(&keys::outputs(n)).unwrap_or_default();
        self.overlay.for_each_prefix(&prefix, &mut |k, mut v| {
            let Some(uid) = k.get(3..5).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
                return;
            };
            match NeuronRecord::decode(&mut v) {
                Ok(rec) => {
                    if let Some(slot) = out.get_mut(usize::from(uid)) {
                        let o = NeuronOutputs::decode_at(&outs, uid).unwrap_or_default();
                        *slot = Some(rec.with(o));
                    }
                }
                Err(e) => self
                    .overlay
                    .fail(StoreError(format!("corrupt neuron {n}/{uid}: {e}"))),
            }
        });
        out
    }

    /// What an epoch reads of every neuron of a subnet, by one prefix scan that decodes only
    /// the leading fields of each record (not its axon): `result[uid]`, a default entry for a
    /// missing uid.
    pub fn epoch_neurons(&self, n: NetUid, count: u16) -> Vec<EpochNeuron> {
        let mut out = vec![EpochNeuron::default(); usize::from(count)];
        let mut prefix = vec![keys::NEURON];
        prefix.extend_from_slice(&n.to_be_bytes());
        let mut bad = None;
        self.overlay.for_each_prefix(&prefix, &mut |k, v| {
            let Some(uid) = k
                .get(3..5)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            else {
                return;
            };
            // hotkey (32 bytes), block at registration and last update (u64 LE each).
            let (Some(h), Some(reg), Some(upd)) = (v.get(..32), v.get(32..40), v.get(40..48))
            else {
                bad = Some(uid);
                return;
            };
            if let Some(slot) = out.get_mut(uid) {
                let mut hk = [0u8; 32];
                hk.copy_from_slice(h);
                let u64_at = |b: &[u8]| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    u64::from_le_bytes(a)
                };
                slot.hotkey = AccountId(hk);
                slot.block_at_registration = u64_at(reg);
                slot.last_update = u64_at(upd);
            }
        });
        if let Some(uid) = bad {
            self.overlay
                .fail(StoreError(format!("corrupt neuron {n}/{uid}")));
        }
        self.overlay.read(&keys::outputs(n), |outs| {
            let outs = outs.unwrap_or_default();
            for (e, slot) in outs.chunks_exact(OUTPUT_LEN).zip(out.iter_mut()) {
                slot.validator_permit = e[0] & 2 != 0;
            }
        });
        out
    }

    /// All weight (`bonds = false`) or bond rows of a subnet by one prefix scan.
    pub fn rows(&self, n: NetUid, count: u16, bonds: bool) -> Vec<Vec<(u16, u16)>> {
        let mut out = vec![Vec::new(); usize::from(count)];
        let mut prefix = vec![if bonds { keys::BONDS } else { keys::WEIGHTS }];
        prefix.extend_from_slice(&n.to_be_bytes());
        self.overlay.for_each_prefix(&prefix, &mut |k, v| {
            let Some(uid) = k.get(3..5).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
                return;
            };
            match decode_row(v) {
                Some(row) => {
                    if let Some(slot) = out.get_mut(usize::from(uid)) {
                        *slot = row;
                    }
                }
                None => self
                    .overlay
                    .fail(StoreError(format!("corrupt row {n}/{uid}"))),
            }
        });
        out
    }

    /// Every pending-commit queue of a subnet, in key order.
    pub fn all_commits(&self, n: NetUid) -> Vec<(AccountId, Vec<WeightCommit>)> {
        let mut prefix = vec![keys::COMMITS];
        prefix.extend_from_slice(&n.to_be_bytes());
        self.overlay
            .scan_prefix(&prefix)
            .into_iter()
            .filter_map(|(k, v)| {
                let acc: [u8; 32] = k.get(3..35)?.try_into().ok()?;
                let c = Vec::<WeightCommit>::decode(&mut v.as_slice()).ok()?;
                Some((AccountId(acc), c))
            })
            .collect()
    }
    /// Every `(coldkey, stake)` with a positive stake on a hotkey, in coldkey order: the
    /// owner's (from `hk`, the hotkey's current record) and the nominators' (scanned only when
    /// the record counts any).
    pub fn stakers_of(&self, h: &AccountId, hk: &HotkeyInfo) -> Vec<(AccountId, Balance)> {
        let mut out = Vec::with_capacity(1 + hk.nominators as usize);
        if hk.owner_stake > 0 {
            out.push((hk.owner, hk.owner_stake));
        }
        if hk.nominators > 0 {
            self.overlay
                .for_each_prefix(&keys::stake_prefix(h), &mut |k, mut v| {
                    let Some(acc) = k.get(33..65).and_then(|a| <[u8; 32]>::try_from(a).ok()) else {
                        return;
                    };
                    if let Ok(s) = u64::decode(&mut v) {
                        out.push((AccountId(acc), s));
                    }
                });
            out.sort_unstable_by_key(|(c, _)| *c);
        }
        out
    }
    /// [`State::stakers_of`] reading the hotkey's record (empty for an unknown hotkey).
    pub fn stakers(&self, h: &AccountId) -> Vec<(AccountId, Balance)> {
        match self.hotkey(h) {
            Some(hk) => self.stakers_of(h, &hk),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;
    use proptest::prelude::*;

    fn outputs() -> impl Strategy<Value = NeuronOutputs> {
        (
            any::<(bool, bool, u16, u16, u16)>(),
            any::<(u16, u16, u64)>(),
        )
            .prop_map(|((a, p, s, c, i), (d, t, e))| NeuronOutputs {
                active: a,
                validator_permit: p,
                stake_weight: s,
                consensus: c,
                incentive: i,
                dividends: d,
                validator_trust: t,
                emission: e,
            })
    }

    proptest! {
        #[test]
        fn dense_rows_match_the_format(
            values in proptest::collection::vec(0u16..4, 0..300),
            gaps in proptest::collection::vec(0usize..300, 0..6),
        ) {
            // Rows on most uids 0 … m − 1 (a few gaps, some zero values): they decode back,
            // and when dense their bytes are the ones the format prescribes entry by entry.
            let mut row: Vec<(u16, u16)> = values
                .iter()
                .enumerate()
                .map(|(i, w)| (i as u16, *w * 21_845))
                .collect();
            for g in gaps {
                if g < row.len() {
                    row.remove(g);
                }
            }
            let enc = encode_row(&row);
            prop_assert_eq!(decode_row(&enc), Some(row.clone()));
            if !enc.len().is_multiple_of(4) {
                let m = row.last().map_or(0, |(u, _)| usize::from(*u) + 1);
                let len = 3 + 2 * m + m.div_ceil(8);
                let mut v = vec![0u8; len + usize::from(len.is_multiple_of(4))];
                v[0] = DENSE_ROW;
                v[1..3].copy_from_slice(&(m as u16).to_le_bytes());
                for (u, w) in &row {
                    let u = usize::from(*u);
                    v[3 + 2 * u..5 + 2 * u].copy_from_slice(&w.to_le_bytes());
                    v[3 + 2 * m + u / 8] |= 1 << (u % 8);
                }
                prop_assert_eq!(enc, v);
            }
        }

        #[test]
        fn rows_roundtrip(
            entries in proptest::collection::vec((0u16..600, 0u16..4), 0..500),
            sorted in any::<bool>(),
            zeros in any::<bool>(),
        ) {
            // Values with or without zeros on a dense or sparse set of uids, sorted or not.
            let mut row: Vec<(u16, u16)> = entries
                .iter()
                .map(|(u, w)| (*u, if zeros { *w * 9000 } else { 1 + *w * 9000 }))
                .collect();
            if sorted {
                row.sort_unstable();
                row.dedup_by_key(|e| e.0);
            }
            let enc = encode_row(&row);
            prop_assert!(enc.len() <= 4 * row.len());
            prop_assert_eq!(decode_row(&enc), Some(row));
        }

        #[test]
        fn outputs_entry_roundtrips(os in proptest::collection::vec(outputs(), 0..20)) {
            let mut v = Vec::new();
            for o in &os {
                o.encode_to(&mut v);
            }
            prop_assert_eq!(v.len(), os.len() * OUTPUT_LEN);
            for (i, o) in os.iter().enumerate() {
                prop_assert_eq!(NeuronOutputs::decode_at(&v, i as Uid), Some(*o));
            }
            prop_assert_eq!(NeuronOutputs::decode_at(&v, os.len() as Uid), None);
        }
    }

    #[test]
    fn dense_rows_are_compact_and_checked() {
        let row: Vec<(u16, u16)> = (0..4096).map(|u| (u, 1 + u)).collect();
        let enc = encode_row(&row);
        assert_eq!(enc.len(), 3 + 2 * 4096 + 512);
        assert_eq!(decode_row(&enc), Some(row));
        for m in 1..40u16 {
            for first in 0..m {
                let full: Vec<(u16, u16)> = (first..m).map(|u| (u, u % 3)).collect();
                assert_eq!(decode_row(&encode_row(&full)), Some(full));
            }
        }
        // Explicit zeros survive; an unsorted row stays sparse.
        let with_zero = vec![(0, 5), (1, 0), (2, 7), (3, 1), (5, 0)];
        assert_eq!(encode_row(&with_zero).len(), 3 + 12 + 1 + 1); // padded
        assert_eq!(decode_row(&encode_row(&with_zero)), Some(with_zero));
        let unsorted = vec![(2, 5), (1, 1), (0, 7), (3, 1), (4, 9)];
        assert_eq!(encode_row(&unsorted).len(), 20);
        // Bad tag or length.
        assert_eq!(decode_row(&[2, 1, 0, 5, 0, 1]), None);
        assert_eq!(decode_row(&[1, 2, 0, 5, 0, 1]), None);
        assert_eq!(decode_row(&[1]), None);
        assert_eq!(decode_row(&[]), Some(vec![]));
    }

    #[test]
    fn neuron_split_storage_roundtrips() {
        let store = MemStore::default();
        let mut st = State::new(Overlay::new(&store));
        let mut a = Neuron::new(AccountId([1; 32]), 5);
        a.incentive = 7;
        a.emission = 99;
        let b = Neuron::new(AccountId([2; 32]), 6);
        st.set_neuron(3, 2, &a);
        st.set_neuron(3, 0, &b);
        assert_eq!(st.neuron(3, 2), Some(a.clone()));
        assert_eq!(st.neuron(3, 0), Some(b.clone()));
        assert_eq!(st.neuron(3, 1), None);
        assert_eq!(
            st.neurons(3, 3),
            vec![Some(b.clone()), None, Some(a.clone())]
        );
        // Writing whole-subnet outputs keeps the registration fields and later entries.
        let o = NeuronOutputs {
            dividends: 11,
            ..NeuronOutputs::default()
        };
        st.set_outputs(3, &[o]);
        let mut b2 = b.clone();
        o.apply(&mut b2);
        assert_eq!(st.neuron(3, 0), Some(b2));
        assert_eq!(st.neuron(3, 2), Some(a));
    }

    #[test]
    fn epoch_neurons_read_the_records_fields() {
        let store = MemStore::default();
        let mut st = State::new(Overlay::new(&store));
        let mut a = Neuron::new(AccountId([1; 32]), 5);
        a.last_update = 77;
        a.validator_permit = true;
        a.axon = Some(AxonInfo {
            block: 9,
            version: 1,
            ip: 0x7F00_0001,
            port: 8091,
            ip_type: 4,
            protocol: 4,
        });
        let b = Neuron::new(AccountId([2; 32]), 6);
        st.set_neuron(3, 2, &a);
        st.set_neuron(3, 0, &b);
        let proj = |n: &Neuron| EpochNeuron {
            hotkey: n.hotkey,
            block_at_registration: n.block_at_registration,
            last_update: n.last_update,
            validator_permit: n.validator_permit,
        };
        assert_eq!(
            st.epoch_neurons(3, 3),
            vec![proj(&b), EpochNeuron::default(), proj(&a)]
        );
        // A truncated record is reported as a store failure, not read as zeros.
        st.overlay.put(keys::neuron(3, 1), vec![0u8; 40]);
        let _ = st.epoch_neurons(3, 3);
        assert!(st.overlay.take_error().is_some());
    }
}
