//! Miners: the honest MLP miner and the memorising miner used to show that memorising the
//! held-out split gains nothing.

use crate::data::{Dataset, DatasetName, Task};
use crate::model::{Mlp, MlpConfig, ModelError};
use crate::synapse::{SupervisedPredict, MAX_BATCH};
use std::collections::HashMap;
use tensornet_subnet::{HandlerError, Miner};

fn check_request(dataset: DatasetName, request: &SupervisedPredict) -> Result<(), HandlerError> {
    if request.dataset != dataset.as_str() {
        return Err(HandlerError(format!(
            "this miner serves dataset `{dataset}`, not `{}`",
            request.dataset
        )));
    }
    if request.features.len() > MAX_BATCH {
        return Err(HandlerError(format!(
            "batch of {} rows exceeds {MAX_BATCH}",
            request.features.len()
        )));
    }
    Ok(())
}

/// A miner that trains an MLP at start-up and answers with its outputs.
#[derive(Debug)]
pub struct MlpMiner {
    dataset: DatasetName,
    model: Mlp,
}

impl MlpMiner {
    /// Trains on `dataset`'s public split with `config`.
    pub fn train(dataset: &Dataset, config: &MlpConfig) -> Result<Self, ModelError> {
        Ok(MlpMiner {
            dataset: dataset.name,
            model: Mlp::train(dataset, config)?,
        })
    }

    /// The trained model.
    pub fn model(&self) -> &Mlp {
        &self.model
    }
}

impl Miner for MlpMiner {
    type Synapse = SupervisedPredict;

    fn answer(&self, mut request: SupervisedPredict) -> Result<SupervisedPredict, HandlerError> {
        check_request(self.dataset, &request)?;
        let out = self
            .model
            .predict(&request.features)
            .map_err(|e| HandlerError(e.to_string()))?;
        request.outputs = Some(out);
        Ok(request)
    }
}

/// A cheating miner: a lookup table from every held-out sample (exact feature values) to its
/// label. Unknown inputs get a constant guess (class 0, or the held-out mean).
#[derive(Debug, Clone)]
pub struct MemorisingMiner {
    dataset: DatasetName,
    task: Task,
    table: HashMap<Vec<u64>, f32>,
    fallback: f32,
}

fn key(row: &[f64]) -> Vec<u64> {
    row.iter().map(|v| (*v as f32 as f64).to_bits()).collect()
}

impl MemorisingMiner {
    /// Memorises `dataset.held_out` (and, for good measure, the training split).
    pub fn new(dataset: &Dataset) -> Self {
        let mut table = HashMap::new();
        for s in [&dataset.train, &dataset.held_out] {
            for (x, y) in s.x.iter().zip(&s.y) {
                let row: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
                table.insert(key(&row), *y);
            }
        }
        let n = dataset.held_out.len().max(1) as f32;
        let fallback = match dataset.task {
            Task::Regression => dataset.held_out.y.iter().sum::<f32>() / n,
            Task::Classification { .. } => 0.0,
        };
        MemorisingMiner {
            dataset: dataset.name,
            task: dataset.task,
            table,
            fallback,
        }
    }

    /// How many of `rows` are in the table.
    pub fn hits(&self, rows: &[Vec<f64>]) -> usize {
        rows.iter()
            .filter(|r| self.table.contains_key(&key(r)))
            .count()
    }
}

impl Miner for MemorisingMiner {
    type Synapse = SupervisedPredict;

    fn answer(&self, mut request: SupervisedPredict) -> Result<SupervisedPredict, HandlerError> {
        check_request(self.dataset, &request)?;
        let out = request
            .features
            .iter()
            .map(|r| {
                let y = self.table.get(&key(r)).copied().unwrap_or(self.fallback);
                match self.task {
                    Task::Classification { classes } => (0..classes)
                        .map(|c| if c == y as usize { 1.0 } else { 0.0 })
                        .collect(),
                    Task::Regression => vec![f64::from(y)],
                }
            })
            .collect();
        request.outputs = Some(out);
        Ok(request)
    }
}
