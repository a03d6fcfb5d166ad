//! Inputs and outputs of one epoch, in the integer form the chain stores (the schema of
//! `tests/vectors/yuma/README.md`). Serde field names equal the conformance JSON names.

use serde::{Deserialize, Serialize};

/// One sparse row of a weight or bond matrix: `(column uid, value)` pairs.
pub type SparseRow = Vec<(u16, u16)>;

/// The subnet hyperparameters the epoch reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Consensus majority; the fraction is `kappa / 65535`.
    pub kappa: u16,
    /// Parts per million; the EMA rate is `1 - bonds_moving_average / 1_000_000`.
    pub bonds_moving_average: u64,
    /// Fraction `bonds_penalty / 65535` of clipping applied to the weights used for bonds.
    pub bonds_penalty: u16,
    /// Yuma 3 bonds and dividends when true, Yuma 2 otherwise.
    pub yuma3_enabled: bool,
    /// Per-entry (liquid alpha) EMA rate; only has an effect with Yuma 3.
    pub liquid_alpha_enabled: bool,
    /// Liquid alpha lower bound, `/ 65535`.
    pub alpha_low: u16,
    /// Liquid alpha upper bound, `/ 65535`.
    pub alpha_high: u16,
    /// Liquid alpha sigmoid steepness.
    pub alpha_sigmoid_steepness: i16,
    /// `k` of the top-k validator permit selection.
    pub max_allowed_validators: u16,
    /// Stakes below this (in rao) count as 0, except the owner's.
    pub stake_threshold: u64,
}

/// Everything one epoch of one subnet reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochInputs {
    /// Number of registered UIDs; every per-UID vector has this length.
    pub n: u16,
    /// Block at which the epoch runs.
    pub current_block: u64,
    /// Subnet tempo in blocks.
    pub tempo: u16,
    /// Block of the previous successful epoch; 0 means none.
    pub last_mechanism_step_block: u64,
    /// Activity cutoff in blocks, already resolved.
    pub activity_cutoff: u64,
    /// Rao to distribute in this epoch.
    pub rao_emission: u64,
    /// Hyperparameters.
    pub hyperparameters: Hyperparameters,
    /// UID of the subnet owner's hotkey, if registered.
    pub owner_uid: Option<u16>,
    /// Stake weight of each UID, in rao.
    pub stake: Vec<u64>,
    /// Block of each UID's last weight submission.
    pub last_update: Vec<u64>,
    /// Block of each UID's latest (re)registration.
    pub block_at_registration: Vec<u64>,
    /// Permits written by the previous epoch.
    pub validator_permit: Vec<bool>,
    /// Stored weight rows, one per UID.
    pub weights: Vec<SparseRow>,
    /// Stored bond rows written by the previous epoch, one per UID.
    pub bonds: Vec<SparseRow>,
}

/// Values the chain computed in earlier versions and no longer stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyOutputs {
    /// Normalised rank (equal to incentive).
    pub rank: Vec<u16>,
    /// Clipped rank over unclipped rank, per column.
    pub trust: Vec<u16>,
    /// Combined emission share, max-upscaled.
    pub pruning_scores: Vec<u16>,
}

/// Everything one epoch writes back, per UID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutputs {
    /// `last_update + activity_cutoff >= current_block`.
    pub active: Vec<bool>,
    /// New validator permits.
    pub validator_permit: Vec<bool>,
    /// Normalised stake after the threshold filter, as a u16 proportion.
    pub stake_weight: Vec<u16>,
    /// Stake-weighted median weight per column.
    pub consensus: Vec<u16>,
    /// Normalised rank from clipped weights.
    pub incentive: Vec<u16>,
    /// Normalised dividends.
    pub dividends: Vec<u16>,
    /// Sum of each validator's clipped normalised weights.
    pub validator_trust: Vec<u16>,
    /// Rao paid for incentive.
    pub server_emission: Vec<u64>,
    /// Rao paid for dividends.
    pub validator_emission: Vec<u64>,
    /// Combined per-UID emission the chain records.
    pub emission: Vec<u64>,
    /// The complete bond storage after the epoch, one row per UID.
    pub bonds: Vec<SparseRow>,
    /// Optional legacy values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyOutputs>,
}
