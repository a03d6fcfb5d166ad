//! Turning per-UID scores into a weight vector the chain accepts (yuma spec §3.6, §5.4).
//!
//! Pipeline ([`process_weights`]), in order:
//! 1. keep the UIDs `< n` whose score is finite and `> 0` **and** that serve an axon;
//! 2. normalise their scores to sum 1;
//! 3. cap every weight at `max_weight_limit / 65535` by water-filling: a capped UID keeps the
//!    cap and the mass above it is shared among the others in proportion to their scores. If
//!    even all kept UIDs at the cap cannot hold the whole mass (`k · cap < 1`), the remainder is
//!    spread evenly over the fewest extra UIDs that fit (serving ones first, then ascending UID);
//!    if the subnet is too small for that, the limit is infeasible and an error is returned;
//! 4. pad with zero-valued entries (serving UIDs first, then ascending) up to
//!    `min(min_allowed_weights, n)` entries — the chain counts entries, and stores zero values;
//! 5. quantise to u16 with max-upscaling (`round(w / max(w) · 65535)`), so the largest entry is
//!    65535, and re-check the chain's integer max-weight test (`max · 65535 / Σ > limit` rejects);
//!    if rounding broke it, the cap is tightened by one u16 step and the pipeline re-run.
//!
//! The result is sorted by UID (the order the chain's liquid-alpha merge assumes, spec §7.1).

use thiserror::Error;

/// The chain's limits on one weight submission (subnet hyperparameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightLimits {
    /// Number of UIDs on the subnet.
    pub n: u16,
    /// `MaxWeightsLimit`: the largest share one UID may get, in 1/65535 (65535 = no limit).
    pub max_weight_limit: u16,
    /// `MinAllowedWeights`: the fewest entries a (non-self) submission may have.
    pub min_allowed_weights: u16,
}

/// A weight submission: parallel UID and value vectors, sorted by UID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeightVector {
    /// Destination UIDs, ascending, unique.
    pub uids: Vec<u16>,
    /// Max-upscaled u16 values (the largest is 65535).
    pub values: Vec<u16>,
}

impl WeightVector {
    /// `(uid, value)` pairs.
    pub fn pairs(&self) -> Vec<(u16, u16)> {
        self.uids
            .iter()
            .copied()
            .zip(self.values.iter().copied())
            .collect()
    }
}

/// Why no weights can be produced.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WeightError {
    /// The subnet has no UIDs.
    #[error("the subnet has no UIDs")]
    EmptySubnet,
    /// No serving UID has a positive score yet; query miners first.
    #[error("no serving UID has a positive score yet (nothing to weight)")]
    NoPositiveScores,
    /// `max_weight_limit` is too small for the subnet: even every UID at the cap sums below 1.
    #[error("max_weight_limit {limit} cannot be met with {n} UIDs (needs at least {needed})")]
    MaxWeightInfeasible {
        /// The limit.
        limit: u16,
        /// The subnet size.
        n: u16,
        /// UIDs needed at that limit.
        needed: u64,
    },
}

/// The chain's max-weight test (runtime `set_weights` 7b): `true` when accepted.
pub fn passes_max_weight_limit(values: &[u16], limit: u16) -> bool {
    if limit == u16::MAX {
        return true;
    }
    let sum: u64 = values.iter().map(|v| u64::from(*v)).sum();
    let max = values.iter().copied().max().map(u64::from).unwrap_or(0);
    sum == 0 || max * 65535 / sum <= u64::from(limit)
}

/// Max-upscales non-negative weights to u16: `round(w / max(w) · 65535)`; all zeros stay zero.
pub fn quantize_max_upscale(weights: &[f64]) -> Vec<u16> {
    let max = weights
        .iter()
        .copied()
        .filter(|w| w.is_finite())
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return vec![0; weights.len()];
    }
    weights
        .iter()
        .map(|w| {
            if w.is_finite() && *w > 0.0 {
                (w / max * 65535.0).round().clamp(0.0, 65535.0) as u16
            } else {
                0
            }
        })
        .collect()
}

