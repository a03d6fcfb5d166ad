//! The synapse of the supervised subnet.

use serde::{Deserialize, Serialize};
use tensornet_axon::Synapse;

/// Largest batch a miner accepts in one request.
pub const MAX_BATCH: usize = 1024;

/// `SupervisedPredict`: a batch of feature rows in, one output row per sample out — one logit per
/// class (classification; the argmax is the prediction) or a single value (regression).
/// Hash fields: `dataset`, `features` (the request; the outputs are the answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupervisedPredict {
    /// Dataset name (`digits`, `breast_cancer`, `diabetes`).
    pub dataset: String,
    /// Feature rows.
    pub features: Vec<Vec<f64>>,
    /// The miner's answer: one row per input row.
    #[serde(default)]
    pub outputs: Option<Vec<Vec<f64>>>,
}

impl Synapse for SupervisedPredict {
    const NAME: &'static str = "SupervisedPredict";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["dataset", "features"];
    const REQUIRED_FIELDS: &'static [(&'static str, &'static str)] =
        &[("dataset", "\"\""), ("features", "[]")];
}
