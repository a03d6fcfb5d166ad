//! The [`Subnet`] trait a subnet author implements once: a synapse type, a miner side that
//! answers it, and a validator side that draws challenges from private data and scores answers.

pub use tensornet_axon::HandlerError;
use tensornet_axon::Synapse;
use thiserror::Error;

/// A subnet could not build its miner or validator (bad settings, training failure…).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct SubnetError(pub String);

/// Miner side: answers one request. Implementations are CPU-bound and synchronous; the
/// framework runs them off the async runtime (see [`crate::miner_axon`]).
pub trait Miner: Send + Sync + 'static {
    /// The synapse served.
    type Synapse: Synapse;

    /// Fills the response fields of `request`. An `Err` answers the caller with status 500.
    fn answer(&self, request: Self::Synapse) -> Result<Self::Synapse, HandlerError>;
}

/// Validator side: draws challenges and scores answers. Holds the validator's secret.
pub trait Validator: Send + 'static {
    /// The synapse sent.
    type Synapse: Synapse;
    /// What the validator keeps private about a challenge (the labels).
    type Challenge: Send + Sync + 'static;

    /// A fresh challenge for `round` (deterministic in the validator's secret and `round`).
    fn challenge(&mut self, round: u64) -> (Self::Synapse, Self::Challenge);

    /// One reward in [0, 1] per response, in order; `None` (a failed query) must score 0.
    fn score(&self, challenge: &Self::Challenge, responses: &[Option<Self::Synapse>]) -> Vec<f64>;
}

/// A subnet: its name, synapse, and how to build its miner and validator from settings.
pub trait Subnet: Send + Sync + 'static {
    /// Name used on the command line (`--subnet <NAME>`).
    const NAME: &'static str;
    /// The synapse miners serve and validators send.
    type Synapse: Synapse;
    /// Miner settings (model size, training budget…).
    type MinerConfig: Clone + Send + Sync + 'static;
    /// Validator settings (batch size…).
    type ValidatorConfig: Clone + Send + Sync + 'static;
    /// The miner.
    type Miner: Miner<Synapse = Self::Synapse>;
    /// The validator.
    type Validator: Validator<Synapse = Self::Synapse>;

    /// Loads or trains the miner's model (runs once at start-up).
    fn miner(config: &Self::MinerConfig) -> Result<Self::Miner, SubnetError>;

    /// Builds the validator; `secret` is private to this validator and keys its challenges.
    fn validator(
        config: &Self::ValidatorConfig,
        secret: [u8; 32],
    ) -> Result<Self::Validator, SubnetError>;
}