/// Caps `weights` (summing to 1, parallel to `scores`) at `cap` by water-filling; returns the
/// mass that could not be placed (> 0 only when `len · cap < 1`).
fn water_fill(scores: &[f64], cap: f64) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let mut weights = vec![0.0; scores.len()];
    let mut mass = 1.0_f64;
    let mut rest: f64 = scores.iter().sum();
    let mut first_uncapped = order.len();
    for (pos, &i) in order.iter().enumerate() {
        if rest > 0.0 && scores[i] / rest * mass > cap {
            weights[i] = cap;
            mass -= cap;
            rest -= scores[i];
        } else {
            first_uncapped = pos;
            break;
        }
    }
    if first_uncapped < order.len() && rest > 0.0 {
        for &i in &order[first_uncapped..] {
            weights[i] = scores[i] / rest * mass;
        }
        mass = 0.0;
    }
    (weights, mass.max(0.0))
}

/// Runs the whole pipeline (see the module doc). `scores[uid]` and `serving[uid]` may be shorter
/// than `n` (missing entries count as 0 / not serving); entries at or beyond `n` are ignored.
pub fn process_weights(
    scores: &[f64],
    serving: &[bool],
    limits: WeightLimits,
) -> Result<WeightVector, WeightError> {
    let n = usize::from(limits.n);
    if n == 0 {
        return Err(WeightError::EmptySubnet);
    }
    let is_serving = |u: usize| serving.get(u).copied().unwrap_or(false);
    let positive: Vec<usize> = (0..n)
        .filter(|&u| {
            let s = scores.get(u).copied().unwrap_or(0.0);
            s.is_finite() && s > 0.0 && is_serving(u)
        })
        .collect();
    if positive.is_empty() {
        return Err(WeightError::NoPositiveScores);
    }
    // Fillers, in preference order: serving UIDs, then the others, ascending.
    let fillers: Vec<usize> = (0..n)
        .filter(|u| is_serving(*u) && !positive.contains(u))
        .chain((0..n).filter(|u| !is_serving(*u) && !positive.contains(u)))
        .collect();
    let total: f64 = positive.iter().map(|&u| scores[u]).sum();
    let normalised: Vec<f64> = positive.iter().map(|&u| scores[u] / total).collect();

    let mut limit = limits.max_weight_limit;
    loop {
        let candidate = build(&positive, &normalised, &fillers, limit, limits)?;
        if passes_max_weight_limit(&candidate.values, limits.max_weight_limit) || limit == 0 {
            return Ok(candidate);
        }
        limit -= 1;
    }
}

