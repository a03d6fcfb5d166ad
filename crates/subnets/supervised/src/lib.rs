//! # tensornet-subnet-supervised
//!
//! The supervised-learning subnet (issue 7, point 2): miners learn a function from public
//! training data, validators measure it on data the miners never saw.
//!
//! What it owns:
//! - [`data`]: the datasets `digits`, `breast_cancer` (classification) and `diabetes`
//!   (regression), embedded in the binary by smartcore, with a fixed seeded split: 80 % public
//!   training data, 20 % held out;
//! - [`transform`]: the validator's secret, per-round, label-preserving transformation of
//!   held-out samples (digits: random shift of up to one pixel plus noise; tabular: noise of 10 %
//!   of each feature's standard deviation);
//! - [`synapse`]: the [`SupervisedPredict`] synapse (a batch of rows in, logits or predictions
//!   out);
//! - [`model`]: the candle MLP miners train at start-up ([`MlpConfig`]: hidden size, epochs,
//!   training-subset size, …; four reference presets of clearly different quality);
//! - [`miner`]: [`MlpMiner`] and the cheating [`MemorisingMiner`];
//! - [`mod@reward`]: accuracy or 1 − normalised MSE, in [0, 1];
//! - [`SupervisedValidator`] and the [`Supervised`] implementation of [`Subnet`].
//!
//! Invariants: a challenge depends only on the validator's secret and the round number (the
//! secret keys a ChaCha20 stream, the round selects the stream); every reward is in [0, 1]; a
//! missing or malformed answer scores 0.

pub mod data;
pub mod miner;
pub mod model;
pub mod reward;
pub mod synapse;
pub mod transform;

pub use data::{Dataset, DatasetName, Samples, Task, UnknownDataset};
pub use miner::{MemorisingMiner, MlpMiner};
pub use model::{Mlp, MlpConfig, ModelError};
pub use reward::reward;
pub use synapse::SupervisedPredict;

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use tensornet_subnet::{Subnet, SubnetError, Validator};

/// Default number of held-out samples per challenge.
pub const DEFAULT_BATCH: usize = 100;

/// Validator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatorConfig {
    /// The dataset.
    pub dataset: DatasetName,
    /// Samples per challenge (at most the held-out size).
    pub batch_size: usize,
}

/// Miner settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerConfig {
    /// The dataset.
    pub dataset: DatasetName,
    /// The model.
    pub mlp: MlpConfig,
}

/// The private part of a challenge: the true labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels(pub Vec<f32>);

/// The validator: draws transformed held-out samples, scores answers.
#[derive(Debug, Clone)]
pub struct SupervisedValidator {
    dataset: Arc<Dataset>,
    secret: [u8; 32],
    batch_size: usize,
}

impl SupervisedValidator {
    /// A validator on `dataset` with its `secret`; `batch_size` is clamped to 1..=held-out size.
    pub fn new(dataset: Arc<Dataset>, secret: [u8; 32], batch_size: usize) -> Self {
        let batch_size = batch_size.clamp(1, dataset.held_out.len().max(1));
        SupervisedValidator {
            dataset,
            secret,
            batch_size,
        }
    }

    /// The dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Samples per challenge.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}

impl Validator for SupervisedValidator {
    type Synapse = SupervisedPredict;
    type Challenge = Labels;

    fn challenge(&mut self, round: u64) -> (SupervisedPredict, Labels) {
        let mut rng = ChaCha20Rng::from_seed(self.secret);
        rng.set_stream(round);
        let held = &self.dataset.held_out;
        let picks = sample(&mut rng, held.len(), self.batch_size.min(held.len()));
        let mut features = Vec::with_capacity(picks.len());
        let mut labels = Vec::with_capacity(picks.len());
        for i in picks.iter() {
            let x = transform::transform(&self.dataset, &held.x[i], &mut rng);
            features.push(x.into_iter().map(f64::from).collect());
            labels.push(held.y[i]);
        }
        (
            SupervisedPredict {
                dataset: self.dataset.name.as_str().to_string(),
                features,
                outputs: None,
            },
            Labels(labels),
        )
    }

    fn score(&self, challenge: &Labels, responses: &[Option<SupervisedPredict>]) -> Vec<f64> {
        responses
            .iter()
            .map(|r| {
                reward(
                    self.dataset.task,
                    &challenge.0,
                    r.as_ref().and_then(|s| s.outputs.as_deref()),
                    self.dataset.target_variance,
                )
            })
            .collect()
    }
}

/// The supervised-learning subnet.
#[derive(Debug, Clone, Copy, Default)]
pub struct Supervised;

impl Subnet for Supervised {
    const NAME: &'static str = "supervised";
    type Synapse = SupervisedPredict;
    type MinerConfig = MinerConfig;
    type ValidatorConfig = ValidatorConfig;
    type Miner = MlpMiner;
    type Validator = SupervisedValidator;

    fn miner(config: &MinerConfig) -> Result<MlpMiner, SubnetError> {
        let data = Dataset::load(config.dataset);
        MlpMiner::train(&data, &config.mlp).map_err(|e| SubnetError(e.to_string()))
    }

    fn validator(
        config: &ValidatorConfig,
        secret: [u8; 32],
    ) -> Result<SupervisedValidator, SubnetError> {
        if config.batch_size == 0 {
            return Err(SubnetError("batch size must be at least 1".to_string()));
        }
        Ok(SupervisedValidator::new(
            Arc::new(Dataset::load(config.dataset)),
            secret,
            config.batch_size,
        ))
    }
}
