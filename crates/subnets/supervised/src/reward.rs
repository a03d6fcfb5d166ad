//! Rewards: accuracy (classification) or 1 − normalised MSE (regression), always in [0, 1].

use crate::data::Task;

/// The reward of `outputs` against `labels`.
///
/// Classification: the share of samples whose output row has `classes` finite values and whose
/// argmax (first on ties) equals the label. Regression: `1 − MSE / target_variance`, clamped to
/// [0, 1], where a row that is not exactly one finite value counts as predicting 0. A missing
/// answer or a wrong number of rows scores 0.
pub fn reward(
    task: Task,
    labels: &[f32],
    outputs: Option<&[Vec<f64>]>,
    target_variance: f64,
) -> f64 {
    let Some(outputs) = outputs else {
        return 0.0;
    };
    if labels.is_empty() || outputs.len() != labels.len() {
        return 0.0;
    }
    let n = labels.len() as f64;
    match task {
        Task::Classification { classes } => {
            let correct = outputs
                .iter()
                .zip(labels)
                .filter(|(row, y)| {
                    row.len() == classes
                        && row.iter().all(|v| v.is_finite())
                        && argmax(row) == Some(**y as usize)
                })
                .count();
            correct as f64 / n
        }
        Task::Regression => {
            if !(target_variance.is_finite() && target_variance > 0.0) {
                return 0.0;
            }
            let mse = outputs
                .iter()
                .zip(labels)
                .map(|(row, y)| {
                    let p = match row.as_slice() {
                        [v] if v.is_finite() => *v,
                        _ => 0.0,
                    };
                    (p - f64::from(*y)).powi(2)
                })
                .sum::<f64>()
                / n;
            let r = 1.0 - mse / target_variance;
            if r.is_finite() {
                r.clamp(0.0, 1.0)
            } else {
                0.0
            }
        }
    }
}

/// Index of the largest value (the first one on ties); `None` for an empty row.
pub fn argmax(row: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in row.iter().enumerate() {
        if best.is_none_or(|(_, b)| *v > b) {
            best = Some((i, *v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const C3: Task = Task::Classification { classes: 3 };

    #[test]
    fn accuracy() {
        let out = vec![
            vec![0.1, 0.9, 0.0],
            vec![2.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
            vec![f64::NAN, 5.0, 0.0],
        ];
        assert_eq!(reward(C3, &[1.0, 0.0, 1.0, 1.0], Some(&out), 1.0), 0.5);
        assert_eq!(reward(C3, &[1.0], None, 1.0), 0.0);
        assert_eq!(reward(C3, &[1.0, 0.0], Some(&out), 1.0), 0.0, "row count");
        assert_eq!(
            reward(C3, &[1.0], Some(&[vec![0.0, 1.0]]), 1.0),
            0.0,
            "width"
        );
    }

    #[test]
    fn regression() {
        let out = vec![vec![1.0], vec![3.0]];
        // mse = ((1-2)^2 + (3-3)^2)/2 = 0.5; 1 - 0.5/2 = 0.75
        assert_eq!(reward(Task::Regression, &[2.0, 3.0], Some(&out), 2.0), 0.75);
        let bad = vec![vec![100.0], vec![-100.0]];
        assert_eq!(reward(Task::Regression, &[2.0, 3.0], Some(&bad), 2.0), 0.0);
        assert_eq!(reward(Task::Regression, &[2.0, 3.0], Some(&out), 0.0), 0.0);
    }

    #[test]
    fn argmax_ties_take_first() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[]), None);
    }

    proptest! {
        #[test]
        fn reward_in_unit_interval(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::num::f64::ANY, 0..4), 1..20),
            var in proptest::num::f64::ANY,
            regression in any::<bool>(),
        ) {
            let labels: Vec<f32> = (0..rows.len()).map(|i| (i % 3) as f32).collect();
            let task = if regression { Task::Regression } else { C3 };
            let r = reward(task, &labels, Some(&rows), var);
            prop_assert!((0.0..=1.0).contains(&r));
        }
    }
}