fn build(
    positive: &[usize],
    normalised: &[f64],
    fillers: &[usize],
    limit: u16,
    limits: WeightLimits,
) -> Result<WeightVector, WeightError> {
    let n = usize::from(limits.n);
    let mut entries: Vec<(usize, f64)> = if limit == u16::MAX {
        positive
            .iter()
            .copied()
            .zip(normalised.iter().copied())
            .collect()
    } else {
        let cap = f64::from(limit) / 65535.0;
        let infeasible = || WeightError::MaxWeightInfeasible {
            limit: limits.max_weight_limit,
            n: limits.n,
            needed: if limit == 0 {
                u64::MAX
            } else {
                (65535.0 / f64::from(limit)).ceil() as u64
            },
        };
        if cap <= 0.0 {
            return Err(infeasible());
        }
        let (weights, left) = water_fill(normalised, cap);
        let mut entries: Vec<(usize, f64)> = positive.iter().copied().zip(weights).collect();
        if left > 1e-12 {
            let extra = ((left / cap) - 1e-9).ceil().max(1.0) as usize;
            if extra > fillers.len() {
                return Err(infeasible());
            }
            let share = left / extra as f64;
            entries.extend(fillers.iter().take(extra).map(|&u| (u, share)));
        }
        entries
    };
    let need = usize::from(limits.min_allowed_weights).min(n);
    if entries.len() < need {
        let missing = need - entries.len();
        let chosen: Vec<usize> = fillers
            .iter()
            .copied()
            .filter(|u| !entries.iter().any(|(e, _)| e == u))
            .take(missing)
            .collect();
        entries.extend(chosen.into_iter().map(|u| (u, 0.0)));
    }
    entries.sort_by_key(|(u, _)| *u);
    let weights: Vec<f64> = entries.iter().map(|(_, w)| *w).collect();
    Ok(WeightVector {
        uids: entries.iter().map(|(u, _)| *u as u16).collect(),
        values: quantize_max_upscale(&weights),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lim(n: u16, max_weight_limit: u16, min_allowed_weights: u16) -> WeightLimits {
        WeightLimits {
            n,
            max_weight_limit,
            min_allowed_weights,
        }
    }

    #[test]
    fn normalise_and_upscale() {
        // .5 .25 .25 -> 65535, 32767.5 -> 32768 (round half away from zero)
        let w = process_weights(&[0.0, 0.5, 0.25, 0.25], &[true; 4], lim(4, 65535, 1)).unwrap();
        assert_eq!(w.uids, vec![1, 2, 3]);
        assert_eq!(w.values, vec![65535, 32768, 32768]);
    }

    #[test]
    fn drops_uids_without_axon_and_zero_scores() {
        let w = process_weights(
            &[0.0, 0.4, 0.2, 0.9],
            &[true, true, true, false],
            lim(4, 65535, 1),
        )
        .unwrap();
        assert_eq!(w.pairs(), vec![(1, 65535), (2, 32768)]);
    }

    #[test]
    fn ignores_entries_beyond_n_and_non_finite() {
        let w = process_weights(
            &[f64::NAN, 1.0, f64::INFINITY, 3.0],
            &[true; 4],
            lim(3, 65535, 1),
        )
        .unwrap();
        assert_eq!(w.pairs(), vec![(1, 65535)]);
    }

    #[test]
    fn max_weight_limit_single_cap() {
        // limit 26214 = 0.4 exactly. .6 .2 .1 .1 -> .4 .3 .15 .15
        // upscaled: 65535, .3/.4*65535 = 49151.25 -> 49151, 24575.625 -> 24576 (twice)
        // chain: 65535*65535 / 163838 = 26213.9 -> 26213 <= 26214
        let w = process_weights(&[6.0, 2.0, 1.0, 1.0], &[true; 4], lim(4, 26214, 1)).unwrap();
        assert_eq!(w.values, vec![65535, 49151, 24576, 24576]);
        assert!(passes_max_weight_limit(&w.values, 26214));
    }

    #[test]
    fn max_weight_limit_cascades() {
        // .5 .45 .05 -> cap .4; .6 left over 9:1 -> .54 > .4 -> cap; .2 left -> uid 2
        let w = process_weights(&[10.0, 9.0, 1.0], &[true; 3], lim(3, 26214, 1)).unwrap();
        assert_eq!(w.values, vec![65535, 65535, 32768]);
        assert!(passes_max_weight_limit(&w.values, 26214));
    }

    #[test]
    fn max_weight_limit_uniform_when_all_capped() {
        // limit 13107 = 0.2 exactly; five UIDs can hold at most 0.2 each -> uniform.
        let w =
            process_weights(&[0.5, 0.3, 0.1, 0.05, 0.05], &[true; 5], lim(5, 13107, 1)).unwrap();
        assert_eq!(w.values, vec![65535; 5]);
        assert!(passes_max_weight_limit(&w.values, 13107));
    }

    #[test]
    fn max_weight_limit_spreads_remainder_over_fillers() {
        // two positive UIDs at cap .2 hold .4; the .6 left goes to three fillers, serving first.
        let w = process_weights(
            &[1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            &[true, true, false, true, true, true],
            lim(6, 13107, 1),
        )
        .unwrap();
        assert_eq!(w.uids, vec![0, 1, 3, 4, 5]);
        assert_eq!(w.values, vec![65535; 5]);
    }

    #[test]
    fn max_weight_limit_infeasible() {
        let e = process_weights(&[1.0, 1.0], &[true; 2], lim(2, 13107, 1)).unwrap_err();
        assert_eq!(
            e,
            WeightError::MaxWeightInfeasible {
                limit: 13107,
                n: 2,
                needed: 5
            }
        );
        assert!(process_weights(&[1.0], &[true], lim(1, 0, 1)).is_err());
    }

    #[test]
    fn min_allowed_weights_pads_with_zero_entries() {
        let w = process_weights(
            &[0.0, 1.0, 0.0, 0.0, 0.0],
            &[false, true, true, false, false],
            lim(5, 65535, 3),
        )
        .unwrap();
        // padding: serving uid 2 first, then uid 0
        assert_eq!(w.pairs(), vec![(0, 0), (1, 65535), (2, 0)]);
        // min_allowed_weights above n is clamped to n
        let w = process_weights(&[1.0, 0.0], &[true, true], lim(2, 65535, 1024)).unwrap();
        assert_eq!(w.pairs(), vec![(0, 65535), (1, 0)]);
    }

    #[test]
    fn tiny_weights_round_to_zero_but_stay() {
        let w = process_weights(&[1.0, 1e-6], &[true; 2], lim(2, 65535, 1)).unwrap();
        assert_eq!(w.pairs(), vec![(0, 65535), (1, 0)]);
    }

    #[test]
    fn nothing_to_weight() {
        assert_eq!(
            process_weights(&[0.0, 0.0], &[true; 2], lim(2, 65535, 1)),
            Err(WeightError::NoPositiveScores)
        );
        assert_eq!(
            process_weights(&[1.0], &[false], lim(1, 65535, 1)),
            Err(WeightError::NoPositiveScores)
        );
        assert_eq!(
            process_weights(&[], &[], lim(0, 65535, 1)),
            Err(WeightError::EmptySubnet)
        );
    }

    #[test]
    fn quantize_examples() {
        assert_eq!(quantize_max_upscale(&[2.0, 1.0]), vec![65535, 32768]);
        assert_eq!(quantize_max_upscale(&[0.0, 0.0]), vec![0, 0]);
        assert_eq!(
            quantize_max_upscale(&[0.1, 0.3, 0.6]),
            vec![10923, 32768, 65535]
        );
    }

    proptest! {
        #[test]
        fn output_is_accepted_by_the_chain(
            raw in proptest::collection::vec((0.0f64..10.0, any::<bool>(), any::<bool>()), 1..40),
            limit in 0u16..=65535,
            min_allowed in 0u16..50,
        ) {
            let n = raw.len() as u16;
            let scores: Vec<f64> = raw.iter().map(|(s, zero, _)| if *zero { 0.0 } else { *s }).collect();
            let serving: Vec<bool> = raw.iter().map(|(_, _, s)| *s).collect();
            let l = lim(n, limit, min_allowed);
            match process_weights(&scores, &serving, l) {
                Ok(w) => {
                    prop_assert_eq!(w.uids.len(), w.values.len());
                    prop_assert!(w.uids.windows(2).all(|p| p[0] < p[1]));
                    prop_assert!(w.uids.iter().all(|u| *u < n));
                    prop_assert!(w.uids.len() >= usize::from(min_allowed.min(n)));
                    prop_assert_eq!(w.values.iter().copied().max(), Some(65535));
                    prop_assert!(passes_max_weight_limit(&w.values, limit));
                    let k = scores.iter().zip(&serving).filter(|(s, v)| **s > 0.0 && **v).count();
                    if (k as f64) * f64::from(limit) >= 65535.0 * 1.001 {
                        // feasible without fillers: only serving, positive UIDs get weight
                        for (u, v) in w.pairs() {
                            if v > 0 {
                                prop_assert!(scores[usize::from(u)] > 0.0 && serving[usize::from(u)]);
                            }
                        }
                    }
                }
                Err(WeightError::NoPositiveScores) => {
                    prop_assert!(scores.iter().zip(&serving).all(|(s, v)| *s <= 0.0 || !*v));
                }
                Err(WeightError::MaxWeightInfeasible { .. }) => {
                    prop_assert!((f64::from(n)) * f64::from(limit) < 65535.0 * 1.01 + 65535.0);
                }
                Err(WeightError::EmptySubnet) => prop_assert!(false, "n > 0"),
            }
        }

        #[test]
        fn order_of_scores_is_kept(scores in proptest::collection::vec(0.01f64..10.0, 1..30)) {
            let n = scores.len() as u16;
            let w = process_weights(&scores, &vec![true; scores.len()], lim(n, 65535, 1)).unwrap();
            for i in 0..scores.len() {
                for j in 0..scores.len() {
                    if scores[i] > scores[j] {
                        prop_assert!(w.values[i] >= w.values[j]);
                    }
                }
            }
        }
    }
}
