//! What a run is turned into: `epochs.csv`, the [`Summary`] (`summary.json`) and the metrics a
//! sweep compares.

use crate::engine::{Role, SimResult, RAO_PER_TAO};
use crate::scenario::Behaviour;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Header line of `epochs.csv`.
pub const CSV_HEADER: &str = "epoch,block,uid,role,behaviour,quality,stake_rao,weight_sum,consensus,incentive,dividends,validator_trust,emission_rao,earned_rao,cumulative_rao";

/// Writes a u16 proportion as a decimal fraction with 6 digits (integer arithmetic only).
fn write_prop(w: &mut impl Write, x: u16) -> io::Result<()> {
    write_micro(w, (u64::from(x) * 1_000_000 + 32_767) / 65_535)
}

/// Writes a non-negative float with 6 decimals, through an integer (fast and exact to print).
fn write_f6(w: &mut impl Write, x: f64) -> io::Result<()> {
    write_micro(w, (x.max(0.0) * 1e6).round() as u64)
}

fn write_micro(w: &mut impl Write, m: u64) -> io::Result<()> {
    let (int, frac) = (m / 1_000_000, m % 1_000_000);
    let mut buf = [b'0'; 6];
    let mut f = frac;
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (f % 10) as u8;
        f /= 10;
    }
    write_u64(w, int)?;
    w.write_all(b".")?;
    w.write_all(&buf)
}

fn write_u64(w: &mut impl Write, mut v: u64) -> io::Result<()> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    w.write_all(&buf[i..])
}

