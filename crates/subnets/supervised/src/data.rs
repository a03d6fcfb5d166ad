//! The datasets (embedded in the binary by smartcore's `datasets` feature) and their fixed
//! public-train / held-out split.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Seed of the fixed split: the same on every machine, so every miner trains on the same data.
pub const SPLIT_SEED: u64 = 0x7e45_0a11_5eed_0001;
/// Share of the samples held out for validation.
pub const HELD_OUT_FRACTION: f64 = 0.2;

/// A dataset name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown dataset `{0}` (expected digits, breast_cancer or diabetes)")]
pub struct UnknownDataset(pub String);

/// The datasets the subnet can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// 8×8 handwritten digits, pixel values 0..=16, 10 classes, 1,797 samples.
    Digits,
    /// Breast cancer Wisconsin: 30 features, 2 classes, 569 samples.
    BreastCancer,
    /// Diabetes progression: 10 features, regression, 442 samples.
    Diabetes,
}

impl DatasetName {
    /// Every dataset.
    pub const ALL: [DatasetName; 3] = [
        DatasetName::Digits,
        DatasetName::BreastCancer,
        DatasetName::Diabetes,
    ];

    /// The command-line / synapse name.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Digits => "digits",
            DatasetName::BreastCancer => "breast_cancer",
            DatasetName::Diabetes => "diabetes",
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = UnknownDataset;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "digits" => Ok(DatasetName::Digits),
            "breast_cancer" => Ok(DatasetName::BreastCancer),
            "diabetes" => Ok(DatasetName::Diabetes),
            _ => Err(UnknownDataset(s.to_string())),
        }
    }
}

/// What is learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Predict one of `classes` labels `0..classes`; answers are one logit per class.
    Classification {
        /// Number of classes.
        classes: usize,
    },
    /// Predict a real number; answers are one value per sample.
    Regression,
}

impl Task {
    /// Values per answered sample.
    pub fn outputs(self) -> usize {
        match self {
            Task::Classification { classes } => classes,
            Task::Regression => 1,
        }
    }
}

/// Rows of features with their labels (class index as a float, or the regression target).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    /// One row of `num_features` values per sample.
    pub x: Vec<Vec<f32>>,
    /// One label per sample.
    pub y: Vec<f32>,
}

impl Samples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// A dataset with its fixed split.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Which one.
    pub name: DatasetName,
    /// Classification or regression.
    pub task: Task,
    /// Features per sample.
    pub num_features: usize,
    /// For images: (height, width) with `height · width == num_features`.
    pub image: Option<(usize, usize)>,
    /// For images: the largest pixel value (features lie in `0..=pixel_max`).
    pub pixel_max: f32,
    /// The public training split (every miner trains on it).
    pub train: Samples,
    /// The held-out split (validators draw challenges from it, transformed).
    pub held_out: Samples,
    /// Standard deviation of each feature over the whole dataset (the noise scale of tabular
    /// challenges).
    pub feature_std: Vec<f32>,
    /// Variance of the held-out targets (regression rewards normalise the MSE by it).
    pub target_variance: f64,
}

fn std_per_feature(x: &[Vec<f32>], d: usize) -> Vec<f32> {
    let n = x.len().max(1) as f64;
    (0..d)
        .map(|j| {
            let mean = x.iter().map(|r| f64::from(r[j])).sum::<f64>() / n;
            let var = x
                .iter()
                .map(|r| (f64::from(r[j]) - mean).powi(2))
                .sum::<f64>()
                / n;
            var.sqrt() as f32
        })
        .collect()
}

fn variance(y: &[f32]) -> f64 {
    let n = y.len().max(1) as f64;
    let mean = y.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    y.iter()
        .map(|v| (f64::from(*v) - mean).powi(2))
        .sum::<f64>()
        / n
}

impl Dataset {
    /// Loads `name` from the data embedded in the binary and applies the fixed split.
    pub fn load(name: DatasetName) -> Dataset {
        let (data, target, n, d): (Vec<f32>, Vec<f32>, usize, usize) = match name {
            DatasetName::Digits => {
                let ds = smartcore::dataset::digits::load_dataset();
                (ds.data, ds.target, ds.num_samples, ds.num_features)
            }
            DatasetName::BreastCancer => {
                let ds = smartcore::dataset::breast_cancer::load_dataset();
                let t = ds.target.iter().map(|v| *v as f32).collect();
                (ds.data, t, ds.num_samples, ds.num_features)
            }
            DatasetName::Diabetes => {
                let ds = smartcore::dataset::diabetes::load_dataset();
                let t = ds.target.iter().map(|v| *v as f32).collect();
                (ds.data, t, ds.num_samples, ds.num_features)
            }
        };
        let rows: Vec<Vec<f32>> = data.chunks(d).take(n).map(<[f32]>::to_vec).collect();
        let task = match name {
            DatasetName::Digits => Task::Classification { classes: 10 },
            DatasetName::BreastCancer => Task::Classification { classes: 2 },
            DatasetName::Diabetes => Task::Regression,
        };
        let (image, pixel_max) = match name {
            DatasetName::Digits => (Some((8, 8)), 16.0),
            _ => (None, 0.0),
        };
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(SPLIT_SEED));
        let held = ((rows.len() as f64) * HELD_OUT_FRACTION).round() as usize;
        let pick = |idx: &[usize]| Samples {
            x: idx.iter().map(|&i| rows[i].clone()).collect(),
            y: idx.iter().map(|&i| target[i]).collect(),
        };
        let held_out = pick(&order[..held]);
        let train = pick(&order[held..]);
        Dataset {
            name,
            task,
            num_features: d,
            image,
            pixel_max,
            feature_std: std_per_feature(&rows, d),
            target_variance: variance(&held_out.y),
            train,
            held_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_load_offline_with_expected_shapes() {
        let d = Dataset::load(DatasetName::Digits);
        assert_eq!(d.num_features, 64);
        assert_eq!(d.train.len() + d.held_out.len(), 1797);
        assert_eq!(d.held_out.len(), 359);
        assert!(d.train.x.iter().flatten().all(|v| (0.0..=16.0).contains(v)));
        assert!(d
            .train
            .y
            .iter()
            .all(|y| (0.0..10.0).contains(y) && y.fract() == 0.0));
        let b = Dataset::load(DatasetName::BreastCancer);
        assert_eq!(
            (b.num_features, b.train.len() + b.held_out.len()),
            (30, 569)
        );
        assert!(b.train.y.iter().all(|y| *y == 0.0 || *y == 1.0));
        let r = Dataset::load(DatasetName::Diabetes);
        assert_eq!(
            (r.num_features, r.train.len() + r.held_out.len()),
            (10, 442)
        );
        assert!(r.target_variance > 100.0);
        assert_eq!(r.task, Task::Regression);
    }

    #[test]
    fn split_is_fixed_and_disjoint() {
        let a = Dataset::load(DatasetName::Digits);
        let b = Dataset::load(DatasetName::Digits);
        assert_eq!(a, b);
        // no held-out row appears verbatim among the first training rows' positions
        assert_ne!(a.train.x[0], a.held_out.x[0]);
    }

    #[test]
    fn names_parse() {
        for n in DatasetName::ALL {
            assert_eq!(n.as_str().parse::<DatasetName>().unwrap(), n);
        }
        assert_eq!(
            "Breast-Cancer".parse::<DatasetName>().unwrap(),
            DatasetName::BreastCancer
        );
        assert!("mnist".parse::<DatasetName>().is_err());
    }
}