/// Writes `epochs.csv`: one row per epoch and UID (see [`CSV_HEADER`]; proportions as fractions
/// with 6 decimals, amounts in rao).
pub fn write_csv(result: &SimResult, w: &mut impl Write) -> io::Result<()> {
    w.write_all(CSV_HEADER.as_bytes())?;
    w.write_all(b"\n")?;
    let labels: Vec<(&str, &str)> = result
        .participants
        .iter()
        .map(|p| (p.role.as_str(), p.label()))
        .collect();
    for r in &result.epochs {
        for (u, (role, label)) in labels.iter().enumerate() {
            write_u64(w, u64::from(r.epoch))?;
            w.write_all(b",")?;
            write_u64(w, r.block)?;
            w.write_all(b",")?;
            write_u64(w, u as u64)?;
            w.write_all(b",")?;
            w.write_all(role.as_bytes())?;
            w.write_all(b",")?;
            w.write_all(label.as_bytes())?;
            w.write_all(b",")?;
            write_f6(w, r.quality[u])?;
            w.write_all(b",")?;
            write_u64(w, r.stake[u])?;
            w.write_all(b",")?;
            write_f6(w, r.weight_sum[u])?;
            for x in [
                r.consensus[u],
                r.incentive[u],
                r.dividends[u],
                r.validator_trust[u],
            ] {
                w.write_all(b",")?;
                write_prop(w, x)?;
            }
            for x in [r.emission[u], r.earned[u], r.cumulative[u]] {
                w.write_all(b",")?;
                write_u64(w, x)?;
            }
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Per-behaviour totals over the validators of one behaviour.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GroupSummary {
    /// Number of validators.
    pub validators: usize,
    /// Share of the configured validator stake.
    pub stake_share: f64,
    /// Share of everything paid to validators.
    pub earnings_share: f64,
    /// Share of everything paid to anyone (miners included).
    pub emission_share: f64,
    /// Total paid, in TAO.
    pub earnings_tao: f64,
    /// Earnings per unit of stake per epoch present (from `joins_at`), relative to all
    /// validators together (1 = paid exactly in proportion to stake while registered).
    pub earnings_per_stake: f64,
}

/// Totals over the miners.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MinerSummary {
    /// Number of miners.
    pub count: usize,
    /// Share of everything paid that went to miners.
    pub emission_share: f64,
    /// Share of everything paid that went to miners owned by the cabal.
    pub cabal_emission_share: f64,
    /// Spearman rank correlation between each miner's mean true quality and mean incentive (miners
    /// present for the whole run); `null` with fewer than 3 such miners.
    pub quality_incentive_spearman: Option<f64>,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// Epochs run.
    pub epochs: u32,
    /// UIDs.
    pub uids: usize,
    /// Total paid over the run, TAO.
    pub total_emission_tao: f64,
    /// Validators by behaviour.
    pub groups: BTreeMap<String, GroupSummary>,
    /// Miners.
    pub miners: MinerSummary,
    /// Best copier's earnings per unit stake over the best honest validator's; `null` without a
    /// copier (or without an honest validator with stake).
    pub copier_vs_best_honest: Option<f64>,
    /// Gini coefficient of the total emission paid per UID (0 = equal, 1 = one UID takes all).
    pub gini: f64,
}

/// Gini coefficient of non-negative values (0 when the total is 0).
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len();
    let total: f64 = values.iter().sum();
    if n == 0 || total <= 0.0 {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * x)
        .sum();
    weighted / (n as f64 * total)
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (average ranks for ties); `None` for fewer than 3 points or a
/// constant input.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 3 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let mut cov = 0.0;
    let (mut vx, mut vy) = (0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        cov += (a - mx) * (b - my);
        vx += (a - mx).powi(2);
        vy += (b - my).powi(2);
    }
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

/// Mean true quality and mean incentive (fraction) per miner present for the whole run.
pub fn miner_quality_incentive(result: &SimResult) -> Vec<(u16, f64, f64)> {
    let e = result.epochs.len().max(1) as f64;
    result
        .participants
        .iter()
        .filter(|p| p.role == Role::Miner && p.start_epoch == 0)
        .map(|p| {
            let u = p.uid as usize;
            let q: f64 = result.epochs.iter().map(|r| r.quality[u]).sum::<f64>() / e;
            let i: f64 = result
                .epochs
                .iter()
                .map(|r| f64::from(r.incentive[u]) / 65_535.0)
                .sum::<f64>()
                / e;
            (p.uid, q, i)
        })
        .collect()
}

/// Builds the summary of a run.
pub fn summarize(result: &SimResult) -> Summary {
    let last = result.epochs.last();
    let total_of = |u: usize| last.map_or(0, |r| r.cumulative[u]) as f64;
    let total_paid: f64 = (0..result.participants.len()).map(total_of).sum();
    let validators: Vec<_> = result
        .participants
        .iter()
        .filter(|p| p.role == Role::Validator)
        .collect();
    let val_paid: f64 = validators.iter().map(|p| total_of(p.uid as usize)).sum();
    let val_stake: f64 = validators.iter().map(|p| p.stake as f64).sum();
    let share = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };

    let epochs = result.epochs.len() as f64;
    let exposure =
        |p: &crate::Participant| p.stake as f64 * (epochs - f64::from(p.start_epoch)).max(0.0);
    let val_exposure: f64 = validators.iter().map(|p| exposure(p)).sum();
    let mut group_exposure: BTreeMap<String, f64> = BTreeMap::new();
    let mut groups: BTreeMap<String, GroupSummary> = BTreeMap::new();
    for p in &validators {
        let g = groups.entry(p.label().to_string()).or_insert(GroupSummary {
            validators: 0,
            stake_share: 0.0,
            earnings_share: 0.0,
            emission_share: 0.0,
            earnings_tao: 0.0,
            earnings_per_stake: 0.0,
        });
        let paid = total_of(p.uid as usize);
        g.validators += 1;
        g.stake_share += share(p.stake as f64, val_stake);
        g.earnings_share += share(paid, val_paid);
        g.emission_share += share(paid, total_paid);
        g.earnings_tao += paid / RAO_PER_TAO;
        *group_exposure.entry(p.label().to_string()).or_default() += exposure(p);
    }
    for (name, g) in groups.iter_mut() {
        let e = group_exposure.get(name).copied().unwrap_or(0.0);
        g.earnings_per_stake = share(g.earnings_share, share(e, val_exposure));
    }

    let per_stake = |b: Behaviour| {
        validators
            .iter()
            .filter(|p| p.behaviour == Some(b) && p.stake > 0)
            .map(|p| total_of(p.uid as usize) / p.stake as f64)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
    };
    let copier_vs_best_honest = match (per_stake(Behaviour::Copier), per_stake(Behaviour::Honest)) {
        (Some(c), Some(h)) if h > 0.0 => Some(c / h),
        _ => None,
    };

    let miners: Vec<_> = result
        .participants
        .iter()
        .filter(|p| p.role == Role::Miner)
        .collect();
    let miner_paid: f64 = miners.iter().map(|p| total_of(p.uid as usize)).sum();
    let cabal_paid: f64 = miners
        .iter()
        .filter(|p| p.cabal)
        .map(|p| total_of(p.uid as usize))
        .sum();
    let qi = miner_quality_incentive(result);
    let (qs, is): (Vec<f64>, Vec<f64>) = qi.iter().map(|&(_, q, i)| (q, i)).unzip();
    let all: Vec<f64> = (0..result.participants.len()).map(total_of).collect();

    Summary {
        scenario: result.scenario.name.clone(),
        seed: result.seed,
        epochs: result.scenario.epochs,
        uids: result.participants.len(),
        total_emission_tao: total_paid / RAO_PER_TAO,
        groups,
        miners: MinerSummary {
            count: miners.len(),
            emission_share: share(miner_paid, total_paid),
            cabal_emission_share: share(cabal_paid, total_paid),
            quality_incentive_spearman: spearman(&qs, &is),
        },
        copier_vs_best_honest,
        gini: gini(&all),
    }
}

/// Names of the metrics a sweep can plot.
pub const METRICS: &[&str] = &[
    "copier_vs_best_honest",
    "gini",
    "miners.emission_share",
    "miners.cabal_emission_share",
    "miners.quality_incentive_spearman",
    "groups.<behaviour>.earnings_share",
    "groups.<behaviour>.emission_share",
    "groups.<behaviour>.earnings_per_stake",
];

/// Reads a metric (one of [`METRICS`]) from a summary; `None` when it is not defined for this run
/// or the name is unknown.
pub fn metric(summary: &Summary, name: &str) -> Option<f64> {
    match name {
        "copier_vs_best_honest" => summary.copier_vs_best_honest,
        "gini" => Some(summary.gini),
        "miners.emission_share" => Some(summary.miners.emission_share),
        "miners.cabal_emission_share" => Some(summary.miners.cabal_emission_share),
        "miners.quality_incentive_spearman" => summary.miners.quality_incentive_spearman,
        _ => {
            let rest = name.strip_prefix("groups.")?;
            let (group, field) = rest.rsplit_once('.')?;
            let g = summary.groups.get(group)?;
            match field {
                "earnings_share" => Some(g.earnings_share),
                "emission_share" => Some(g.emission_share),
                "earnings_per_stake" => Some(g.earnings_per_stake),
                _ => None,
            }
        }
    }
}

/// Whether `name` is a metric name a sweep accepts (the behaviour part is not checked).
pub fn is_metric_name(name: &str) -> bool {
    METRICS.contains(&name)
        || name.strip_prefix("groups.").is_some_and(|rest| {
            rest.rsplit_once('.').is_some_and(|(g, f)| {
                !g.is_empty()
                    && ["earnings_share", "emission_share", "earnings_per_stake"].contains(&f)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gini_extremes() {
        assert_eq!(gini(&[1.0, 1.0, 1.0, 1.0]), 0.0);
        assert!((gini(&[0.0, 0.0, 0.0, 4.0]) - 0.75).abs() < 1e-12);
        assert_eq!(gini(&[0.0, 0.0]), 0.0);
    }

    #[test]
    fn spearman_of_monotone_and_reversed() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(spearman(&x, &[10.0, 20.0, 25.0, 100.0]), Some(1.0));
        assert_eq!(spearman(&x, &[4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&x, &[1.0, 1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn micro_formatting() {
        let mut v = Vec::new();
        write_prop(&mut v, 65_535).unwrap();
        v.push(b' ');
        write_prop(&mut v, 0).unwrap();
        v.push(b' ');
        write_f6(&mut v, 12.5).unwrap();
        assert_eq!(String::from_utf8(v).unwrap(), "1.000000 0.000000 12.500000");
    }

    #[test]
    fn metric_names() {
        assert!(is_metric_name("gini"));
        assert!(is_metric_name("groups.copier.earnings_share"));
        assert!(!is_metric_name("groups.copier.nope"));
        assert!(!is_metric_name("nope"));
    }

    proptest! {
        #[test]
        fn gini_is_in_unit_interval_and_scale_free(v in proptest::collection::vec(0.0f64..1e6, 1..50), k in 0.1f64..100.0) {
            let g = gini(&v);
            prop_assert!((0.0..1.0).contains(&g) || g == 0.0);
            let scaled: Vec<f64> = v.iter().map(|x| x * k).collect();
            prop_assert!((gini(&scaled) - g).abs() < 1e-9);
        }

        #[test]
        fn spearman_is_bounded_and_monotone_invariant(v in proptest::collection::vec(-1e3f64..1e3, 3..40)) {
            let y: Vec<f64> = v.iter().map(|x| x.powi(3) + 7.0).collect();
            if let Some(r) = spearman(&v, &y) {
                prop_assert!((r - 1.0).abs() < 1e-9);
            }
            let z: Vec<f64> = v.iter().rev().copied().collect();
            if let Some(r) = spearman(&v, &z) {
                prop_assert!((-1.0 - 1e-9..=1.0 + 1e-9).contains(&r));
            }
        }
    }
}
