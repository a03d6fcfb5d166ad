//! The epoch itself, step by step in the order of spec §2 (sparse path, `epoch_mechanism`).
//!
//! | step | spec | function |
//! |---|---|---|
//! | activity, outdated test, bond-mask block | §2.1 | [`run`] |
//! | stake threshold and Q64 normalisation | §2.2 | [`stake_vector`] |
//! | previous and new permits (top-k) | §2.3 | [`top_k_nonzero`] |
//! | active stake | §2.4 | [`run`] |
//! | weight masks and row normalisation | §2.5 | [`masked_weights`] |
//! | consensus, clipping, trust, incentive | §2.7 | [`consensus`], [`clip_and_rank`] |
//! | bond penalty | §2.8 | [`interpolate`] |
//! | Yuma‑2 bonds and dividends | §2.9.a | [`yuma2`] |
//! | Yuma‑3 bonds and dividends, liquid alpha | §2.9.b, §2.10 | [`yuma3`], [`AlphaSigmoid`] |
//! | emission split | §2.11 | [`run`] |
//! | per-uid outputs | §2.12 | [`run`] |
//!
//! Fast paths for the common case (values in [0, 1], sorted rows), each proptested against
//! the general step it stands for: [`clip_ema3`] (§2.7–§2.9.b in one pass for Yuma‑3 with
//! bonds penalty 1 and a constant α), [`ema_fast`] (§2.9 in integer arithmetic; for Yuma‑2
//! its last pass [`yuma2_finish`] normalises E, forms the dividends and the max-upscaled
//! stored rows at once), [`clip_ema_alpha`] (as [`clip_ema3`] with the liquid-alpha rate)
//! and [`ema_alpha_fast`] (§2.9.b with liquid alpha after clipping), [`dividends3_out`]
//! (Yuma‑3 dividends with the stored rows). Divisions by a per-row or per-column invariant
//! are reciprocal multiplications ([`crate::fixed::Divider`], and one-multiply forms where the
//! operands allow: `U16Divider`, `UnitDivider`, `HighDivider`). Buffers of W, E and the
//! consensus gather are reused across epochs ([`Workspace`]).
//!
//! The commit-reveal mask (§2.6) is not an input of the conformance schema (no pending
//! commits), so it is the identity here. Matrices are [`Csr`]; no dense `n × n` matrix exists.

use crate::fixed::{
    all_unit, div_one, exp_fast, mul, mul_or_zero, mul_unit, normalize, proportion_to_u16, q32_int,
    q64_to_q32, sadd, safe_div64, share_of, sum, u16_proportion, Divider, HighDivider, QDiv,
    U16Divider, UnitDivider, UnitMul, HALF, ONE, Q32, Q64, ZERO,
};
use std::borrow::Cow;

use crate::sparse::{Csr, Scratch};
use crate::types::{EpochInputs, EpochOutputs, LegacyOutputs, SparseRow};

/// Runs one epoch on inputs whose vector lengths have been checked to equal `n`.
pub(crate) fn run(inp: &EpochInputs) -> EpochOutputs {
    let n = usize::from(inp.n);
    let hp = &inp.hyperparameters;
    let owner = inp.owner_uid.map(usize::from);
    let mut ws = Workspace::take();

    // §2.1 activity and the block of the last tempo (bond mask).
    let active: Vec<bool> = inp
        .last_update
        .iter()
        .map(|lu| lu.saturating_add(inp.activity_cutoff) >= inp.current_block)
        .collect();
    let last_tempo = if inp.last_mechanism_step_block == 0 {
        inp.current_block.saturating_sub(u64::from(inp.tempo))
    } else {
        inp.last_mechanism_step_block.saturating_add(1)
    };

    // §2.2 stake.
    let s = stake_vector(&inp.stake, hp.stake_threshold, owner);

    // §2.3 permits: previous (owner forced) decide this epoch; new ones are written out.
    let mut permit_prev = inp.validator_permit.clone();
    if let Some(o) = owner {
        if o < permit_prev.len() {
            permit_prev[o] = true;
        }
    }
    let mut new_permit = top_k_nonzero(&s, usize::from(hp.max_allowed_validators));
    if let Some(o) = owner {
        if o < n {
            new_permit[o] = true;
        }
    }

    // §2.4 active stake.
    let mut a: Vec<Q32> = (0..n)
        .map(|i| {
            if active[i] && permit_prev[i] {
                s[i]
            } else {
                ZERO
            }
        })
        .collect();
    normalize(&mut a);

    // §2.5 weights.
    // Every value of W lies in [0, 1] (normalised rows); `w_sorted`: every row strictly
    // increasing (clipping keeps both: it only lowers values to consensus, itself a value of
    // W, and drops entries).
    let (w, w_sorted) = masked_weights(inp, &permit_prev, owner, std::mem::take(&mut ws.w));

    // §2.7 consensus, clipping, trust, incentive.
    let kappa = u16_proportion(hp.kappa);
    let c = consensus(&w, &a, kappa, n, w_sorted, &mut ws.gather);
    let beta = u16_proportion(hp.bonds_penalty);
    let recently_registered: Vec<bool> = inp
        .block_at_registration
        .iter()
        .map(|reg| last_tempo <= *reg)
        .collect();
    let bma = q64_to_q32(safe_div64(
        Q64::saturating_from_num(hp.bonds_moving_average),
        Q64::from_num(1_000_000u32),
    ));
    let ema_alpha = ONE.saturating_sub(bma);
    // Yuma‑3 with β = 1 (W_b = W̄) and sorted rows: clipping fused with the bonds EMA, W̄
    // never stored (§2.7–§2.9.b in one pass, [`clip_ema3`]).
    let fused = if hp.yuma3_enabled && hp.liquid_alpha_enabled && beta == ONE && w_sorted {
        // The same with the liquid-alpha rate ([`clip_ema_alpha`]).
        let mut sig = AlphaSigmoid::new(hp.alpha_low, hp.alpha_high, hp.alpha_sigmoid_steepness);
        clip_ema_alpha(
            &w,
            &c,
            &a,
            &inp.bonds,
            &recently_registered,
            &mut sig,
            std::mem::take(&mut ws.e),
        )
    } else if hp.yuma3_enabled && !hp.liquid_alpha_enabled && beta == ONE && w_sorted {
        clip_ema3(
            &w,
            &c,
            &a,
            &inp.bonds,
            &recently_registered,
            ema_alpha,
            std::mem::take(&mut ws.e),
        )
    } else {
        None
    };
    // `bonds_out`: the stored bond rows when a fast path formed them with the dividends.
    let (wc, vt, rank_clipped, rank_unclipped, inc, mut d, stored, bonds_out) =
        if let Some(f) = fused {
            let mut inc = f.rank.clone();
            normalize(&mut inc);
            let (d, bonds) = dividends3_out(&f.e, &a, &inc, &f.e_sums, &new_permit);
            (
                w,
                f.trust,
                f.rank,
                f.rank_unclipped,
                inc,
                d,
                f.e,
                Some(bonds),
            )
        } else {
            // W itself is needed after clipping only when the bond penalty is not exactly 1.
            let w_kept = (beta != ONE).then(|| w.clone());
            // Without liquid alpha an entry clipped to 0 may stay in W̄ (every later step
            // treats a 0 entry as an absent one); liquid alpha keeps only W̄'s columns, so there
            // it must go.
            let keep_zeros = !(hp.yuma3_enabled && hp.liquid_alpha_enabled);
            let (wc, vt, rank_clipped, rank_unclipped) = clip_and_rank(w, &c, &a, true, keep_zeros);
            let mut inc = rank_clipped.clone();
            normalize(&mut inc);

            // §2.8 weights for bonds.
            let wb = match &w_kept {
                None => Cow::Borrowed(&wc),
                Some(w) => interpolate(w, &wc, beta, n),
            };

            // §2.9 bonds and dividends.
            let fast = if hp.liquid_alpha_enabled && hp.yuma3_enabled {
                let mut sig =
                    AlphaSigmoid::new(hp.alpha_low, hp.alpha_high, hp.alpha_sigmoid_steepness);
                ema_alpha_fast(
                    &wb,
                    &inp.bonds,
                    &recently_registered,
                    &c,
                    &a,
                    &inc,
                    &mut sig,
                    &new_permit,
                    // Wb = W̄ (β = 1): in [0, 1], and its rows increase where W's do.
                    w_kept.is_none() && w_sorted,
                    std::mem::take(&mut ws.e),
                )
            } else {
                ema_fast(
                    &wb,
                    &inp.bonds,
                    &recently_registered,
                    &a,
                    &inc,
                    ema_alpha,
                    hp.yuma3_enabled,
                    // Wb is W or W̄ (β = 0 or 1): in [0, 1] and as sorted as W. Otherwise unknown.
                    (w_kept.is_none() || beta == ZERO).then_some(w_sorted),
                    w_kept.is_none().then_some(rank_clipped.as_slice()),
                    Some(&new_permit),
                    std::mem::take(&mut ws.e),
                )
            };
            let (d, stored, rows) = if let Some(r) = fast {
                r
            } else if hp.yuma3_enabled {
                let b = BondRows {
                    rows: &inp.bonds,
                    n,
                    recent: &recently_registered,
                };
                let (d, e) = yuma3(&wb, &b, &a, &inc, &c, inp, ema_alpha, n);
                (d, e, None)
            } else {
                let b = input_bonds(&inp.bonds, n, &recently_registered, false);
                let (d, e) = yuma2(&wb, b, &a, &inc, ema_alpha, n, true);
                (d, e, None)
            };
            drop(wb);
            (wc, vt, rank_clipped, rank_unclipped, inc, d, stored, rows)
        };
    normalize(&mut d);

    // §2.11 emission.
    let comb: Vec<Q32> = inc.iter().zip(&d).map(|(x, y)| sadd(*x, *y)).collect();
    let sc = sum(&comb);
    let (nse, mut nve, mut nce): (Vec<Q32>, Vec<Q32>, Vec<Q32>) = if sc != ZERO {
        let dv = QDiv::new(sc);
        (
            inc.iter().map(|x| dv.div(*x)).collect(),
            d.iter().map(|x| dv.div(*x)).collect(),
            comb.iter().map(|x| dv.div(*x)).collect(),
        )
    } else {
        (inc.clone(), d.clone(), comb.clone())
    };
    if sc == ZERO {
        let fallback = if sum(&a) == ZERO { &s } else { &a };
        nve = fallback.clone();
        nce = fallback.clone();
    }
    let rao = inp.rao_emission;
    let server_emission: Vec<u64> = nse.iter().map(|x| share_of(*x, rao)).collect();
    let validator_emission: Vec<u64> = nve.iter().map(|x| share_of(*x, rao)).collect();
    let emission: Vec<u64> = nce.iter().map(|x| share_of(*x, rao)).collect();

    // Legacy outputs: trust from the clipped and unclipped ranks, pruning scores.
    let trust: Vec<u16> = rank_clipped
        .iter()
        .zip(&rank_unclipped)
        .map(|(x, y)| proportion_to_u16(div_one(*x, *y)))
        .collect();
    let pruning_scores = max_upscale_to_u16(&nce);

    // §2.12 per-uid outputs.
    let to_u16 = |v: &[Q32]| {
        v.iter()
            .map(|x| proportion_to_u16(*x))
            .collect::<Vec<u16>>()
    };
    let bonds: Vec<SparseRow> = bonds_out.unwrap_or_else(|| {
        (0..n)
            .map(|i| {
                if new_permit[i] {
                    stored
                        .row_cols(i)
                        .iter()
                        .zip(stored.row_vals(i))
                        .map(|(j, v)| {
                            let b = v.to_bits();
                            // In [0, 1] (always, on the fast paths) the conversion is
                            // `floor(b · 65535 / 2^32)` without a branch; 1 gives 65535.
                            let p = if (0..=1i64 << 32).contains(&b) {
                                ((b as u64 * 65535) >> 32) as u16
                            } else {
                                proportion_to_u16(*v)
                            };
                            (*j, p)
                        })
                        .collect()
                } else {
                    Vec::new()
                }
            })
            .collect()
    });
    ws.give_back(wc, stored);
    EpochOutputs {
        active,
        validator_permit: new_permit,
        stake_weight: to_u16(&s),
        consensus: to_u16(&c),
        incentive: to_u16(&inc),
        dividends: to_u16(&d),
        validator_trust: to_u16(&vt),
        server_emission,
        validator_emission,
        emission,
        bonds,
        legacy: Some(LegacyOutputs {
            rank: to_u16(&inc),
            trust,
            pruning_scores,
        }),
    }
}

/// Entry arrays (columns, values) of a matrix, kept for reuse.
type Entries = (Vec<u16>, Vec<Q32>);

/// Buffers reused from one epoch to the next on the same thread: the entry arrays of W
/// (clipped in place into W̄) and of E, and the consensus gather buffer. Fresh allocations of
/// this size come from `mmap` and are zero-filled page by page by the kernel on first touch,
/// which cost as much as a third of a small epoch; reused buffers are only overwritten.
/// Results never depend on the previous contents (every slot is written before it is read).
/// A buffer above [`KEEP_MAX`] entries is freed instead of kept, which bounds the memory held
/// between epochs to about 90 MB per thread.
#[derive(Default)]
struct Workspace {
    w: Entries,
    e: Entries,
    gather: Vec<(i64, i64)>,
}

/// Largest buffer (in entries) a [`Workspace`] keeps between epochs.
const KEEP_MAX: usize = 1 << 22;

thread_local! {
    static WORKSPACE: std::cell::Cell<Workspace> = std::cell::Cell::new(Workspace::default());
}

impl Workspace {
    /// This thread's buffers (empty ones on first use).
    fn take() -> Self {
        WORKSPACE.with(|w| w.take())
    }

    /// Returns the buffers of W̄ and E (and the gather buffer) for the next epoch.
    fn give_back(mut self, w: Csr, e: Csr) {
        // Contents are kept (not cleared): the next epoch overwrites every slot it reads, and
        // resizing then only fills the part beyond the old length.
        fn keep<T>(v: Vec<T>) -> Vec<T> {
            if v.capacity() > KEEP_MAX {
                return Vec::new();
            }
            v
        }
        self.w = (keep(w.cols), keep(w.vals));
        self.e = (keep(e.cols), keep(e.vals));
        self.gather = keep(std::mem::take(&mut self.gather));
        WORKSPACE.with(|c| c.set(self));
    }
}

/// §2.2: threshold (owner exempt), normalise in Q64, truncate to Q32.
///
/// Each stake is an exact integer in Q64, so `s ⊘ Σs` is exactly `floor(s · 2^64 / Σs)` as
/// Q64 bits; that is computed with the integer sum in `u128`. It equals the reference
/// wherever the reference's Q64 sum does not overflow (total below 2^63 rao) and stays
/// correct (no saturation, shares summing to at most 1) above that.
#[inline(never)]
pub(crate) fn stake_vector(stake: &[u64], threshold: u64, owner: Option<usize>) -> Vec<Q32> {
    let raw: Vec<u64> = stake
        .iter()
        .enumerate()
        .map(|(i, st)| {
            if owner != Some(i) && *st < threshold {
                0
            } else {
                *st
            }
        })
        .collect();
    let total: u128 = raw.iter().map(|x| u128::from(*x)).sum();
    raw.iter()
        .map(|x| {
            if total == 0 {
                // Unchanged: all zero.
                return ZERO;
            }
            // x · 2^64 < 2^128 and the quotient is at most 2^64.
            let q = (u128::from(*x) << 64) / total;
            q64_to_q32(Q64::from_bits(q as i128))
        })
        .collect()
}

/// §2.3 `top_k_nonzero`: non-zero entries, then (if `len >= k`) the `len − k` smallest by a
/// stable ascending sort lose their place (among ties the lower uid loses).
///
/// The stable sort orders by (value, uid), so the dropped entries are the `len − k` smallest
/// (value, uid) pairs: found by one selection (O(n)) instead of a sort; none when `len <= k`.
/// Proptested against the sort.
pub(crate) fn top_k_nonzero(v: &[Q32], k: usize) -> Vec<bool> {
    let mut result: Vec<bool> = v.iter().map(|x| *x != ZERO).collect();
    if v.len() <= k {
        return result;
    }
    let drop = v.len() - k;
    let mut keys: Vec<(Q32, usize)> = v.iter().copied().zip(0..).collect();
    keys.select_nth_unstable(drop - 1);
    for (_, i) in &keys[..drop] {
        result[*i] = false;
    }
    result
}

/// [`top_k_nonzero`] by the reference's stable sort (for its tests).
#[cfg(test)]
fn top_k_nonzero_sorted(v: &[Q32], k: usize) -> Vec<bool> {
    let mut result: Vec<bool> = v.iter().map(|x| *x != ZERO).collect();
    if v.len() < k {
        return result;
    }
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by_key(|i| v[*i]);
    for i in &idx[..v.len() - k] {
        result[*i] = false;
    }
    result
}

/// §2.5: rows of forbidden uids emptied, self-weights (but the owner's) removed, outdated
/// entries removed, out-of-range columns dropped, rows normalised.
///
/// One pass per row filters the entries by branch-free compaction into preallocated arrays
/// and sums them as integers; a second pass over the kept entries normalises. Each entry is
/// the integer `v` (a `u16`), so while the row's integer sum `T` stays below 2^31 the
/// saturating `⊕` sum is exactly `T` and `v ⊘ T` is `floor(v · 2^32 / T)`, one exact
/// reciprocal division; a longer row whose sum saturates goes through [`QDiv`] with the
/// saturated sum, as the reference. Every value is in [0, 1] (an entry is at most its sum).
/// Also returns whether every row is strictly increasing (what later steps need for their
/// merges), tracked during the filter pass. Proptested against `masked_weights_reference`,
/// the push-and-divide form.
#[inline(never)]
fn masked_weights(
    inp: &EpochInputs,
    permit_prev: &[bool],
    owner: Option<usize>,
    (mut cols, mut vals): Entries,
) -> (Csr, bool) {
    let n = usize::from(inp.n);
    let nnz: usize = (0..n)
        .filter(|i| permit_prev[*i])
        .map(|i| inp.weights[i].len())
        .sum();
    // Stale contents from an earlier epoch are overwritten before they are read; only the
    // part beyond the old length is filled.
    cols.resize(nnz, 0);
    vals.resize(nnz, ZERO);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0usize);
    let mut len = 0usize;
    let mut sorted = true;
    let reg = &inp.block_at_registration[..n];
    let max_reg = reg.iter().copied().max().unwrap_or(0);
    for (i, permitted) in permit_prev.iter().enumerate().take(n) {
        if *permitted {
            let lu = inp.last_update[i];
            // The owner keeps its self-weight: no column equals usize::MAX.
            let self_col = if owner == Some(i) { usize::MAX } else { i };
            let row_start = len;
            let row = &inp.weights[i];
            let mut total = 0u64;
            let mut done = false;
            if lu > max_reg {
                // No entry is outdated: if the row is strictly increasing and in range (checked
                // on the way), only the self-weight can go. Copy the whole row (a plain zip,
                // no compaction), then cut the self-weight out if it is there. The raw
                // integer is kept in the value slot until the row is normalised.
                let m = row.len();
                // len + m <= the lengths of the rows so far <= nnz: in bounds.
                let (oc, ov) = (&mut cols[len..len + m], &mut vals[len..len + m]);
                let mut increasing = true;
                let mut prev = -1i32;
                for ((c, x), &(j, v)) in oc.iter_mut().zip(ov.iter_mut()).zip(row) {
                    *c = j;
                    *x = Q32::from_bits(i64::from(v));
                    total += u64::from(v);
                    increasing &= i32::from(j) > prev;
                    prev = i32::from(j);
                }
                done = increasing && usize::try_from(prev).map_or(true, |p| p < n);
                if done {
                    let mut kept = m;
                    if let Ok(p) =
                        u16::try_from(self_col).map_or(Err(0), |sc| oc.binary_search(&sc))
                    {
                        total -= ov[p].to_bits() as u64;
                        oc.copy_within(p + 1.., p);
                        ov.copy_within(p + 1.., p);
                        kept -= 1;
                    }
                    len += kept;
                } else {
                    total = 0;
                }
            }
            if !done {
                // Column of the last kept entry (+1), to see whether the kept row increases.
                let mut prev = 0usize;
                for &(j, v) in row {
                    let ju = usize::from(j);
                    let keep = match reg.get(ju) {
                        Some(r) => lu > *r && ju != self_col,
                        None => false,
                    };
                    cols[len] = j;
                    vals[len] = Q32::from_bits(i64::from(v));
                    len += usize::from(keep);
                    total += u64::from(v) & 0u64.wrapping_sub(u64::from(keep));
                    sorted &= !keep || ju + 1 > prev;
                    prev = if keep { ju + 1 } else { prev };
                }
            }
            let row_vals = &mut vals[row_start..len];
            if total < 1 << 31 {
                // total = 0: every kept value is 0 and stays so. The values are still the raw
                // u16 weights: one widening multiply each.
                let d = U16Divider::new(total.max(1));
                for v in row_vals.iter_mut() {
                    *v = Q32::from_bits(d.div(v.to_bits() as u16) as i64);
                }
            } else {
                // The `⊕` sum saturates at the largest Q32.
                let d = QDiv::new(Q32::from_bits(i64::MAX));
                for v in row_vals.iter_mut() {
                    *v = d.div(Q32::from_bits(v.to_bits() << 32));
                }
            }
        }
        start.push(len);
    }
    cols.truncate(len);
    vals.truncate(len);
    (Csr { start, cols, vals }, sorted)
}

/// §2.5: rows of forbidden uids emptied, self-weights (but the owner's) removed, outdated
/// entries removed, out-of-range columns dropped, rows normalised: pushes with `⊕` and
/// divides with `⊘` (the plain form of [`masked_weights`], for its tests).
#[cfg(test)]
fn masked_weights_reference(inp: &EpochInputs, permit_prev: &[bool], owner: Option<usize>) -> Csr {
    let n = usize::from(inp.n);
    let nnz: usize = inp.weights.iter().map(Vec::len).sum();
    let mut w = Csr::with_capacity(n, nnz);
    let reg = &inp.block_at_registration;
    for (i, permitted) in permit_prev.iter().enumerate().take(n) {
        if *permitted {
            let lu = inp.last_update[i];
            let row_start = w.cols.len();
            let mut total = ZERO;
            for (j, v) in &inp.weights[i] {
                let ju = usize::from(*j);
                if ju >= n || (ju == i && owner != Some(i)) || lu <= reg[ju] {
                    continue;
                }
                let v = q32_int(*v);
                total = sadd(total, v);
                w.push(*j, v);
            }
            if total > ZERO {
                let d = QDiv::new(total);
                for v in &mut w.vals[row_start..] {
                    *v = d.div(*v);
                }
            }
        }
        w.end_row();
    }
    w
}

/// §2.7 consensus: per column, the stake-weighted κ-quantile of the weights of the
/// validators with positive active stake (re-normalised).
///
/// The reference's mid-pivot quickselect returns the smallest weight `v` of the column's
/// multiset (absent entries count as 0) whose cumulative stake through `v` exceeds
/// `minority = ΣP ⊖ κ` (the largest value if none does). All partial sums are exact integers
/// far from saturation, so the result does not depend on the pivot order; this
/// implementation selects that value directly with a three-way quickselect per column.
#[inline(never)]
///
/// `sorted`: the caller knows every row to be strictly increasing (otherwise it is checked).
/// `buf` is a reusable gather buffer (contents ignored).
pub(crate) fn consensus(
    w: &Csr,
    a: &[Q32],
    kappa: Q32,
    n: usize,
    sorted: bool,
    buf: &mut Vec<(i64, i64)>,
) -> Vec<Q32> {
    let mut c = vec![ZERO; n];
    // Positive active stakes, normalised again.
    let rows: Vec<usize> = (0..n).filter(|i| a[*i] > ZERO).collect();
    if rows.is_empty() {
        return c;
    }
    let mut p: Vec<Q32> = rows.iter().map(|i| a[*i]).collect();
    normalize(&mut p);
    let psum = sum(&p);
    let minority = psum.saturating_sub(kappa);

    let psum_b = psum.to_bits();
    let minority_b = minority.to_bits();
    let nnz: usize = rows.iter().map(|i| w.range(*i).len()).sum();
    let mut sel = Selector::default();
    if nnz.saturating_mul(64) >= rows.len().saturating_mul(n)
        && (sorted || rows.iter().all(|i| w.row_is_sorted(*i)))
    {
        // Dense enough: sweep the columns in blocks of `BLOCK`, with one cursor per (sorted)
        // row, gathering each column of the block into its slot of one flat buffer (at most
        // one entry per row and column) instead of transposing the matrix.
        const BLOCK: usize = 64;
        let r = rows.len();
        let mut cur: Vec<usize> = rows.iter().map(|i| w.start[*i]).collect();
        let end: Vec<usize> = rows.iter().map(|i| w.start[*i + 1]).collect();
        let pb: Vec<i64> = p.iter().map(|x| x.to_bits()).collect();
        // Each column's slots start `stride` entries apart: a multiple of 4 (64 bytes) with
        // `stride / 4` odd, so that the 64 columns being filled sit in 64 different cache
        // sets (with `stride = r` a multiple of 256 they would all map to the same set, and
        // every store of the gather would evict).
        let stride = 4 * (r.div_ceil(4) | 1);
        // Every slot read was written in this block (stale contents are never read).
        buf.resize(BLOCK * stride, (0, 0));
        for j0 in (0..n).step_by(BLOCK) {
            let j1 = (j0 + BLOCK).min(n);
            let mut count = [0usize; BLOCK];
            let mut present = [0i64; BLOCK];
            for k in 0..r {
                let (at, pk) = (cur[k], pb[k]);
                // What is left of the row, from its first entry at or after column j0.
                let (rc, rv) = (&w.cols[at..end[k]], &w.vals[at..end[k]]);
                let mut taken = 0usize;
                for (col, v) in rc.iter().zip(rv) {
                    let col = usize::from(*col);
                    if col >= j1 {
                        break;
                    }
                    // col - j0 < BLOCK (masked so that the compiler sees it).
                    let b = (col - j0) & (BLOCK - 1);
                    buf[b * stride + count[b]] = (v.to_bits(), pk);
                    count[b] += 1;
                    present[b] += pk;
                    taken += 1;
                }
                cur[k] = at + taken;
            }
            for (b, cj) in c[j0..j1].iter_mut().enumerate() {
                if count[b] == 0 {
                    continue;
                }
                let absent = psum_b - present[b];
                // Rows without an entry weigh 0 here (if there are any): 0 is the result
                // when their stake alone exceeds the minority.
                if count[b] < r && absent > minority_b {
                    continue;
                }
                let col = &mut buf[b * stride..b * stride + count[b]];
                *cj = Q32::from_bits(sel.select(col, minority_b - absent));
            }
        }
        return c;
    }

    // Transpose the rows of positive stake: per column, (weight, stake) pairs. Within a row
    // a repeated column keeps its last value (the reference fills a dense column by
    // assignment); such rows (unsorted input) are de-duplicated first.
    let mut dedup: Option<Scratch> = None;
    let mut fixed_rows: Vec<Option<(Vec<u16>, Vec<Q32>)>> = Vec::with_capacity(rows.len());
    for &i in &rows {
        if w.row_is_sorted(i) {
            fixed_rows.push(None);
        } else {
            let sc = dedup.get_or_insert_with(|| Scratch::new(n));
            for (j, v) in w.row_cols(i).iter().zip(w.row_vals(i)) {
                sc.touch(*j);
                sc.val[usize::from(*j)] = *v;
            }
            let cols: Vec<u16> = sc.touched.clone();
            let vals: Vec<Q32> = cols.iter().map(|j| sc.val[usize::from(*j)]).collect();
            sc.clear();
            fixed_rows.push(Some((cols, vals)));
        }
    }
    let row_of = |k: usize| -> (&[u16], &[Q32]) {
        match &fixed_rows[k] {
            Some((c, v)) => (c.as_slice(), v.as_slice()),
            None => (w.row_cols(rows[k]), w.row_vals(rows[k])),
        }
    };
    let mut count = vec![0usize; n + 1];
    for k in 0..rows.len() {
        for j in row_of(k).0 {
            count[usize::from(*j) + 1] += 1;
        }
    }
    for j in 0..n {
        count[j + 1] += count[j];
    }
    let mut fill = count.clone();
    let mut col_entries: Vec<(i64, i64)> = vec![(0, 0); count[n]];
    for (k, pk) in p.iter().enumerate() {
        let pk = pk.to_bits();
        let (cols, vals) = row_of(k);
        for (j, v) in cols.iter().zip(vals) {
            let slot = &mut fill[usize::from(*j)];
            col_entries[*slot] = (v.to_bits(), pk);
            *slot += 1;
        }
    }
    for (j, cj) in c.iter_mut().enumerate() {
        let entries = &mut col_entries[count[j]..count[j + 1]];
        if entries.is_empty() {
            continue;
        }
        let present: i64 = entries.iter().map(|e| e.1).sum();
        let absent = psum_b - present;
        // Rows without an entry weigh 0 here (if there are any): 0 is the result when their
        // stake alone exceeds the minority.
        if entries.len() < rows.len() && absent > minority_b {
            continue;
        }
        *cj = Q32::from_bits(sel.select(entries, minority_b - absent));
    }
    c
}

/// Weighted selection for the consensus columns, with a reusable histogram.
#[derive(Default)]
struct Selector {
    hist: Vec<i64>,
    /// Per bucket, its last entry (u32::MAX: none); per entry, the bucket's previous one.
    head: Vec<u32>,
    next: Vec<u32>,
    cand: Vec<(i64, i64)>,
}

impl Selector {
    /// Smallest weight `v` among `entries` (weight, stake) whose cumulative stake through `v`
    /// exceeds `target`; the largest weight if none does.
    ///
    /// One histogram pass of the stakes over the leading bits of the weights (relative to the
    /// column maximum) finds the bucket where the cumulative stake crosses `target`; only
    /// that bucket's entries go on to [`select_quick`]. Weights are non-negative (normalised
    /// weights); a column with a negative weight, or a short one, goes to
    /// [`select_quick`] directly. Same result as [`select_quick`] on the whole column
    /// (buckets are contiguous value ranges, lower buckets hold smaller weights).
    #[inline(never)]
    fn select(&mut self, entries: &mut [(i64, i64)], target: i64) -> i64 {
        let m = entries.len();
        if m < 32 || target < 0 {
            return select_quick(entries, target);
        }
        let (mut max, mut or) = (0i64, 0i64);
        for e in entries.iter() {
            max = max.max(e.0);
            or |= e.0;
        }
        if or < 0 {
            return select_quick(entries, target);
        }
        // About two entries per bucket: 2^(log2(m) − 1) buckets, at most 1024.
        let bucket_bits = (usize::BITS - m.leading_zeros() - 2).clamp(4, 10);
        let shift = (64 - max.leading_zeros()).saturating_sub(bucket_bits);
        let nb = (max >> shift) as usize + 1;
        self.hist.clear();
        self.hist.resize(nb, 0);
        self.head.clear();
        self.head.resize(nb, u32::MAX);
        // Every slot of `next` below m is written before it is read: only grow it.
        if self.next.len() < m {
            self.next.resize(m, u32::MAX);
        }
        let hist = &mut self.hist[..nb];
        let head = &mut self.head[..nb];
        // Each bucket's entries are chained (m < 2^32: a column has at most 65535 rows).
        for ((k, e), nx) in entries.iter().enumerate().zip(self.next.iter_mut()) {
            // e.0 <= max, so the bucket is < nb.
            let b = (e.0 >> shift) as usize;
            hist[b] += e.1;
            *nx = head[b];
            head[b] = k as u32;
        }
        let mut below = 0i64;
        let mut found = None;
        for (b, h) in hist.iter().enumerate() {
            if below + h > target {
                found = Some(b as i64);
                break;
            }
            below += h;
        }
        let Some(b) = found else {
            return max;
        };
        // The crossing bucket's entries (about two; the bucket holds positive stake, so at
        // least one), along its chain.
        self.cand.clear();
        let mut k = head[b as usize];
        while let Some(e) = entries.get(k as usize) {
            self.cand.push(*e);
            k = self.next[k as usize];
        }
        select_quick(&mut self.cand, target - below)
    }
}

/// Smallest weight `v` among `entries` (weight, stake) whose cumulative stake through `v`
/// exceeds `target`; the largest weight if none does. `entries` is reordered.
///
/// Quickselect with a median-of-three pivot and branch-free partitions (the result does not
/// depend on the pivots, see [`consensus`]).
#[inline(never)]
fn select_quick(entries: &mut [(i64, i64)], target: i64) -> i64 {
    if target < 0 {
        // Every cumulative stake (>= 0) exceeds the target: the smallest weight.
        return entries.iter().map(|e| e.0).min().unwrap_or(0);
    }
    let mut below = 0i64;
    let mut lo = 0usize;
    let mut hi = entries.len();
    loop {
        let s = &mut entries[lo..hi];
        let m = s.len();
        if m <= 12 {
            // Small: insertion sort by weight, then scan.
            for i in 1..m {
                let mut k = i;
                while k > 0 && s[k - 1].0 > s[k].0 {
                    s.swap(k - 1, k);
                    k -= 1;
                }
            }
            let mut cum = below;
            for e in s.iter() {
                cum += e.1;
                if cum > target {
                    return e.0;
                }
            }
            return s[m - 1].0;
        }
        let (a, b, c) = (s[0].0, s[m / 2].0, s[m - 1].0);
        let pivot = a.max(b).min(a.min(b).max(c));
        // Pass 1: entries below the pivot to the front; masses below and at the pivot.
        let (mut k, mut m_lt, mut m_eq, mut n_eq) = (0usize, 0i64, 0i64, 0usize);
        for i in 0..m {
            let e = s[i];
            s.swap(i, k);
            let lt = e.0 < pivot;
            let eq = e.0 == pivot;
            k += usize::from(lt);
            n_eq += usize::from(eq);
            m_lt += e.1 & -i64::from(lt);
            m_eq += e.1 & -i64::from(eq);
        }
        if target < below + m_lt {
            hi = lo + k;
            continue;
        }
        if target < below + m_lt + m_eq || k + n_eq == m {
            return pivot;
        }
        if k > 0 {
            // Continue in the entries at or above the pivot (the pivot's own mass is counted
            // again there).
            below += m_lt;
            lo += k;
            continue;
        }
        // The pivot is the minimum: move the entries equal to it to the front first.
        let mut k2 = 0usize;
        for i in 0..m {
            let e = s[i];
            s.swap(i, k2);
            k2 += usize::from(e.0 == pivot);
        }
        below += m_eq;
        lo += k2;
    }
}

/// §2.7 clipping: an entry above its column's consensus is capped at it (dropped when the
/// consensus is 0); others are kept as they are. In the same pass: validator trust (row sums
/// of the clipped rows), the rank `R[j] ⊕= A[i] ⊗ w̄` in row and entry order, and the
/// legacy unclipped rank.
#[inline(never)]
///
/// `w_unit`: the caller knows every value of W to lie in [0, 1] (otherwise it is checked).
///
/// `keep_zeros`: the caller accepts entries clipped to 0 staying in W̄ (with value 0) instead
/// of being dropped; then the values are clipped in place without compaction (same trust
/// and ranks: a dropped entry adds 0 to them).
fn clip_and_rank(
    w: Csr,
    c: &[Q32],
    a: &[Q32],
    w_unit: bool,
    keep_zeros: bool,
) -> (Csr, Vec<Q32>, Vec<Q32>, Vec<Q32>) {
    // Compaction in place: entries are only dropped, so writes never overtake reads.
    if w.cols.len() < 1 << 30 && all_unit(a) && all_unit(c) && (w_unit || all_unit(&w.vals)) {
        if keep_zeros {
            return clip_and_rank_keep(w, c, a);
        }
        return clip_and_rank_unit(w, c, a);
    }
    clip_and_rank_generic(w, c, a)
}

/// [`clip_and_rank_unit`] without dropping entries: an entry whose consensus is 0 keeps
/// the clipped value 0. Each value becomes `min(C[j], w)` in place (the same value the
/// compacting form keeps, or 0 where it drops the entry).
fn clip_and_rank_keep(mut w: Csr, c: &[Q32], a: &[Q32]) -> (Csr, Vec<Q32>, Vec<Q32>, Vec<Q32>) {
    let n = w.rows();
    // Per column: consensus, rank, unclipped rank.
    let mut col: Vec<[u64; 3]> = c.iter().map(|x| [x.to_bits() as u64, 0, 0]).collect();
    let mut vt = vec![ZERO; n];
    for (i, t_i) in vt.iter_mut().enumerate() {
        let ai = a[i].to_bits() as u64;
        let am = UnitMul::new(ai);
        let range = w.range(i);
        let mut t = 0u64;
        // The row loop, with `$a` multiplying by A[i].
        macro_rules! clip_row {
            ($a:expr) => {
                for (j, x) in w.cols[range.clone()].iter().zip(&mut w.vals[range]) {
                    let v = x.to_bits() as u64;
                    let cj = &mut col[usize::from(*j)];
                    cj[2] += $a(v);
                    let kept = cj[0].min(v);
                    *x = Q32::from_bits(kept as i64);
                    t += kept;
                    cj[1] += $a(kept);
                }
            };
        }
        if ai < 1 << 32 {
            // A[i] below 1: x·y < 2^64 for y <= 1, one 64-bit multiply and a shift.
            clip_row!(|y: u64| (ai * y) >> 32);
        } else {
            clip_row!(|y| am.mul(y));
        }
        *t_i = Q32::from_bits(t as i64);
    }
    let r = col.iter().map(|x| Q32::from_bits(x[1] as i64)).collect();
    let ru = col.iter().map(|x| Q32::from_bits(x[2] as i64)).collect();
    (w, vt, r, ru)
}

/// [`clip_and_rank`] for any values, with the saturating operations.
fn clip_and_rank_generic(mut w: Csr, c: &[Q32], a: &[Q32]) -> (Csr, Vec<Q32>, Vec<Q32>, Vec<Q32>) {
    let n = w.rows();
    let old_start = std::mem::take(&mut w.start);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0);
    let mut len = 0usize;
    let mut vt = vec![ZERO; n];
    let mut r = vec![ZERO; n];
    let mut ru = vec![ZERO; n];
    for i in 0..n {
        let ai = a[i];
        let mut t = ZERO;
        for at in old_start[i]..old_start[i + 1] {
            let j = w.cols[at];
            let v = w.vals[at];
            let ju = usize::from(j);
            let cj = c[ju];
            ru[ju] = sadd(ru[ju], mul(ai, v));
            // Capped at consensus; dropped when capped at 0.
            let kept = if cj < v { cj } else { v };
            if cj < v && cj <= ZERO {
                continue;
            }
            w.cols[len] = j;
            w.vals[len] = kept;
            len += 1;
            t = sadd(t, kept);
            r[ju] = sadd(r[ju], mul(ai, kept));
        }
        vt[i] = t;
        start.push(len);
    }
    w.cols.truncate(len);
    w.vals.truncate(len);
    w.start = start;
    let out = w;
    (out, vt, r, ru)
}

/// [`clip_and_rank`] when `A`, `C` and `W` lie in `[0, 1]` (always, for normalised inputs) and
/// `W` has fewer than 2^30 entries: every product is then at most 1 and every sum below
/// 2^62, so `⊗` is [`mul_unit`] and `⊕` a plain integer addition, with the same bits.
fn clip_and_rank_unit(mut w: Csr, c: &[Q32], a: &[Q32]) -> (Csr, Vec<Q32>, Vec<Q32>, Vec<Q32>) {
    let n = w.rows();
    // Per column: consensus, rank, unclipped rank (one bounds check per entry).
    let mut col: Vec<[u64; 3]> = c.iter().map(|x| [x.to_bits() as u64, 0, 0]).collect();
    let mut vt = vec![ZERO; n];
    let mut len = 0usize;
    let mut read = 0usize;
    for i in 0..n {
        let ai = a[i].to_bits() as u64;
        let am = UnitMul::new(ai);
        // The old end of row i (start[i + 1] is overwritten with the compacted end below).
        let end = w.start[i + 1];
        let mut t = 0u64;
        // The row loop, with `$a` multiplying by A[i].
        macro_rules! clip_row {
            ($a:expr) => {
                for at in read..end {
                    let j = w.cols[at];
                    let v = w.vals[at].to_bits() as u64;
                    let cj = &mut col[usize::from(j)];
                    cj[2] += $a(v);
                    // Capped at consensus; dropped (capped at 0) when the consensus is 0 and
                    // v > 0. A dropped entry has kept = 0, so it adds nothing below.
                    let kept = cj[0].min(v);
                    let keep = cj[0] != 0 || v == 0;
                    // len <= at: compaction in place never overtakes the reads.
                    w.cols[len] = j;
                    w.vals[len] = Q32::from_bits(kept as i64);
                    len += usize::from(keep);
                    t += kept;
                    cj[1] += $a(kept);
                }
            };
        }
        if ai < 1 << 32 {
            // A[i] below 1: x·y < 2^64 for y <= 1, one 64-bit multiply and a shift.
            clip_row!(|y: u64| (ai * y) >> 32);
        } else {
            clip_row!(|y| am.mul(y));
        }
        vt[i] = Q32::from_bits(t as i64);
        read = end;
        w.start[i + 1] = len;
    }
    w.cols.truncate(len);
    w.vals.truncate(len);
    let r = col.iter().map(|x| Q32::from_bits(x[1] as i64)).collect();
    let ru = col.iter().map(|x| Q32::from_bits(x[2] as i64)).collect();
    (w, vt, r, ru)
}

/// What [`clip_ema3`] computes.
struct ClipEma3 {
    /// The new bonds E; rows merged as a zip keep entries equal to 0 (which add nothing to
    /// the sums or dividends and are left out of the stored rows).
    e: Csr,
    /// Column sums of E (integers; every value in [0, 1]).
    e_sums: Vec<u64>,
    /// Validator trust: row sums of W̄.
    trust: Vec<Q32>,
    /// Rank from W̄.
    rank: Vec<Q32>,
    /// Legacy rank from W.
    rank_unclipped: Vec<Q32>,
}

impl ClipEma3 {
    /// The result of a fused pass: E from its row starts and the first `len` of its columns
    /// and values; the per-column records hold (consensus, rank, legacy rank, E's sum).
    fn assemble(
        start: Vec<usize>,
        mut cols: Vec<u16>,
        mut vals: Vec<Q32>,
        len: usize,
        col: &[[u64; 4]],
        trust: Vec<Q32>,
    ) -> ClipEma3 {
        cols.truncate(len);
        vals.truncate(len);
        let q = |k: usize| col.iter().map(|x| Q32::from_bits(x[k] as i64)).collect();
        ClipEma3 {
            rank: q(1),
            rank_unclipped: q(2),
            e_sums: col.iter().map(|x| x[3]).collect(),
            trust,
            e: Csr { start, cols, vals },
        }
    }
}

/// §2.7 clipping and ranks fused with the §2.9.b bonds EMA `E = α ⊗ W̄ ⊕ (1 ⊖ α) ⊗ B`
/// (`B = stored ⊘ 65535`), for Yuma‑3 with β = 1 (so W_b = W̄) and a constant α: each row
/// of W is clipped while it is merged with the stored bond row, and W̄ is never stored.
///
/// Requires every row of W strictly increasing with values in [0, 1] (the caller knows
/// this), and checks the rest: A, C, α and 1 − α in [0, 1], stored rows strictly
/// increasing, fewer than 2^30 entries; `None` otherwise. In [0, 1] the integer forms are
/// the saturating operations (see [`clip_and_rank_unit`] and [`ema_fast`]). A dropped entry
/// (consensus 0) has the clipped value 0, which adds nothing to trust, rank or E (the merge
/// would give `(1 ⊖ α) ⊗ b` for its column either way), so no entry needs a drop flag.
/// Proptested against [`clip_and_rank`] followed by [`mat_ema`].
#[inline(never)]
fn clip_ema3(
    w: &Csr,
    c: &[Q32],
    a: &[Q32],
    bonds: &[SparseRow],
    recent: &[bool],
    alpha: Q32,
    (mut cols, mut vals): Entries,
) -> Option<ClipEma3> {
    let n = w.rows();
    let one_minus = ONE.saturating_sub(alpha);
    let bonds_nnz: usize = bonds.iter().map(Vec::len).sum();
    if bonds.len() != n
        || c.len() != n
        || a.len() != n
        || w.cols.len().saturating_add(bonds_nnz) >= 1 << 30
        || !all_unit(&[alpha, one_minus])
        || !all_unit(a)
        || !all_unit(c)
    {
        return None;
    }
    let (al, om) = (alpha.to_bits() as u64, one_minus.to_bits() as u64);
    let (alm, omm) = (UnitMul::new(al), UnitMul::new(om));
    let cap = w.cols.len() + bonds_nnz;
    // Slots are written before they are read: stale contents are harmless.
    cols.resize(cap, 0);
    vals.resize(cap, ZERO);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0usize);
    // Per column: consensus, rank, unclipped rank, E sum.
    let mut col: Vec<[u64; 4]> = c.iter().map(|x| [x.to_bits() as u64, 0, 0, 0]).collect();
    let mut trust = vec![ZERO; n];
    let mut len = 0usize;
    // No column registered since the last tempo: every in-range stored column is live.
    let none_recent = !recent.iter().any(|r| *r);
    for (i, row) in bonds.iter().enumerate() {
        let ai = a[i].to_bits() as u64;
        let am = UnitMul::new(ai);
        let (nc, nv) = (w.row_cols(i), w.row_vals(i));
        let mut t = 0u64;
        if none_recent && row.len() == nc.len() && same_columns(row, nc) {
            // Same columns in the stored row as in W's row (typical: last epoch's bonds on
            // this epoch's weights; in range since W's are): the merge is a zip, and E's row
            // has W's columns, zeros included (no compaction; see [`ClipEma3::e`]).
            let m = nc.len();
            // len + m <= the entries of the rows so far <= cap: in bounds.
            let (oc, ov) = (&mut cols[len..len + m], &mut vals[len..len + m]);
            // The loop, with `$a`, `$al`, `$om` multiplying by A[i], α and 1 − α.
            macro_rules! zip_row {
                ($a:expr, $al:expr, $om:expr) => {
                    for ((((j, v), (_, b)), c), x) in nc
                        .iter()
                        .zip(nv)
                        .zip(row)
                        .zip(oc.iter_mut())
                        .zip(ov.iter_mut())
                    {
                        let v = v.to_bits() as u64;
                        let cj = &mut col[usize::from(*j)];
                        cj[2] += $a(v);
                        let kept = cj[0].min(v);
                        t += kept;
                        cj[1] += $a(kept);
                        let e = $om(u16_proportion(*b).to_bits() as u64) + $al(kept);
                        cj[3] += e;
                        *c = *j;
                        *x = Q32::from_bits(e as i64);
                    }
                };
            }
            if ai < 1 << 32 && al < 1 << 32 && om < 1 << 32 {
                // Factors below 1 (the usual case): x·y < 2^64 for y <= 1, so `⊗` is one
                // 64-bit multiply and a shift (fewer registers than [`UnitMul`]).
                zip_row!(
                    |y: u64| (ai * y) >> 32,
                    |y: u64| (al * y) >> 32,
                    |y: u64| (om * y) >> 32
                );
            } else {
                zip_row!(|y| am.mul(y), |y| alm.mul(y), |y| omm.mul(y));
            }
            len += m;
            trust[i] = Q32::from_bits(t as i64);
            start.push(len);
            continue;
        }
        // Clips entry x of the W row: updates the ranks and trust, returns α ⊗ w̄.
        let mut clip = |x: usize, col: &mut [[u64; 4]]| -> u64 {
            let v = nv[x].to_bits() as u64;
            let cj = &mut col[usize::from(nc[x])];
            cj[2] += am.mul(v);
            let kept = cj[0].min(v);
            t += kept;
            cj[1] += am.mul(kept);
            alm.mul(kept)
        };
        // Writes one E entry (kept when positive); len <= entries merged so far < cap.
        let mut put = |len: &mut usize, col: &mut [[u64; 4]], j: u16, v: u64| {
            cols[*len] = j;
            vals[*len] = Q32::from_bits(v as i64);
            col[usize::from(j)][3] += v;
            *len += usize::from(v > 0);
        };
        if !row.windows(2).all(|w| w[0].0 < w[1].0) {
            // A stored row out of order: the generic path handles it.
            return None;
        }
        let mut x = 0usize;
        for &(oj, ov) in row {
            let oju = usize::from(oj);
            if !matches!(recent.get(oju), Some(false)) {
                continue;
            }
            while x < nc.len() && nc[x] < oj {
                let v = clip(x, &mut col);
                put(&mut len, &mut col, nc[x], v);
                x += 1;
            }
            let mut v = omm.mul(u16_proportion(ov).to_bits() as u64);
            if x < nc.len() && nc[x] == oj {
                v += clip(x, &mut col);
                x += 1;
            }
            put(&mut len, &mut col, oj, v);
        }
        while x < nc.len() {
            let v = clip(x, &mut col);
            put(&mut len, &mut col, nc[x], v);
            x += 1;
        }
        trust[i] = Q32::from_bits(t as i64);
        start.push(len);
    }
    Some(ClipEma3::assemble(start, cols, vals, len, &col, trust))
}

/// [`clip_ema3`] with the liquid-alpha rate (§2.10): each row of W is clipped (ranks and
/// trust as [`clip_and_rank`]) while E's row is formed over W̄'s columns only (an entry
/// dropped by clipping, consensus 0, is not one of them): per entry the stored bond of that
/// column (0 if absent, out of range or registered since the last tempo), its rate,
/// `(1 ⊖ α) ⊗ b ⊕ α ⊗ w̄` kept when positive (at most `max(b, w̄) <= 1`, so the reference's
/// cap at 1 never applies; a row merged as a zip, stored row with W's
/// columns, keeps 0 entries instead, as [`clip_ema3`]). Requires W's rows strictly increasing with
/// values in [0, 1] (the caller knows this) and checks the rest: A and C in [0, 1], some
/// consensus positive (otherwise the reference uses the constant α), stored rows strictly
/// increasing, fewer than 2^30 entries; `None` otherwise. Proptested against
/// [`clip_and_rank`] followed by [`mat_ema_alpha`].
#[inline(never)]
fn clip_ema_alpha(
    w: &Csr,
    c: &[Q32],
    a: &[Q32],
    bonds: &[SparseRow],
    recent: &[bool],
    sig: &mut AlphaSigmoid,
    (mut cols, mut vals): Entries,
) -> Option<ClipEma3> {
    let n = w.rows();
    if bonds.len() != n
        || c.len() != n
        || a.len() != n
        || recent.len() != n
        || w.cols.len() >= 1 << 30
        || c.iter().all(|x| *x == ZERO)
        || !all_unit(a)
        || !all_unit(c)
    {
        return None;
    }
    cols.resize(w.cols.len(), 0);
    vals.resize(w.cols.len(), ZERO);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0usize);
    // Per column: consensus, rank, unclipped rank, E sum.
    let mut col: Vec<[u64; 4]> = c.iter().map(|x| [x.to_bits() as u64, 0, 0, 0]).collect();
    let mut trust = vec![ZERO; n];
    let mut len = 0usize;
    // No column registered since the last tempo: every in-range stored column is live.
    let none_recent = !recent.iter().any(|r| *r);
    for (i, row) in bonds.iter().enumerate() {
        let ai = a[i].to_bits() as u64;
        let am = UnitMul::new(ai);
        let (nc, nv) = (w.row_cols(i), w.row_vals(i));
        let mut t = 0u64;
        let mut y = 0usize;
        // The row loop, with `$a` multiplying by A[i] and `$b(k, j, ju)` the stored bond (as
        // Q32 bits) at entry k, column j (= ju) of W's row.
        macro_rules! row_loop {
            ($a:expr, $b:expr) => {
                let bond_at = &mut $b;
                for (k, (j, x)) in nc.iter().zip(nv).enumerate() {
                    let v = x.to_bits() as u64;
                    let ju = usize::from(*j);
                    let cj = &mut col[ju];
                    cj[2] += $a(v);
                    let kept = cj[0].min(v);
                    t += kept;
                    cj[1] += $a(kept);
                    if cj[0] == 0 && v > 0 {
                        // Dropped by clipping: not a column of W̄.
                        continue;
                    }
                    let b: u64 = bond_at(k, *j, ju);
                    // The rate lies in [alpha_low, alpha_high], within [0, 1]. w̄ <= c: where
                    // w̄ >= b the disagreement (w̄ ⊖ c, clamped) is 0; otherwise it is b ⊖ w̄,
                    // in (0, 1] ([`AlphaSigmoid::alpha`]).
                    let al = if kept >= b {
                        sig.at_zero
                    } else {
                        sig.rate(Q32::from_bits((b - kept) as i64))
                    };
                    let al = al.to_bits() as u64;
                    let e = if al.wrapping_sub(1) < (1 << 32) - 1 {
                        // 0 < α < 1 (the usual rates): both products fit 64 bits.
                        ((((1u64 << 32) - al) * b) >> 32) + ((al * kept) >> 32)
                    } else {
                        mul_unit((1u64 << 32) - al, b) + mul_unit(al, kept)
                    };
                    // len <= entries of W so far < its length.
                    cols[len] = *j;
                    vals[len] = Q32::from_bits(e as i64);
                    cj[3] += e;
                    len += usize::from(e > 0);
                }
            };
        }
        // Same columns in the stored row as in W's row (typical: last epoch's bonds on this
        // epoch's weights; in range since W's are): the bond of entry k is the stored row's
        // entry k. Otherwise the stored row is walked along W's (it must be increasing).
        let same = none_recent && row.len() == nc.len() && same_columns(row, nc);
        if !same && !row.windows(2).all(|w| w[0].0 < w[1].0) {
            return None;
        }
        let mut walk = |_: usize, j: u16, ju: usize| -> u64 {
            while y < row.len() && row[y].0 < j {
                y += 1;
            }
            match row.get(y) {
                Some(&(oj, ov)) if oj == j && matches!(recent.get(ju), Some(false)) => {
                    u16_proportion(ov).to_bits() as u64
                }
                _ => 0,
            }
        };
        // Same columns: every entry is written through a zip (no compaction); an entry dropped
        // by clipping, or whose result is 0, is a 0 entry of E (it adds nothing to the sums
        // or dividends and is left out of the stored rows, see [`ClipEma3::e`]).
        macro_rules! zip_loop {
            ($a:expr) => {
                let m = nc.len();
                // len + m <= the entries of W's rows so far <= its length: in bounds.
                let (oc, ox) = (&mut cols[len..len + m], &mut vals[len..len + m]);
                for ((((j, x), (_, ov)), oc), ox) in nc
                    .iter()
                    .zip(nv)
                    .zip(row)
                    .zip(oc.iter_mut())
                    .zip(ox.iter_mut())
                {
                    let v = x.to_bits() as u64;
                    let cj = &mut col[usize::from(*j)];
                    cj[2] += $a(v);
                    let kept = cj[0].min(v);
                    t += kept;
                    cj[1] += $a(kept);
                    let b = u16_proportion(*ov).to_bits() as u64;
                    // As in the walking loop: the rate at disagreement 0 where w̄ >= b.
                    let al = if kept >= b {
                        sig.at_zero
                    } else {
                        sig.rate(Q32::from_bits((b - kept) as i64))
                    };
                    let al = al.to_bits() as u64;
                    let e = if al.wrapping_sub(1) < (1 << 32) - 1 {
                        ((((1u64 << 32) - al) * b) >> 32) + ((al * kept) >> 32)
                    } else {
                        mul_unit((1u64 << 32) - al, b) + mul_unit(al, kept)
                    };
                    // Dropped by clipping (consensus 0, w > 0): not a column of W̄.
                    let e = if cj[0] == 0 && v > 0 { 0 } else { e };
                    cj[3] += e;
                    *oc = *j;
                    *ox = Q32::from_bits(e as i64);
                }
                len += m;
            };
        }
        match (ai < 1 << 32, same) {
            // A[i] below 1: x·y < 2^64 for y <= 1, one 64-bit multiply and a shift.
            (true, true) => {
                zip_loop!(|y: u64| (ai * y) >> 32);
            }
            (true, false) => {
                row_loop!(|y: u64| (ai * y) >> 32, walk);
            }
            (false, true) => {
                zip_loop!(|y| am.mul(y));
            }
            (false, false) => {
                row_loop!(|y| am.mul(y), walk);
            }
        }
        trust[i] = Q32::from_bits(t as i64);
        start.push(len);
    }
    Some(ClipEma3::assemble(start, cols, vals, len, &col, trust))
}

/// §2.8 `interpolate(W, W̄, β)`: `W` for β = 0, `W̄` for β = 1, otherwise per ascending
/// column `x = w ⊕ β ⊗ (w̄ ⊖ w)` kept where positive.
#[inline(never)]
fn interpolate<'a>(w: &'a Csr, wc: &'a Csr, beta: Q32, n: usize) -> Cow<'a, Csr> {
    if beta == ZERO {
        return Cow::Borrowed(w);
    }
    if beta == ONE {
        return Cow::Borrowed(wc);
    }
    let mut out = Csr::with_capacity(w.rows(), w.cols.len());
    let mut s1: Option<Scratch> = None;
    let mut s2: Option<Scratch> = None;
    let f = |m1: Q32, m2: Q32| m1.saturating_add(mul(beta, m2.saturating_sub(m1)));
    for i in 0..w.rows() {
        if w.row_is_sorted(i) {
            // W̄'s row is a subsequence of W's row (same columns, same order).
            let cc = wc.row_cols(i);
            let cv = wc.row_vals(i);
            let mut k = 0;
            for (j, m1) in w.row_cols(i).iter().zip(w.row_vals(i)) {
                let m2 = if k < cc.len() && cc[k] == *j {
                    k += 1;
                    cv[k - 1]
                } else {
                    ZERO
                };
                let x = f(*m1, m2);
                if x > ZERO {
                    out.push(*j, x);
                }
            }
        } else {
            let a = s1.get_or_insert_with(|| Scratch::new(n));
            let b = s2.get_or_insert_with(|| Scratch::new(n));
            for (j, v) in w.row_cols(i).iter().zip(w.row_vals(i)) {
                a.touch(*j);
                a.val[usize::from(*j)] = *v;
            }
            for (j, v) in wc.row_cols(i).iter().zip(wc.row_vals(i)) {
                b.touch(*j);
                b.val[usize::from(*j)] = *v;
            }
            a.sort_touched();
            for j in &a.touched {
                let ju = usize::from(*j);
                let x = f(a.val[ju], b.val[ju]);
                if x > ZERO {
                    out.push(*j, x);
                }
            }
            a.clear();
            b.clear();
        }
        out.end_row();
    }
    Cow::Owned(out)
}

/// Stored bonds as Q32 (integers for Yuma‑2, `⊘ 65535` proportions for Yuma‑3), without
/// out-of-range columns and without columns registered since the last tempo (§2.9).
#[inline(never)]
fn input_bonds(bonds: &[SparseRow], n: usize, recent: &[bool], proportion: bool) -> Csr {
    let nnz: usize = bonds.iter().map(Vec::len).sum();
    let mut b = Csr::with_capacity(n, nnz);
    for row in bonds.iter().take(n) {
        for (j, v) in row {
            let ju = usize::from(*j);
            if ju >= n || recent[ju] {
                continue;
            }
            let v = if proportion {
                u16_proportion(*v)
            } else {
                q32_int(*v)
            };
            b.push(*j, v);
        }
        b.end_row();
    }
    b
}

/// Row-by-row access to a matrix of previous bonds, filled into reusable buffers.
trait OldRows {
    /// Replaces `cols`/`vals` with row `i`.
    fn fill(&self, i: usize, cols: &mut Vec<u16>, vals: &mut Vec<Q32>);
    /// Upper bound of the number of entries.
    fn nnz_hint(&self) -> usize;
    /// Appends `α ⊗ new ⊕ (1 ⊖ α) ⊗ old` of row `i` (positive values, ascending columns)
    /// to `out` straight from the stored row, when `new` (`nc`, strictly increasing) and the
    /// stored row allow a single merge; returns false (nothing appended) otherwise.
    fn merge_row(
        &self,
        _i: usize,
        _nc: &[u16],
        _nv: &[Q32],
        _alpha: Q32,
        _one_minus: Q32,
        _out: &mut Csr,
    ) -> bool {
        false
    }
}

impl OldRows for Csr {
    fn nnz_hint(&self) -> usize {
        self.cols.len()
    }

    fn fill(&self, i: usize, cols: &mut Vec<u16>, vals: &mut Vec<Q32>) {
        cols.clear();
        vals.clear();
        cols.extend_from_slice(self.row_cols(i));
        vals.extend_from_slice(self.row_vals(i));
    }

    fn merge_row(
        &self,
        i: usize,
        nc: &[u16],
        nv: &[Q32],
        alpha: Q32,
        one_minus: Q32,
        out: &mut Csr,
    ) -> bool {
        if !self.row_is_sorted(i) {
            return false;
        }
        let (oc, ov) = (self.row_cols(i), self.row_vals(i));
        let unit = all_unit(ov);
        merge_ema(
            nc,
            nv,
            oc.iter().copied().zip(ov.iter().copied()),
            alpha,
            one_minus,
            unit,
            out,
        );
        true
    }
}

/// One row of `mat_ema` as a merge of two strictly increasing rows: `α ⊗ new ⊕ (1 ⊖ α) ⊗ old`
/// over the union of columns, positive values appended to `out`. With `old_unit` (every old
/// value in [0, 1]) and α, 1 − α and the new values in [0, 1], no product saturates and each
/// sum stays below 2, so the integer form gives the same bits.
fn merge_ema(
    nc: &[u16],
    nv: &[Q32],
    old: impl Iterator<Item = (u16, Q32)>,
    alpha: Q32,
    one_minus: Q32,
    old_unit: bool,
    out: &mut Csr,
) {
    let unit = old_unit && all_unit(&[alpha, one_minus]) && all_unit(nv);
    let (al, om) = (alpha.to_bits() as u64, one_minus.to_bits() as u64);
    let mut x = 0;
    for (oj, ov) in old {
        while x < nc.len() && nc[x] < oj {
            let v = mul(alpha, nv[x]);
            if v > ZERO {
                out.push(nc[x], v);
            }
            x += 1;
        }
        let v = if unit {
            let old = mul_unit(om, ov.to_bits() as u64);
            let v = if x < nc.len() && nc[x] == oj {
                x += 1;
                old + mul_unit(al, nv[x - 1].to_bits() as u64)
            } else {
                old
            };
            Q32::from_bits(v as i64)
        } else {
            let old = mul(one_minus, ov);
            if x < nc.len() && nc[x] == oj {
                x += 1;
                sadd(mul(alpha, nv[x - 1]), old)
            } else {
                old
            }
        };
        if v > ZERO {
            out.push(oj, v);
        }
    }
    for (j, w) in nc[x..].iter().zip(&nv[x..]) {
        let v = mul(alpha, *w);
        if v > ZERO {
            out.push(*j, v);
        }
    }
}

/// Yuma‑3 previous bonds read straight from the input rows (§2.9.b): `value ⊘ 65535`, without
/// out-of-range columns and columns registered since the last tempo. No matrix is built.
struct BondRows<'a> {
    rows: &'a [SparseRow],
    n: usize,
    recent: &'a [bool],
}

impl OldRows for BondRows<'_> {
    fn nnz_hint(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    fn merge_row(
        &self,
        i: usize,
        nc: &[u16],
        nv: &[Q32],
        alpha: Q32,
        one_minus: Q32,
        out: &mut Csr,
    ) -> bool {
        let raw = &self.rows[i];
        if !raw.windows(2).all(|w| w[0].0 < w[1].0) {
            return false;
        }
        // Both sides strictly increasing: the merge of `mat_ema`, with the input filter
        // (out-of-range and recently registered columns) applied on the fly. Stored
        // proportions lie in [0, 1].
        let old = raw.iter().filter_map(|&(oj, ov)| {
            let oju = usize::from(oj);
            (oju < self.n && !self.recent[oju]).then(|| (oj, u16_proportion(ov)))
        });
        merge_ema(nc, nv, old, alpha, one_minus, true, out);
        true
    }

    fn fill(&self, i: usize, cols: &mut Vec<u16>, vals: &mut Vec<Q32>) {
        cols.clear();
        vals.clear();
        for (j, v) in &self.rows[i] {
            let ju = usize::from(*j);
            if ju < self.n && !self.recent[ju] {
                cols.push(*j);
                vals.push(u16_proportion(*v));
            }
        }
    }
}

/// True when the stored row's columns are `cols` (same length assumed): one pass without an
/// early exit, which the compiler vectorises.
#[inline]
fn same_columns(row: &[(u16, u16)], cols: &[u16]) -> bool {
    row.iter().zip(cols).fold(0u16, |d, (o, j)| d | (o.0 ^ *j)) == 0
}

/// True when `cols` is strictly increasing.
#[inline]
fn is_sorted_strict(cols: &[u16]) -> bool {
    cols.windows(2).all(|w| w[0] < w[1])
}

/// Sparse `mat_ema(new, old, α)` (§2.9.a): per row `α ⊗ new ⊕ (1 ⊖ α) ⊗ old` over the union
/// of both patterns, ascending columns, positive results only.
fn mat_ema<O: OldRows>(new: &Csr, old: &O, alpha: Q32, n: usize) -> Csr {
    let one_minus = ONE.saturating_sub(alpha);
    let mut out = Csr::with_capacity(new.rows(), new.cols.len() + old.nnz_hint());
    let mut sc: Option<Scratch> = None;
    let (mut ocb, mut ovb) = (Vec::new(), Vec::new());
    for i in 0..new.rows() {
        let (nc, nv) = (new.row_cols(i), new.row_vals(i));
        if new.row_is_sorted(i) && old.merge_row(i, nc, nv, alpha, one_minus, &mut out) {
            out.end_row();
            continue;
        }
        old.fill(i, &mut ocb, &mut ovb);
        let (oc, ov) = (ocb.as_slice(), ovb.as_slice());
        if nc == oc && new.row_is_sorted(i) {
            // Same pattern (typical: last epoch's bonds on this epoch's weights).
            for ((j, a), b) in nc.iter().zip(nv).zip(ov) {
                let v = sadd(mul(alpha, *a), mul(one_minus, *b));
                if v > ZERO {
                    out.push(*j, v);
                }
            }
        } else if new.row_is_sorted(i) && is_sorted_strict(oc) {
            let (mut x, mut y) = (0, 0);
            while x < nc.len() || y < oc.len() {
                let (j, v) = if y >= oc.len() || (x < nc.len() && nc[x] < oc[y]) {
                    x += 1;
                    (nc[x - 1], mul(alpha, nv[x - 1]))
                } else if x >= nc.len() || oc[y] < nc[x] {
                    y += 1;
                    (oc[y - 1], mul(one_minus, ov[y - 1]))
                } else {
                    x += 1;
                    y += 1;
                    let v = mul(alpha, nv[x - 1]);
                    (nc[x - 1], sadd(v, mul(one_minus, ov[y - 1])))
                };
                if v > ZERO {
                    out.push(j, v);
                }
            }
        } else {
            let s = sc.get_or_insert_with(|| Scratch::new(n));
            for (j, v) in nc.iter().zip(nv) {
                s.touch(*j);
                let acc = &mut s.val[usize::from(*j)];
                *acc = sadd(*acc, mul(alpha, *v));
            }
            for (j, v) in oc.iter().zip(ov) {
                s.touch(*j);
                let acc = &mut s.val[usize::from(*j)];
                *acc = sadd(*acc, mul(one_minus, *v));
            }
            s.sort_touched();
            for j in &s.touched {
                let v = s.val[usize::from(*j)];
                if v > ZERO {
                    out.push(*j, v);
                }
            }
            s.clear();
        }
        out.end_row();
    }
    out
}

/// §2.9.a Yuma‑2: returns (un-normalised dividends, bonds to store).
#[inline(never)]
fn yuma2(
    wb: &Csr,
    mut b: Csr,
    a: &[Q32],
    inc: &[Q32],
    alpha: Q32,
    n: usize,
    allow_unit: bool,
) -> (Vec<Q32>, Csr) {
    b.col_normalize(n);
    let unit_in =
        allow_unit && wb.cols.len() < 1 << 30 && all_unit(&wb.vals) && all_unit(a) && all_unit(inc);
    // ΔB = Wb rows scaled by active stake, column sums taken in the same pass.
    let mut delta = Csr {
        start: wb.start.clone(),
        cols: wb.cols.clone(),
        vals: Vec::with_capacity(wb.vals.len()),
    };
    if unit_in {
        // Every product is at most 1 and every column sum below 2^62: u64 arithmetic.
        let mut colsum = vec![0u64; n];
        for (i, ai) in a.iter().enumerate() {
            let ai = ai.to_bits() as u64;
            for (j, v) in wb.row_cols(i).iter().zip(wb.row_vals(i)) {
                let x = mul_unit(v.to_bits() as u64, ai);
                colsum[usize::from(*j)] += x;
                delta.vals.push(Q32::from_bits(x as i64));
            }
        }
        let divs = UnitDivs::new(colsum);
        for (j, v) in delta.cols.iter().zip(delta.vals.iter_mut()) {
            *v = divs.div(usize::from(*j), *v);
        }
    } else {
        let mut colsum = vec![ZERO; n];
        for (i, ai) in a.iter().enumerate() {
            for (j, v) in wb.row_cols(i).iter().zip(wb.row_vals(i)) {
                let x = mul(*v, *ai);
                let s = &mut colsum[usize::from(*j)];
                *s = sadd(*s, x);
                delta.vals.push(x);
            }
        }
        let divs: Vec<Option<QDiv>> = colsum
            .iter()
            .map(|s| (*s != ZERO).then(|| QDiv::new(*s)))
            .collect();
        for (j, v) in delta.cols.iter().zip(delta.vals.iter_mut()) {
            if let Some(d) = &divs[usize::from(*j)] {
                *v = d.div(*v);
            }
        }
    }
    let mut e = mat_ema(&delta, &b, alpha, n);
    drop(delta);
    if unit_in && e.cols.len() < 1 << 30 && all_unit(&e.vals) {
        // Column-normalise E, dividends and column maxima in one pass, then the upscale.
        let mut colsum = vec![0u64; n];
        for (c, v) in e.cols.iter().zip(&e.vals) {
            colsum[usize::from(*c)] += v.to_bits() as u64;
        }
        let divs = UnitDivs::new(colsum);
        let incb: Vec<u64> = inc.iter().map(|x| x.to_bits() as u64).collect();
        let mut colmax = vec![0u64; n];
        let mut d = vec![ZERO; n];
        for (i, di) in d.iter_mut().enumerate() {
            let range = e.range(i);
            let mut acc = 0u64;
            for (j, v) in e.cols[range.clone()].iter().zip(&mut e.vals[range]) {
                let ju = usize::from(*j);
                *v = divs.div(ju, *v);
                let vb = v.to_bits() as u64;
                colmax[ju] = colmax[ju].max(vb);
                acc += mul_unit(incb[ju], vb);
            }
            *di = Q32::from_bits(acc as i64);
        }
        let ups = UnitDivs::new(colmax);
        for (j, v) in e.cols.iter().zip(e.vals.iter_mut()) {
            *v = ups.div(usize::from(*j), *v);
        }
        return (d, e);
    }
    // Column-normalise E, and in the same pass form the dividends and the column maxima.
    let divs = e.col_sum_divs(n);
    let mut colmax = vec![ZERO; n];
    let mut d = vec![ZERO; n];
    for (i, di) in d.iter_mut().enumerate() {
        let range = e.range(i);
        let mut acc = ZERO;
        for (j, v) in e.cols[range.clone()].iter().zip(&mut e.vals[range]) {
            let ju = usize::from(*j);
            if let Some(dv) = &divs[ju] {
                *v = dv.div(*v);
            }
            if *v > colmax[ju] {
                colmax[ju] = *v;
            }
            acc = sadd(acc, mul(inc[ju], *v));
        }
        *di = acc;
    }
    // Column max-upscale for storage.
    let ups: Vec<Option<QDiv>> = colmax
        .iter()
        .map(|m| (*m != ZERO).then(|| QDiv::new(*m)))
        .collect();
    for (j, v) in e.cols.iter().zip(e.vals.iter_mut()) {
        if let Some(u) = &ups[usize::from(*j)] {
            *v = u.div(*v);
        }
    }
    (d, e)
}

/// Exact `v ⊘ s` per column for `0 ≤ v ≤ s` (a value and a sum or maximum it is part of):
/// the quotient is at most 1, so `⊘` is `floor(v · 2^32 / s)`; `v` is left unchanged where
/// `s = 0` (the column is all zero), as the saturating path does: there `v = 0`, and it is
/// divided by 1 instead.
struct UnitDivs {
    divs: Vec<Divider>,
}

impl UnitDivs {
    fn new(sums: Vec<u64>) -> Self {
        let divs = sums.iter().map(|s| Divider::new((*s).max(1))).collect();
        UnitDivs { divs }
    }

    #[inline(always)]
    fn div(&self, j: usize, v: Q32) -> Q32 {
        let d = &self.divs[j];
        let v = v.to_bits() as u64;
        let q = if v < 1 << 32 {
            d.div(v << 32)
        } else {
            // v = 1 (so s >= 1 and the quotient is at most 1).
            ((u128::from(v) << 32) / u128::from(d.divisor())) as u64
        };
        Q32::from_bits(q as i64)
    }
}

/// §2.9 bonds and dividends (Yuma‑3 without liquid alpha, or Yuma‑2) in the common case,
/// with integer arithmetic: every row of `Wb` and of the stored bonds strictly increasing,
/// `Wb`, `A`, `I`, `α` and `1 − α` in [0, 1], fewer than 2^30 entries, and (Yuma‑2) stored
/// bond column sums below 2^31. Returns `None` (nothing computed) otherwise; the caller then
/// runs [`yuma3`] or [`yuma2`], whose results this equals bit for bit (proptested).
///
/// Yuma‑3: `E = α ⊗ Wb ⊕ (1 ⊖ α) ⊗ B` with `B = stored ⊘ 65535`, merged row by row from the
/// input rows, column sums of E taken while writing it, then the dividends.
/// Yuma‑2: `B` is column-normalised (`stored ⊘ ΣB[·,j]`, one exact reciprocal division per
/// column since the sums are integers), `ΔB = Wb ⊗ A` column-normalised (its sums taken in a
/// first pass, its values recomputed in the merge instead of stored); E is then
/// column-normalised, dividends and column maxima formed, and E max-upscaled for storage.
///
/// In [0, 1] no `⊗` saturates and no `⊕` sum of fewer than 2^30 terms reaches 2^62, so the
/// integer forms ([`mul_unit`], `u64` addition) give the saturating operations' bits; every
/// `⊘` here divides a value by a sum or maximum it is part of, so its quotient is at most 1
/// and is one exact integer division ([`UnitDivs`]).
///
/// `known`: `Some(sorted)` when the caller knows `Wb` to lie in [0, 1], with `sorted` true
/// when it also knows every row of `Wb` to be strictly increasing; what is not known is
/// checked. `permit`: when given, Yuma‑2 returns the stored bond rows (E as u16
/// proportions, rows without a new permit empty) formed in its upscale pass, and E is left
/// un-upscaled. `dsum_known`: the column sums of `Wb ⊗ A` if the caller has them: with `Wb = W̄`
/// they are the clipped rank `R[j] = Σ_i A[i] ⊗ W̄[i,j]` (the same products and sums).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn ema_fast(
    wb: &Csr,
    bonds: &[SparseRow],
    recent: &[bool],
    a: &[Q32],
    inc: &[Q32],
    alpha: Q32,
    yuma3: bool,
    known: Option<bool>,
    dsum_known: Option<&[Q32]>,
    permit: Option<&[bool]>,
    buf: Entries,
) -> Option<(Vec<Q32>, Csr, Option<Vec<SparseRow>>)> {
    let n = wb.rows();
    let one_minus = ONE.saturating_sub(alpha);
    let bonds_nnz: usize = bonds.iter().map(Vec::len).sum();
    if bonds.len() != n
        || recent.len() != n
        || a.len() != n
        || inc.len() != n
        || wb.cols.len().saturating_add(bonds_nnz) >= 1 << 30
        || !all_unit(&[alpha, one_minus])
        || !all_unit(a)
        || !all_unit(inc)
        || !(known.is_some() || all_unit(&wb.vals))
        || !(known == Some(true) || (0..n).all(|i| wb.row_is_sorted(i)))
    {
        return None;
    }
    let (al, om) = (alpha.to_bits() as u64, one_minus.to_bits() as u64);
    let (alm, omm) = (UnitMul::new(al), UnitMul::new(om));
    let live = |j: usize| matches!(recent.get(j), Some(false));
    if yuma3 {
        if !bonds.iter().all(|r| r.windows(2).all(|w| w[0].0 < w[1].0)) {
            return None;
        }
        let (e, sums) = ema_merge(
            wb,
            bonds,
            buf,
            al,
            om,
            live,
            |_, _, v| v,
            |_, ov| u16_proportion(ov).to_bits() as u64,
        );
        let d = dividends3_unit(&e, a, inc, n, Some(sums));
        return Some((d, e, None));
    }
    // Yuma‑2: integer column sums of the stored bonds, and which stored rows have the same
    // columns as Wb's row, all in range (`same`: their merge is a zip).
    // No column registered since the last tempo: every in-range stored column is live.
    let none_recent = !recent.iter().any(|r| *r);
    let mut bsum = vec![0u64; n];
    let mut same = vec![false; n];
    for (i, (row, sm)) in bonds.iter().zip(same.iter_mut()).enumerate() {
        let nc = wb.row_cols(i);
        if none_recent && row.len() == nc.len() && nc.last().is_none_or(|j| usize::from(*j) < n) {
            // Summed at Wb's columns (in range, as Wb's rows are increasing); where a column
            // differs the row is summed again at its own columns instead.
            let mut diff = 0u16;
            for ((j, v), c) in row.iter().zip(nc) {
                diff |= j ^ c;
                bsum[usize::from(*c)] += u64::from(*v);
            }
            if diff == 0 {
                *sm = true;
                continue;
            }
            for ((_, v), c) in row.iter().zip(nc) {
                bsum[usize::from(*c)] -= u64::from(*v);
            }
        }
        for (j, v) in row {
            let ju = usize::from(*j);
            if live(ju) {
                bsum[ju] += u64::from(*v);
            }
        }
    }
    if bsum.iter().any(|s| *s >= 1 << 31) {
        return None;
    }
    let dsum: Vec<u64> = match dsum_known {
        Some(r) => r.iter().map(|x| x.to_bits() as u64).collect(),
        None => {
            let mut dsum = vec![0u64; n];
            for (i, ai) in a.iter().enumerate() {
                let ai = ai.to_bits() as u64;
                for (j, v) in wb.row_cols(i).iter().zip(wb.row_vals(i)) {
                    dsum[usize::from(*j)] += mul_unit(v.to_bits() as u64, ai);
                }
            }
            dsum
        }
    };
    // Per column (one bounds check per entry): the divider of ΔB, the divider of the stored
    // bonds, the sum of E, the maximum of E. q32_int(v) ⊘ q32_int(S) = floor(v · 2^32 / S)
    // for S > 0; for S = 0 the values are 0 and dividing them by 1 keeps them, as `⊘` by 0
    // would.
    let mut col: Vec<(UnitDivider, U16Divider, u64, u64)> = dsum
        .iter()
        .zip(&bsum)
        .map(|(d, b)| {
            (
                UnitDivider::new((*d).max(1)),
                U16Divider::new((*b).max(1)),
                0,
                0,
            )
        })
        .collect();
    let (mut cols, mut vals) = buf;
    let cap = wb.cols.len() + bonds_nnz;
    // Slots are written before they are read: stale contents are harmless.
    cols.resize(cap, 0);
    vals.resize(cap, ZERO);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0usize);
    let mut len = 0usize;
    for (i, row) in bonds.iter().enumerate() {
        let ai = a[i].to_bits() as u64;
        let am = UnitMul::new(ai);
        let (nc, nv) = (wb.row_cols(i), wb.row_vals(i));
        if same[i] {
            // Same columns in the stored row as in Wb's row, in range: the merge is a zip.
            // The loop, with `$a`, `$al`, `$om` multiplying by A[i], α and 1 − α.
            // Every entry is written; a row with a zero result is compacted afterwards.
            let m = nc.len();
            // len + m <= the entries of the rows so far <= cap: in bounds.
            let (oc, ox) = (&mut cols[len..len + m], &mut vals[len..len + m]);
            let mut zero = false;
            macro_rules! zip_row {
                ($a:expr, $al:expr, $om:expr) => {
                    for ((((j, v), (_, ov)), oc), ox) in nc
                        .iter()
                        .zip(nv)
                        .zip(row)
                        .zip(oc.iter_mut())
                        .zip(ox.iter_mut())
                    {
                        let c = &mut col[usize::from(*j)];
                        let nd = $al(c.0.div($a(v.to_bits() as u64)));
                        // ov <= its column's sum: the quotient is at most 1.
                        let e = $om(c.1.div(*ov)) + nd;
                        c.2 += e;
                        c.3 = c.3.max(e);
                        *oc = *j;
                        *ox = Q32::from_bits(e as i64);
                        zero |= e == 0;
                    }
                };
            }
            if ai < 1 << 32 && al < 1 << 32 && om < 1 << 32 {
                // Factors below 1: x·y < 2^64 for y <= 1, one 64-bit multiply and a shift.
                zip_row!(
                    |y: u64| (ai * y) >> 32,
                    |y: u64| (al * y) >> 32,
                    |y: u64| (om * y) >> 32
                );
            } else {
                zip_row!(|y| am.mul(y), |y| alm.mul(y), |y| omm.mul(y));
            }
            if zero {
                // Keep the positive entries only, in order.
                let mut k = len;
                for x in len..len + m {
                    if vals[x] > ZERO {
                        cols[k] = cols[x];
                        vals[k] = vals[x];
                        k += 1;
                    }
                }
                len = k;
            } else {
                len += m;
            }
            start.push(len);
            continue;
        }
        // α ⊗ ΔB[i, j] for entry x of the Wb row, with ΔB = (Wb ⊗ A) ⊘ its column sum.
        let delta = |c: &(UnitDivider, U16Divider, u64, u64), x: usize| {
            alm.mul(c.0.div(am.mul(nv[x].to_bits() as u64)))
        };
        // Writes one E entry (kept when positive); len <= entries merged so far < cap.
        let mut put =
            |len: &mut usize, c: &mut (UnitDivider, U16Divider, u64, u64), j: u16, v: u64| {
                c.2 += v;
                c.3 = c.3.max(v);
                cols[*len] = j;
                vals[*len] = Q32::from_bits(v as i64);
                *len += usize::from(v > 0);
            };
        if !row.windows(2).all(|w| w[0].0 < w[1].0) {
            // A stored row out of order: the generic path handles it.
            return None;
        }
        let mut x = 0usize;
        for &(oj, ov) in row {
            let oju = usize::from(oj);
            if !live(oju) {
                continue;
            }
            while x < nc.len() && nc[x] < oj {
                let c = &mut col[usize::from(nc[x])];
                let v = delta(c, x);
                put(&mut len, c, nc[x], v);
                x += 1;
            }
            let c = &mut col[oju];
            // ov <= its column's sum: the quotient is at most 1.
            let mut v = omm.mul(c.1.div(ov));
            if x < nc.len() && nc[x] == oj {
                v += delta(c, x);
                x += 1;
            }
            put(&mut len, c, oj, v);
        }
        while x < nc.len() {
            let c = &mut col[usize::from(nc[x])];
            let v = delta(c, x);
            put(&mut len, c, nc[x], v);
            x += 1;
        }
        start.push(len);
    }
    cols.truncate(len);
    vals.truncate(len);
    let e = Csr { start, cols, vals };
    // Column normalisation of E, dividends and the max-upscale in one pass. `x ↦ x ⊘ S` is
    // `floor(x · 2^32 / S)`, non-decreasing in x, so the maximum of a normalised column is
    // the normalised maximum of E's column: the upscale's divisor is known before the
    // normalised values are. E's column sums are usually just below 1 (α ⊗ ΔB ⊕ (1 ⊖ α) ⊗ B
    // of two normalised matrices): then each normalisation is one multiply.
    let high: Option<Vec<HighDivider>> = col.iter().map(|c| HighDivider::new(c.2)).collect();
    Some(match high {
        Some(h) => yuma2_finish(e, &col, inc, permit, |j| h[j], |d, v| d.div(v)),
        None => {
            let divs: Vec<Divider> = col.iter().map(|c| Divider::new(c.2.max(1))).collect();
            yuma2_finish(e, &col, inc, permit, |j| divs[j], |d, v| unit_div(&d, v))
        }
    })
}

/// The last pass of the Yuma‑2 [`ema_fast`]: E (per column: its sum and maximum in `col`)
/// column-normalised (`norm(div_of(j), v)` is `v ⊘ ΣE[·,j]`), the dividends, and the
/// max-upscale: as the stored rows when `permit` is given (E is then left as it is),
/// otherwise in E.
fn yuma2_finish<D: Copy>(
    mut e: Csr,
    col: &[(UnitDivider, U16Divider, u64, u64)],
    inc: &[Q32],
    permit: Option<&[bool]>,
    div_of: impl Fn(usize) -> D,
    norm: impl Fn(D, u64) -> u64,
) -> (Vec<Q32>, Csr, Option<Vec<SparseRow>>) {
    let n = e.rows();
    // Per column: the divider by the E sum, the divider by the normalised maximum, the
    // incentive.
    let col: Vec<(D, UnitDivider, UnitMul)> = col
        .iter()
        .zip(inc)
        .enumerate()
        .map(|(j, (c, x))| {
            let sum = div_of(j);
            let max = norm(sum, c.3);
            (
                sum,
                UnitDivider::new(max.max(1)),
                UnitMul::new(x.to_bits() as u64),
            )
        })
        .collect();
    let mut d = vec![ZERO; n];
    let Some(permit) = permit else {
        for (i, di) in d.iter_mut().enumerate() {
            let range = e.range(i);
            let mut acc = 0u64;
            for (j, v) in e.cols[range.clone()].iter().zip(&mut e.vals[range]) {
                let c = &col[usize::from(*j)];
                let vb = norm(c.0, v.to_bits() as u64);
                acc += c.2.mul(vb);
                *v = Q32::from_bits(c.1.div(vb) as i64);
            }
            *di = Q32::from_bits(acc as i64);
        }
        return (d, e, None);
    };
    // Straight to the stored rows (E itself is not needed any more): the upscaled value q
    // lies in [0, 1], its u16 proportion is floor(q · 65535 / 2^32).
    let mut bonds: Vec<SparseRow> = Vec::with_capacity(n);
    for (i, di) in d.iter_mut().enumerate() {
        let (rc, rv) = (e.row_cols(i), e.row_vals(i));
        let mut acc = 0u64;
        if permit.get(i).copied().unwrap_or(false) {
            // Written in place (the sum stays in a register, not in a closure's capture).
            let mut row = vec![(0u16, 0u16); rc.len()];
            for ((o, j), v) in row.iter_mut().zip(rc).zip(rv) {
                let c = &col[usize::from(*j)];
                let vb = norm(c.0, v.to_bits() as u64);
                acc += c.2.mul(vb);
                let q = c.1.div(vb);
                *o = (*j, ((q * 65535) >> 32) as u16);
            }
            bonds.push(row);
        } else {
            for (j, v) in rc.iter().zip(rv) {
                let c = &col[usize::from(*j)];
                acc += c.2.mul(norm(c.0, v.to_bits() as u64));
            }
            bonds.push(Vec::new());
        }
        *di = Q32::from_bits(acc as i64);
    }
    (d, e, Some(bonds))
}

/// `v ⊘ s` for `0 <= v <= s` given the divider of `max(s, 1)`: `floor(v · 2^32 / s)` (at
/// most 1), and `v` (= 0) where `s = 0`.
#[inline(always)]
fn unit_div(d: &Divider, v: u64) -> u64 {
    if v < 1 << 32 {
        d.div(v << 32)
    } else {
        // v = 1 (so s >= 1 and the quotient is at most 1).
        ((u128::from(v) << 32) / u128::from(d.divisor())) as u64
    }
}

/// The row merge of [`ema_fast`]: per row, `al ⊗ new ⊕ om ⊗ old` over the union of the
/// columns of `Wb`'s row (values through `new_val(row, col, value)`) and the stored row's
/// live columns (values through `old_val(col, stored)`), positive results kept, ascending
/// columns. Both rows are strictly increasing and every value in [0, 1]. Returns E and its
/// column sums.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn ema_merge(
    wb: &Csr,
    bonds: &[SparseRow],
    (mut cols, mut vals): Entries,
    al: u64,
    om: u64,
    live: impl Fn(usize) -> bool,
    new_val: impl Fn(usize, usize, u64) -> u64,
    old_val: impl Fn(usize, u16) -> u64,
) -> (Csr, Vec<u64>) {
    let n = wb.rows();
    let cap = wb.cols.len() + bonds.iter().map(Vec::len).sum::<usize>();
    // Slots are written before they are read: stale contents are harmless.
    cols.resize(cap, 0);
    vals.resize(cap, ZERO);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0usize);
    let mut sums = vec![0u64; n];
    let mut len = 0usize;
    // Writes one entry (kept when positive); len <= entries merged so far < cap.
    let mut put = |len: &mut usize, j: u16, v: u64| {
        cols[*len] = j;
        vals[*len] = Q32::from_bits(v as i64);
        sums[usize::from(j)] += v;
        *len += usize::from(v > 0);
    };
    for (i, row) in bonds.iter().enumerate() {
        let (nc, nv) = (wb.row_cols(i), wb.row_vals(i));
        let mut x = 0usize;
        for &(oj, ov) in row {
            let oju = usize::from(oj);
            if !live(oju) {
                continue;
            }
            while x < nc.len() && nc[x] < oj {
                let v = new_val(i, usize::from(nc[x]), nv[x].to_bits() as u64);
                put(&mut len, nc[x], mul_unit(al, v));
                x += 1;
            }
            let mut v = mul_unit(om, old_val(oju, ov));
            if x < nc.len() && nc[x] == oj {
                v += mul_unit(al, new_val(i, oju, nv[x].to_bits() as u64));
                x += 1;
            }
            put(&mut len, oj, v);
        }
        for (j, w) in nc[x..].iter().zip(&nv[x..]) {
            let v = new_val(i, usize::from(*j), w.to_bits() as u64);
            put(&mut len, *j, mul_unit(al, v));
        }
        start.push(len);
    }
    cols.truncate(len);
    vals.truncate(len);
    (Csr { start, cols, vals }, sums)
}

/// §2.9.b Yuma‑3: returns (un-normalised dividends, bonds to store).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn yuma3<O: OldRows>(
    wb: &Csr,
    b: &O,
    a: &[Q32],
    inc: &[Q32],
    c: &[Q32],
    inp: &EpochInputs,
    alpha: Q32,
    n: usize,
) -> (Vec<Q32>, Csr) {
    let hp = &inp.hyperparameters;
    let e = if hp.liquid_alpha_enabled && c.iter().any(|x| *x != ZERO) {
        let mut sig = AlphaSigmoid::new(hp.alpha_low, hp.alpha_high, hp.alpha_sigmoid_steepness);
        mat_ema_alpha(wb, b, c, &mut sig, n)
    } else {
        mat_ema(wb, b, alpha, n)
    };
    (dividends3(&e, a, inc, n), e)
}

/// Yuma‑3 dividends `D[i] = A[i] ⊗ Σ_j (E[i,j] ⊘ ΣE[·,j]) ⊗ I[j]` from the column-normalised
/// bonds, normalising on the fly (no copy of E).
fn dividends3(e: &Csr, a: &[Q32], inc: &[Q32], n: usize) -> Vec<Q32> {
    if e.cols.len() < 1 << 30 && all_unit(&e.vals) && all_unit(inc) {
        dividends3_unit(e, a, inc, n, None)
    } else {
        dividends3_generic(e, a, inc, n)
    }
}

/// [`dividends3`] when E and I lie in `[0, 1]` (E has fewer than 2^30 entries): column sums
/// stay below 2^62 (no saturation), each normalised entry is at most 1 (an entry is part of
/// its column's sum), so `⊘` is an exact integer division and `⊗` is [`mul_unit`].
///
/// `sums`, when given, are E's column sums (as integers), computed while E was built.
fn dividends3_unit(e: &Csr, a: &[Q32], inc: &[Q32], n: usize, sums: Option<Vec<u64>>) -> Vec<Q32> {
    let colsum = sums.unwrap_or_else(|| {
        let mut colsum = vec![0u64; n];
        for (c, v) in e.cols.iter().zip(&e.vals) {
            colsum[usize::from(*c)] += v.to_bits() as u64;
        }
        colsum
    });
    // Per column: the divider by its sum and the incentive (one bounds check per entry).
    // Values are non-negative, so a zero sum means zero values: dividing them by 1 keeps
    // them, as `⊘` by a zero sum would.
    let per_col: Vec<(Divider, u64)> = colsum
        .iter()
        .zip(inc)
        .map(|(s, x)| (Divider::new((*s).max(1)), x.to_bits() as u64))
        .collect();
    (0..n)
        .map(|i| {
            let mut t = 0u64;
            for (j, v) in e.row_cols(i).iter().zip(e.row_vals(i)) {
                let (div, inc_j) = &per_col[usize::from(*j)];
                let v = v.to_bits() as u64;
                let vn = if v < 1 << 32 {
                    div.div(v << 32)
                } else {
                    // v = 1: its column sum is at least 1, the quotient at most 1.
                    ((u128::from(v) << 32) / u128::from(div.divisor())) as u64
                };
                t += mul_unit(vn, *inc_j);
            }
            mul_or_zero(Q32::from_bits(t as i64), a[i])
        })
        .collect()
}

/// [`dividends3_unit`] with the column sums given, forming in the same pass the stored bond
/// rows (`E`'s positive entries as u16 proportions, rows of UIDs without a new permit empty) that the epoch
/// otherwise converts from E afterwards. E and I lie in [0, 1], E has fewer than 2^30
/// entries, `sums` are E's column sums. Proptested against [`dividends3_generic`] and the
/// conversion.
///
/// The column normalisation `v ⊘ S` (`v <= S`) is one multiply when every column sum allows
/// it: all in `(2^31, 2^32)` or 0 ([`HighDivider`]: E of Yuma 3 with liquid alpha and many
/// validators, whose column sums are near 1) or all below 2^30 ([`UnitDivider`]); the
/// corrected reciprocal ([`Divider`]) otherwise.
fn dividends3_out(
    e: &Csr,
    a: &[Q32],
    inc: &[Q32],
    sums: &[u64],
    permit: &[bool],
) -> (Vec<Q32>, Vec<SparseRow>) {
    if let Some(h) = sums
        .iter()
        .map(|s| HighDivider::new(*s))
        .collect::<Option<Vec<_>>>()
    {
        return dividends3_out_with(e, a, inc, permit, &h, |d, v| d.div(v));
    }
    if sums.iter().all(|s| *s < 1 << 30) {
        let u: Vec<UnitDivider> = sums.iter().map(|s| UnitDivider::new((*s).max(1))).collect();
        return dividends3_out_with(e, a, inc, permit, &u, |d, v| d.div(v));
    }
    let dv: Vec<Divider> = sums.iter().map(|s| Divider::new((*s).max(1))).collect();
    dividends3_out_with(e, a, inc, permit, &dv, unit_div)
}

/// [`dividends3_out`] with the column dividers given: `norm(&divs[j], v)` is `v ⊘ S[j]`.
fn dividends3_out_with<D: Copy>(
    e: &Csr,
    a: &[Q32],
    inc: &[Q32],
    permit: &[bool],
    divs: &[D],
    norm: impl Fn(&D, u64) -> u64,
) -> (Vec<Q32>, Vec<SparseRow>) {
    let n = e.rows();
    // Per column: the divider by its sum (1 for a zero sum: its values are 0) and the
    // incentive.
    let per_col: Vec<(D, UnitMul)> = divs
        .iter()
        .zip(inc)
        .map(|(s, x)| (*s, UnitMul::new(x.to_bits() as u64)))
        .collect();
    // Incentives below 1 (all but a single-column subnet's): x·y < 2^64 for y <= 1, so `⊗`
    // is one 64-bit multiply and a shift.
    let plain = inc.iter().all(|x| (x.to_bits() as u64) < 1 << 32);
    let per_col_plain: Vec<(D, u64)> = if plain {
        divs.iter()
            .zip(inc)
            .map(|(s, x)| (*s, x.to_bits() as u64))
            .collect()
    } else {
        Vec::new()
    };
    let mut d = Vec::with_capacity(n);
    let mut bonds = Vec::with_capacity(n);
    for i in 0..n {
        let (cols, vals) = (e.row_cols(i), e.row_vals(i));
        let mut zero = false;
        let t: u64 = if plain {
            cols.iter()
                .zip(vals)
                .map(|(j, v)| {
                    let (div, inc_j) = &per_col_plain[usize::from(*j)];
                    zero |= v.to_bits() == 0;
                    (inc_j * norm(div, v.to_bits() as u64)) >> 32
                })
                .sum()
        } else {
            cols.iter()
                .zip(vals)
                .map(|(j, v)| {
                    let (div, inc_j) = &per_col[usize::from(*j)];
                    zero |= v.to_bits() == 0;
                    inc_j.mul(norm(div, v.to_bits() as u64))
                })
                .sum()
        };
        d.push(mul_or_zero(Q32::from_bits(t as i64), a[i]));
        // The row is still in L1: a second tight loop converts it.
        bonds.push(if permit[i] {
            // floor(v · 65535 / 2^32), 65535 for v = 1: `proportion_to_u16` in [0, 1].
            let mut row: SparseRow = cols
                .iter()
                .zip(vals)
                .map(|(j, v)| (*j, ((v.to_bits() as u64 * 65535) >> 32) as u16))
                .collect();
            if zero {
                // Only positive values are stored (E may hold zeros; a positive value can
                // still convert to 0, so filter on E's values).
                let mut k = 0;
                row.retain(|_| {
                    k += 1;
                    vals[k - 1].to_bits() > 0
                });
            }
            row
        } else {
            Vec::new()
        });
    }
    (d, bonds)
}

/// [`dividends3`] for any values, with the saturating operations.
fn dividends3_generic(e: &Csr, a: &[Q32], inc: &[Q32], n: usize) -> Vec<Q32> {
    let divs = e.col_sum_divs(n);
    (0..n)
        .map(|i| {
            let t = e
                .row_cols(i)
                .iter()
                .zip(e.row_vals(i))
                .fold(ZERO, |acc, (j, v)| {
                    let ju = usize::from(*j);
                    let vn = match &divs[ju] {
                        Some(dv) => dv.div(*v),
                        None => *v,
                    };
                    sadd(acc, mul(vn, inc[ju]))
                });
            mul_or_zero(t, a[i])
        })
        .collect()
}

/// §2.10 liquid-alpha rate as a function of the disagreement `x`, with a cache: the rate
/// depends on `(c, w, b)` only through `x`, and many entries share it (`x = 0` wherever the
/// weight does not exceed consensus and is at least the bond).
pub(crate) struct AlphaSigmoid {
    lo: Q32,
    hi: Q32,
    slope: Q32,
    at_zero: Q32,
    cache: Vec<(i64, Q32)>,
}

const CACHE_BITS: u32 = 12;

impl AlphaSigmoid {
    /// Rate parameters from the hyperparameters.
    pub(crate) fn new(alpha_low: u16, alpha_high: u16, steepness: i16) -> Self {
        let lo = u16_proportion(alpha_low);
        let hi = u16_proportion(alpha_high);
        let sigma = Q32::from_num(steepness);
        let slope = sigma.saturating_div(Q32::from_num(-100));
        let mut s = AlphaSigmoid {
            lo,
            hi,
            slope,
            at_zero: ZERO,
            cache: vec![(-1, ZERO); 1 << CACHE_BITS],
        };
        s.at_zero = s.compute(ZERO);
        s
    }

    /// The rate for disagreement `x` (uncached).
    pub(crate) fn compute(&self, x: Q32) -> Q32 {
        let z = mul(self.slope, x.saturating_sub(HALF));
        let sig = ONE.saturating_div(ONE.saturating_add(exp_fast(z)));
        let a = self
            .lo
            .saturating_add(mul(sig, self.hi.saturating_sub(self.lo)));
        a.min(self.hi).max(self.lo)
    }

    /// `alpha_sigmoid(c, w, b)` of spec §2.10.
    #[inline]
    pub(crate) fn alpha(&mut self, c: Q32, w: Q32, b: Q32) -> Q32 {
        let x = if w >= b {
            w.saturating_sub(c).min(ONE).max(ZERO)
        } else {
            b.saturating_sub(w).min(ONE).max(ZERO)
        };
        self.rate(x)
    }

    /// The rate for a disagreement `x` in [0, 1] (cached).
    #[inline]
    fn rate(&mut self, x: Q32) -> Q32 {
        if x == ZERO {
            return self.at_zero;
        }
        let key = x.to_bits();
        let slot = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - CACHE_BITS);
        let entry = self.cache[slot as usize];
        if entry.0 == key {
            return entry.1;
        }
        let v = self.compute(x);
        self.cache[slot as usize] = (key, v);
        v
    }
}

/// §2.9.b with the liquid-alpha rate (§2.10) and the Yuma‑3 dividends, in the common case:
/// every row of `Wb` and of the stored bonds strictly increasing, `Wb`, `C`, `A`, `I` in
/// [0, 1], fewer than 2^30 entries, some consensus positive (otherwise the reference uses the
/// constant α, [`mat_ema`]). Returns `None` (nothing computed) otherwise; the caller then runs
/// [`yuma3`]. `known`: the caller knows `Wb` to lie in [0, 1] with strictly increasing rows
/// (otherwise that is checked). Per entry of `Wb`: the stored bond of that column (0 if absent, out of range or
/// registered since the last tempo), its rate, `(1 ⊖ α) ⊗ b ⊕ α ⊗ w` (integer forms in
/// [0, 1], [`mul_unit`]) kept when positive; E's column sums are taken while writing it, and
/// the dividends and stored rows follow in one pass ([`dividends3_out`]). Proptested against
/// [`yuma3`] (with [`mat_ema_alpha`]) and the conversion of E.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn ema_alpha_fast(
    wb: &Csr,
    bonds: &[SparseRow],
    recent: &[bool],
    c: &[Q32],
    a: &[Q32],
    inc: &[Q32],
    sig: &mut AlphaSigmoid,
    permit: &[bool],
    known: bool,
    (mut cols, mut vals): Entries,
) -> Option<(Vec<Q32>, Csr, Option<Vec<SparseRow>>)> {
    let n = wb.rows();
    if bonds.len() != n
        || recent.len() != n
        || c.len() != n
        || a.len() != n
        || inc.len() != n
        || permit.len() != n
        || wb.cols.len() >= 1 << 30
        || c.iter().all(|x| *x == ZERO)
        || !all_unit(c)
        || !all_unit(a)
        || !all_unit(inc)
        || !(known || all_unit(&wb.vals) && (0..n).all(|i| wb.row_is_sorted(i)))
        || !bonds.iter().all(|r| r.windows(2).all(|w| w[0].0 < w[1].0))
    {
        return None;
    }
    cols.resize(wb.cols.len(), 0);
    vals.resize(wb.cols.len(), ZERO);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0usize);
    let mut sums = vec![0u64; n];
    let mut len = 0usize;
    for (i, row) in bonds.iter().enumerate() {
        let (nc, nv) = (wb.row_cols(i), wb.row_vals(i));
        let mut y = 0usize;
        for (j, w) in nc.iter().zip(nv) {
            while y < row.len() && row[y].0 < *j {
                y += 1;
            }
            let ju = usize::from(*j);
            let b = match row.get(y) {
                Some(&(oj, ov)) if oj == *j && matches!(recent.get(ju), Some(false)) => {
                    u16_proportion(ov)
                }
                _ => ZERO,
            };
            // The rate lies in [alpha_low, alpha_high], within [0, 1].
            let al = sig.alpha(c[ju], *w, b).to_bits() as u64;
            let v = (mul_unit((1u64 << 32) - al, b.to_bits() as u64)
                + mul_unit(al, w.to_bits() as u64))
            .min(1 << 32);
            // len <= entries of Wb so far < its length.
            cols[len] = *j;
            vals[len] = Q32::from_bits(v as i64);
            sums[ju] += v;
            len += usize::from(v > 0);
        }
        start.push(len);
    }
    cols.truncate(len);
    vals.truncate(len);
    let e = Csr { start, cols, vals };
    let (d, rows) = dividends3_out(&e, a, inc, &sums, permit);
    Some((d, e, Some(rows)))
}

/// Longest strictly increasing prefix of a row's columns: the entries the reference's
/// forward merge finds (spec §7.1); later ones read as 0 when computing α.
fn merge_prefix(cols: &[u16]) -> usize {
    if cols.is_empty() {
        return 0;
    }
    let mut k = 1;
    while k < cols.len() && cols[k - 1] < cols[k] {
        k += 1;
    }
    k
}

/// Sparse `mat_ema_alpha(Wb, B, α)` (§2.9.b) with the per-entry rate of §2.10. Only the
/// columns of each `Wb` row survive, so α is needed (and computed) only there.
#[inline(never)]
fn mat_ema_alpha<O: OldRows>(wb: &Csr, b: &O, c: &[Q32], sig: &mut AlphaSigmoid, n: usize) -> Csr {
    let mut out = Csr::with_capacity(wb.rows(), wb.cols.len());
    let mut scratch: Option<(Scratch, Scratch, Scratch)> = None;
    let (mut bcb, mut bvb) = (Vec::new(), Vec::new());
    for i in 0..wb.rows() {
        let (wcs, wvs) = (wb.row_cols(i), wb.row_vals(i));
        if wcs.is_empty() {
            out.end_row();
            continue;
        }
        b.fill(i, &mut bcb, &mut bvb);
        let (bcs, bvs) = (bcb.as_slice(), bvb.as_slice());
        let wp = merge_prefix(wcs);
        let bp = merge_prefix(bcs);
        if wp == wcs.len() && bp == bcs.len() {
            let mut y = 0;
            for (j, w) in wcs.iter().zip(wvs) {
                while y < bcs.len() && bcs[y] < *j {
                    y += 1;
                }
                let bv = if y < bcs.len() && bcs[y] == *j {
                    bvs[y]
                } else {
                    ZERO
                };
                let al = sig.alpha(c[usize::from(*j)], *w, bv);
                let decayed = mul(ONE.saturating_sub(al), bv);
                let val = sadd(decayed, mul(al, *w).max(ZERO)).min(ONE);
                if val > ZERO {
                    out.push(*j, val);
                }
            }
        } else {
            // Unsorted rows: α uses the merge's view (prefix entries only), the decay uses
            // every old entry (the last one per column).
            let (sw, sb, sd) =
                scratch.get_or_insert_with(|| (Scratch::new(n), Scratch::new(n), Scratch::new(n)));
            for (j, v) in wcs[..wp].iter().zip(&wvs[..wp]) {
                sw.touch(*j);
                sw.val[usize::from(*j)] = *v;
            }
            for (j, v) in bcs[..bp].iter().zip(&bvs[..bp]) {
                sb.touch(*j);
                sb.val[usize::from(*j)] = *v;
            }
            for (j, v) in bcs.iter().zip(bvs) {
                sd.touch(*j);
                sd.val[usize::from(*j)] = *v;
            }
            for (j, w) in wcs.iter().zip(wvs) {
                let ju = usize::from(*j);
                let al = sig.alpha(c[ju], sw.val[ju], sb.val[ju]);
                let decayed = mul(ONE.saturating_sub(al), sd.val[ju]);
                let val = sadd(decayed, mul(al, *w).max(ZERO)).min(ONE);
                if val > ZERO {
                    out.push(*j, val);
                }
            }
            sw.clear();
            sb.clear();
            sd.clear();
        }
        out.end_row();
    }
    out
}

/// `vec_max_upscale_to_u16` of spec §3.6, used for the legacy pruning scores.
#[inline(never)]
fn max_upscale_to_u16(v: &[Q32]) -> Vec<u16> {
    let m = v.iter().copied().fold(ZERO, Q32::max);
    if m == ZERO {
        return v.iter().map(|x| x.saturating_to_num::<u16>()).collect();
    }
    if m > ZERO && all_unit(v) {
        // Values in [0, 1], 0 < m <= 1: mul(x, 65535) is exactly X = x·65535 (as bits),
        // div_one(X, m) is floor(X·2^32 / m) (as bits), and rounding that to an integer
        // gives floor((floor(X·2^32/m) + 2^31) / 2^32) = floor(X/m + 1/2) =
        // floor((2X + m) / 2m): one exact division by a constant (at most 65535).
        let mb = m.to_bits() as u64;
        let d = Divider::new(2 * mb);
        return v
            .iter()
            .map(|x| d.div(2 * (x.to_bits() as u64 * 65535) + mb) as u16)
            .collect();
    }
    max_upscale_to_u16_generic(v, m)
}

/// [`max_upscale_to_u16`] for any values with their maximum `m > 0`, through the library's
/// operations.
fn max_upscale_to_u16_generic(v: &[Q32], m: Q32) -> Vec<u16> {
    let u16max = q32_int(u16::MAX);
    if m > Q32::from_num(32768) {
        let f = div_one(u16max, m);
        v.iter()
            .map(|x| mul(*x, f).round().saturating_to_num::<u16>())
            .collect()
    } else {
        v.iter()
            .map(|x| {
                div_one(mul(*x, u16max), m)
                    .round()
                    .saturating_to_num::<u16>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `row` sorted by column, repeated columns dropped (the first of each kept).
    fn sorted_row<T: Clone>(row: &[(u16, T)]) -> Vec<(u16, T)> {
        let mut row = row.to_vec();
        row.sort_by_key(|e| e.0);
        row.dedup_by_key(|e| e.0);
        row
    }

    /// Raw I32F32 bits of a value in [0, 1]: 0 and 1 often, and with `tiny` also values
    /// below 1000 ulps often.
    fn unit_bits(tiny: bool) -> BoxedStrategy<i64> {
        if tiny {
            prop_oneof![Just(0i64), Just(1i64 << 32), 0i64..=(1 << 32), 0i64..1000].boxed()
        } else {
            prop_oneof![Just(0i64), Just(1i64 << 32), 0i64..=(1 << 32)].boxed()
        }
    }

    /// `n` unsorted rows of fewer than `len` entries (column below `n`, repeats allowed, unit
    /// bits).
    fn unit_rows(n: usize, len: usize, tiny: bool) -> impl Strategy<Value = Vec<Vec<(u16, i64)>>> {
        prop::collection::vec(
            prop::collection::vec((0..n as u16, unit_bits(tiny)), 0..len),
            n,
        )
    }

    /// `n` unit bits.
    fn units(n: usize, tiny: bool) -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(unit_bits(tiny), n)
    }

    /// `n` unit bits, half of them 0.
    fn units_often_zero(n: usize) -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(prop_oneof![Just(0i64), unit_bits(true)], n)
    }

    /// `n` unsorted bond rows of fewer than `n + 2` entries, columns up to `n + 1` (two
    /// beyond the subnet), values 0 and 65535 often.
    fn bond_rows(n: usize) -> impl Strategy<Value = Vec<Vec<(u16, u16)>>> {
        let value = prop_oneof![any::<u16>(), Just(0u16), Just(65535u16)];
        prop::collection::vec(prop::collection::vec((0..n as u16 + 2, value), 0..n + 2), n)
    }

    /// A matrix of raw I32F32 bits, one row per entry of `rows`; with `sort`, each row is
    /// first sorted by column with repeated columns dropped, else taken as it is.
    fn csr_of_bits(rows: &[Vec<(u16, i64)>], sort: bool) -> Csr {
        let mut m = Csr::with_capacity(rows.len(), 0);
        for row in rows {
            let row = if sort { sorted_row(row) } else { row.clone() };
            for (j, v) in row {
                m.push(j, Q32::from_bits(v));
            }
            m.end_row();
        }
        m
    }

    /// The first `n` rows of `m` with only their positive entries.
    fn positive_entries(m: &Csr, n: usize) -> Csr {
        let mut out = Csr::with_capacity(n, 0);
        for i in 0..n {
            for (j, v) in m.row_cols(i).iter().zip(m.row_vals(i)) {
                if *v > ZERO {
                    out.push(*j, *v);
                }
            }
            out.end_row();
        }
        out
    }

    /// The reference's `weighted_median` (spec §2.7), literally: mid-pivot quickselect with
    /// saturating partial sums.
    fn weighted_median_literal(stake: &[Q32], score: &[Q32], minority: Q32, psum: Q32) -> Q32 {
        let mut cur: Vec<usize> = (0..stake.len()).collect();
        let (mut lo, mut hi) = (ZERO, psum);
        let limit = cur.len();
        let mut iterations = 0;
        loop {
            let m = cur.len();
            if m == 0 {
                return ZERO;
            }
            if m == 1 {
                return score[cur[0]];
            }
            let pivot = score[cur[m / 2]];
            let (mut lower, mut upper) = (Vec::new(), Vec::new());
            let (mut lo_stake, mut hi_stake) = (ZERO, ZERO);
            for &t in &cur {
                if score[t] == pivot {
                    continue;
                } else if score[t] < pivot {
                    lo_stake = lo_stake.saturating_add(stake[t]);
                    lower.push(t);
                } else {
                    hi_stake = hi_stake.saturating_add(stake[t]);
                    upper.push(t);
                }
            }
            if minority < lo.saturating_add(lo_stake) && !lower.is_empty() {
                hi = lo.saturating_add(lo_stake);
                cur = lower;
            } else if hi.saturating_sub(hi_stake) <= minority && !upper.is_empty() {
                lo = hi.saturating_sub(hi_stake);
                cur = upper;
            } else {
                return pivot;
            }
            iterations += 1;
            if iterations > limit {
                return ZERO;
            }
        }
    }

    /// The reference's consensus over dense columns, built from the literal median.
    fn consensus_literal(w: &Csr, a: &[Q32], kappa: Q32, n: usize) -> Vec<Q32> {
        let rows: Vec<usize> = (0..n).filter(|i| a[*i] > ZERO).collect();
        let mut p: Vec<Q32> = rows.iter().map(|i| a[*i]).collect();
        normalize(&mut p);
        let psum = sum(&p);
        let minority = psum.saturating_sub(kappa);
        let mut cols = vec![vec![ZERO; rows.len()]; n];
        for (k, i) in rows.iter().enumerate() {
            for (j, v) in w.row_cols(*i).iter().zip(w.row_vals(*i)) {
                cols[usize::from(*j)][k] = *v;
            }
        }
        cols.iter()
            .map(|score| weighted_median_literal(&p, score, minority, psum))
            .collect()
    }

    fn arb_case() -> impl Strategy<Value = (Csr, Vec<Q32>, Q32, usize)> {
        (1usize..80)
            .prop_flat_map(|n| {
                let rows = prop::collection::vec(
                    prop::collection::vec((0..n as u16, 0u16..6), 0..2 * n + 3),
                    n,
                );
                let stakes = prop::collection::vec(0u64..5, n);
                let kappa = prop_oneof![0u16..=65535, Just(0u16), Just(32767u16), Just(65535u16)];
                // Weight scale: few distinct values (ties common) or wide random ones.
                let wide = prop::collection::vec(0i64..=(1 << 32), 4 * n + 6);
                (
                    rows,
                    stakes,
                    kappa,
                    Just(n),
                    any::<bool>(),
                    prop::option::of(wide),
                )
            })
            .prop_map(|(mut rows, stakes, kappa, n, sorted, wide)| {
                if sorted {
                    // Sorted unique rows take the column-sweep path of `consensus`.
                    for row in &mut rows {
                        row.sort_unstable_by_key(|(j, _)| *j);
                        row.dedup_by_key(|(j, _)| *j);
                    }
                }
                let mut w = Csr::with_capacity(n, 0);
                let mut k = 0usize;
                for row in &rows {
                    for (j, v) in row {
                        let v = match &wide {
                            // Wide values, with the small ones mixed in.
                            Some(x) if *v > 0 => Q32::from_bits(x[k % x.len()]),
                            _ => Q32::from_num(*v) / 8,
                        };
                        k += 1;
                        w.push(*j, v);
                    }
                    w.end_row();
                }
                let mut a: Vec<Q32> = stakes.iter().map(|s| Q32::from_num(*s)).collect();
                normalize(&mut a);
                (w, a, u16_proportion(kappa), n)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn consensus_equals_the_literal_quickselect((w, a, kappa, n) in arb_case()) {
            let sorted = (0..n).all(|i| w.row_is_sorted(i));
            prop_assert_eq!(consensus(&w, &a, kappa, n, sorted, &mut Vec::new()), consensus_literal(&w, &a, kappa, n));
            prop_assert_eq!(consensus(&w, &a, kappa, n, false, &mut Vec::new()), consensus_literal(&w, &a, kappa, n));
        }

        #[test]
        fn masked_weights_equal_the_reference(
            (n, rows, lu, reg, permit, owner) in (1usize..40).prop_flat_map(|n| {
                (
                    Just(n),
                    prop::collection::vec(
                        prop::collection::vec((0..n as u16 + 3, prop_oneof![any::<u16>(), Just(0u16), Just(65535u16)]), 0..2 * n + 3),
                        n,
                    ),
                    prop::collection::vec(0u64..20, n),
                    prop::collection::vec(0u64..20, n),
                    prop::collection::vec(any::<bool>(), n),
                    prop::option::of(0..n as u16 + 2),
                )
            }),
            increasing in any::<bool>(),
            fresh in any::<bool>(),
        ) {
            let mut rows = rows;
            if increasing {
                // Mostly strictly increasing rows (the fast path), every fourth left as is.
                for (i, row) in rows.iter_mut().enumerate() {
                    if i % 4 != 3 {
                        row.sort_unstable_by_key(|e| e.0);
                        row.dedup_by_key(|e| e.0);
                    }
                }
            }
            // All weights newer than every registration (the fast path) or not.
            let lu = if fresh { vec![100; n] } else { lu };
            let inp = test_inputs(n, rows, lu, reg);
            let owner = owner.map(usize::from);
            let (w, sorted) = masked_weights(&inp, &permit, owner, Entries::default());
            prop_assert_eq!(sorted, (0..n).all(|i| w.row_is_sorted(i)));
            prop_assert_eq!(w, masked_weights_reference(&inp, &permit, owner));
        }

        #[test]
        fn ema_fast_equals_the_generic_paths(
            (n, wrows, brows, a, inc, recent, alpha) in (1usize..30).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, n + 2, true),
                    bond_rows(n),
                    units(n, true),
                    units(n, true),
                    prop::collection::vec(prop::bool::weighted(0.2), n),
                    prop_oneof![Just(0u16), Just(65535u16), any::<u16>()],
                )
            }),
            yuma3_mode in any::<bool>(),
            same in prop::option::of(any::<u16>()),
        ) {
            let wb = csr_of_bits(&wrows, true);
            let bonds: Vec<SparseRow> = brows.iter().map(|r| sorted_row(r)).collect();
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let inc: Vec<Q32> = inc.into_iter().map(Q32::from_bits).collect();
            let alpha = u16_proportion(alpha);
            let (bonds, recent) = match same {
                Some(salt) => (same_pattern(&wb, bonds, salt), vec![false; n]),
                None => (bonds, recent),
            };
            let mut unsorted = bonds.clone();
            if let Some(r) = unsorted.iter_mut().find(|r| r.len() > 1) {
                r.reverse();
                prop_assert!(ema_fast(&wb, &unsorted, &recent, &a, &inc, alpha, yuma3_mode, None, None, None, Entries::default()).is_none());
            }
            let fast = ema_fast(&wb, &bonds, &recent, &a, &inc, alpha, yuma3_mode, None, None, None, Entries::default());
            prop_assert_eq!(&fast, &ema_fast(&wb, &bonds, &recent, &a, &inc, alpha, yuma3_mode, Some(true), None, None, Entries::default()));
            // With the permits: the same dividends, and the stored rows converted from E.
            let permit: Vec<bool> = (0..n).map(|i| i % 4 != 1).collect();
            if let (Some((d, e, None)), Some((d2, _, rows))) = (&fast, ema_fast(&wb, &bonds, &recent, &a, &inc, alpha, yuma3_mode, None, None, Some(&permit), Entries::default())) {
                prop_assert_eq!(d, &d2);
                if let Some(rows) = rows {
                    for i in 0..n {
                        let want: SparseRow = if permit[i] {
                            e.row_cols(i).iter().zip(e.row_vals(i)).map(|(j, v)| (*j, proportion_to_u16(*v))).collect()
                        } else {
                            Vec::new()
                        };
                        prop_assert_eq!(&rows[i], &want);
                    }
                }
            }
            // The rank of `Wb` (as from clipping) as the ΔB column sums.
            let mut rank = vec![ZERO; n];
            for (i, ai) in a.iter().enumerate() {
                for (j, v) in wb.row_cols(i).iter().zip(wb.row_vals(i)) {
                    let r = &mut rank[usize::from(*j)];
                    *r = sadd(*r, mul(*ai, *v));
                }
            }
            prop_assert_eq!(&fast, &ema_fast(&wb, &bonds, &recent, &a, &inc, alpha, yuma3_mode, Some(true), Some(&rank), None, Entries::default()));
            prop_assert!(fast.is_some());
            let want = if yuma3_mode {
                let e = mat_ema(&wb, &input_bonds(&bonds, n, &recent, true), alpha, n);
                (dividends3_generic(&e, &a, &inc, n), e)
            } else {
                yuma2(&wb, input_bonds(&bonds, n, &recent, false), &a, &inc, alpha, n, false)
            };
            prop_assert_eq!(fast, Some((want.0, want.1, None)));
        }

        #[test]
        fn ema_alpha_fast_equals_the_generic_path(
            (n, wrows, brows, a, inc, c, recent) in (1usize..30).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, n + 2, true),
                    bond_rows(n),
                    units(n, true),
                    units(n, true),
                    units_often_zero(n),
                    prop::collection::vec(prop::bool::weighted(0.2), n),
                )
            }),
            (lo, hi, steep) in (any::<u16>(), any::<u16>(), prop_oneof![Just(1000i16), any::<i16>()]),
            same in prop::option::of(any::<u16>()),
        ) {
            let wb = csr_of_bits(&wrows, true);
            let bonds: Vec<SparseRow> = brows.iter().map(|r| sorted_row(r)).collect();
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let inc: Vec<Q32> = inc.into_iter().map(Q32::from_bits).collect();
            let c: Vec<Q32> = c.into_iter().map(Q32::from_bits).collect();
            let (bonds, recent) = match same {
                Some(salt) => (same_pattern(&wb, bonds, salt), vec![false; n]),
                None => (bonds, recent),
            };
            let permit: Vec<bool> = (0..n).map(|i| i % 4 != 1).collect();
            let mut sig = AlphaSigmoid::new(lo, hi, steep);
            let mut unsorted = bonds.clone();
            if let Some(r) = unsorted.iter_mut().find(|r| r.len() > 1) {
                r.reverse();
                prop_assert!(ema_alpha_fast(&wb, &unsorted, &recent, &c, &a, &inc, &mut sig, &permit, false, Entries::default()).is_none());
            }
            let fast = ema_alpha_fast(&wb, &bonds, &recent, &c, &a, &inc, &mut sig, &permit, false, Entries::default());
            if wb.vals.iter().all(|v| (0..=1i64 << 32).contains(&v.to_bits())) {
                prop_assert_eq!(&fast, &ema_alpha_fast(&wb, &bonds, &recent, &c, &a, &inc, &mut sig, &permit, true, Entries::default()));
            }
            if c.iter().all(|x| *x == ZERO) {
                prop_assert!(fast.is_none());
                return Ok(());
            }
            let Some((d, e, Some(rows))) = fast else {
                return Err(TestCaseError::fail("the fast path declined"));
            };
            let b = BondRows { rows: &bonds, n, recent: &recent };
            let want_e = mat_ema_alpha(&wb, &b, &c, &mut AlphaSigmoid::new(lo, hi, steep), n);
            prop_assert_eq!(&e, &want_e);
            prop_assert_eq!(d, dividends3_generic(&want_e, &a, &inc, n));
            for i in 0..n {
                let want: SparseRow = if permit[i] {
                    want_e.row_cols(i).iter().zip(want_e.row_vals(i)).map(|(j, v)| (*j, proportion_to_u16(*v))).collect()
                } else {
                    Vec::new()
                };
                prop_assert_eq!(&rows[i], &want);
            }
        }

        #[test]
        fn clip_ema_alpha_equals_clipping_then_the_liquid_ema(
            (n, wrows, brows, a, c, recent) in (1usize..30).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, n + 2, true),
                    bond_rows(n),
                    units(n, true),
                    units_often_zero(n),
                    prop::collection::vec(prop::bool::weighted(0.2), n),
                )
            }),
            (lo, hi, steep) in (any::<u16>(), any::<u16>(), prop_oneof![Just(1000i16), any::<i16>()]),
            same in prop::option::of(any::<u16>()),
        ) {
            let w = csr_of_bits(&wrows, true);
            let bonds: Vec<SparseRow> = brows.iter().map(|r| sorted_row(r)).collect();
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let c: Vec<Q32> = c.into_iter().map(Q32::from_bits).collect();
            let (bonds, recent) = match same {
                Some(salt) => (same_pattern(&w, bonds, salt), vec![false; n]),
                None => (bonds, recent),
            };
            let mut sig = AlphaSigmoid::new(lo, hi, steep);
            let mut unsorted = bonds.clone();
            if let Some(r) = unsorted.iter_mut().find(|r| r.len() > 1) {
                r.reverse();
                prop_assert!(clip_ema_alpha(&w, &c, &a, &unsorted, &recent, &mut sig, Entries::default()).is_none());
            }
            let f = clip_ema_alpha(&w, &c, &a, &bonds, &recent, &mut sig, Entries::default());
            if c.iter().all(|x| *x == ZERO) {
                prop_assert!(f.is_none());
                return Ok(());
            }
            let Some(f) = f else {
                return Err(TestCaseError::fail("the fused path declined"));
            };
            let (wc, vt, r, ru) = clip_and_rank_generic(w, &c, &a);
            let b = BondRows { rows: &bonds, n, recent: &recent };
            let e = mat_ema_alpha(&wc, &b, &c, &mut AlphaSigmoid::new(lo, hi, steep), n);
            let mut sums = vec![0u64; n];
            for (j, v) in e.cols.iter().zip(&e.vals) {
                sums[usize::from(*j)] += v.to_bits() as u64;
            }
            // E without its zero entries (zip-merged rows keep them).
            let fe = positive_entries(&f.e, n);
            prop_assert_eq!(fe, e);
            prop_assert_eq!(f.e_sums, sums);
            prop_assert_eq!(f.trust, vt);
            prop_assert_eq!(f.rank, r);
            prop_assert_eq!(f.rank_unclipped, ru);
        }

        #[test]
        fn clip_ema3_equals_clipping_then_the_ema(
            (n, wrows, brows, a, c, recent, alpha) in (1usize..30).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, n + 2, true),
                    bond_rows(n),
                    units(n, true),
                    units_often_zero(n),
                    prop::collection::vec(prop::bool::weighted(0.2), n),
                    prop_oneof![Just(0u16), Just(65535u16), any::<u16>()],
                )
            }),
            same in prop::option::of(any::<u16>()),
        ) {
            let w = csr_of_bits(&wrows, true);
            let bonds: Vec<SparseRow> = brows.iter().map(|r| sorted_row(r)).collect();
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let c: Vec<Q32> = c.into_iter().map(Q32::from_bits).collect();
            let alpha = u16_proportion(alpha);
            let (bonds, recent) = match same {
                Some(salt) => (same_pattern(&w, bonds, salt), vec![false; n]),
                None => (bonds, recent),
            };
            // A stored row out of order (reversed) makes the fused path decline.
            let mut unsorted = bonds.clone();
            if let Some(r) = unsorted.iter_mut().find(|r| r.len() > 1) {
                r.reverse();
                prop_assert!(clip_ema3(&w, &c, &a, &unsorted, &recent, alpha, Entries::default()).is_none());
            }
            let f = clip_ema3(&w, &c, &a, &bonds, &recent, alpha, Entries::default());
            prop_assert!(f.is_some());
            let f = f.unwrap();
            let (wc, vt, r, ru) = clip_and_rank_generic(w, &c, &a);
            let e = mat_ema(&wc, &input_bonds(&bonds, n, &recent, true), alpha, n);
            let mut sums = vec![0u64; n];
            for (j, v) in e.cols.iter().zip(&e.vals) {
                sums[usize::from(*j)] += v.to_bits() as u64;
            }
            // E without its zero entries (zip-merged rows keep them).
            let fe = positive_entries(&f.e, n);
            prop_assert_eq!(fe, e);
            prop_assert_eq!(f.e_sums, sums);
            prop_assert_eq!(f.trust, vt);
            prop_assert_eq!(f.rank, r);
            prop_assert_eq!(f.rank_unclipped, ru);
        }

        #[test]
        fn max_upscale_unit_equals_the_generic_path(
            v in prop::collection::vec(prop_oneof![0i64..=(1 << 32), Just(0i64), Just(1i64 << 32), 0i64..100], 1..60),
        ) {
            let v: Vec<Q32> = v.into_iter().map(Q32::from_bits).collect();
            let m = v.iter().copied().fold(ZERO, Q32::max);
            if m > ZERO {
                prop_assert_eq!(max_upscale_to_u16(&v), max_upscale_to_u16_generic(&v, m));
            }
        }

        #[test]
        fn top_k_by_selection_equals_the_stable_sort(
            v in prop::collection::vec(prop_oneof![0i64..4, 0i64..=(1 << 32)], 0..80),
            k in 0usize..90,
        ) {
            let v: Vec<Q32> = v.into_iter().map(Q32::from_bits).collect();
            prop_assert_eq!(top_k_nonzero(&v, k), top_k_nonzero_sorted(&v, k));
        }

        #[test]
        fn radix_select_equals_the_quickselect(
            entries in prop::collection::vec(
                (
                    prop_oneof![0i64..=(1 << 32), 0i64..40, Just(1i64 << 32), Just(0i64), (0i64..8).prop_map(|x| x << 29)],
                    prop_oneof![0i64..(1 << 26), Just(0i64), 0i64..3],
                ),
                0..700,
            ),
            target_frac in 0u64..=1000,
        ) {
            let total: i64 = entries.iter().map(|e| e.1).sum();
            let target = (total as i128 * i128::from(target_frac) / 1000) as i64;
            let mut sel = Selector::default();
            for t in [target, 0, total, total.saturating_sub(1), target / 2] {
                let (mut x, mut y) = (entries.clone(), entries.clone());
                if x.is_empty() {
                    continue;
                }
                prop_assert_eq!(sel.select(&mut x, t), select_quick(&mut y, t));
            }
        }

        #[test]
        fn clip_and_rank_unit_equals_the_generic_path(
            (n, rows, a, c) in (1usize..40).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, 2 * n + 2, false),
                    units(n, false),
                    units(n, false),
                )
            }),
        ) {
            let w = csr_of_bits(&rows, false);
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let c: Vec<Q32> = c.into_iter().map(Q32::from_bits).collect();
            let keep = clip_and_rank_keep(w.clone(), &c, &a);
            prop_assert_eq!(
                clip_and_rank_unit(w.clone(), &c, &a),
                clip_and_rank_generic(w.clone(), &c, &a)
            );
            let (wc, vt, r, ru) = clip_and_rank_generic(w.clone(), &c, &a);
            prop_assert_eq!((&keep.1, &keep.2, &keep.3), (&vt, &r, &ru));
            // The kept form minus the entries the compacting form drops is the same matrix.
            let mut kept = Csr::with_capacity(n, 0);
            for i in 0..n {
                for ((j, v), orig) in keep.0.row_cols(i).iter().zip(keep.0.row_vals(i)).zip(w.row_vals(i)) {
                    if !(c[usize::from(*j)] == ZERO && *orig > ZERO) {
                        kept.push(*j, *v);
                    }
                }
                kept.end_row();
            }
            prop_assert_eq!(kept, wc);
        }

        #[test]
        fn dividends3_unit_equals_the_generic_path(
            (n, rows, a, inc) in (1usize..40).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, 2 * n + 2, true),
                    units(n, true),
                    units(n, true),
                )
            }),
        ) {
            let e = csr_of_bits(&rows, false);
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let inc: Vec<Q32> = inc.into_iter().map(Q32::from_bits).collect();
            prop_assert_eq!(
                dividends3_unit(&e, &a, &inc, n, None),
                dividends3_generic(&e, &a, &inc, n)
            );
            let mut sums = vec![0u64; n];
            for (j, v) in e.cols.iter().zip(&e.vals) {
                sums[usize::from(*j)] += v.to_bits() as u64;
            }
            let permit: Vec<bool> = (0..n).map(|i| i % 3 != 1).collect();
            let (d, bonds) = dividends3_out(&e, &a, &inc, &sums, &permit);
            prop_assert_eq!(&d, &dividends3_generic(&e, &a, &inc, n));
            // Each form of the column normalisation (where its domain allows) gives the same.
            let dv: Vec<Divider> = sums.iter().map(|s| Divider::new((*s).max(1))).collect();
            let with_divider = dividends3_out_with(&e, &a, &inc, &permit, &dv, unit_div);
            let ud: Vec<UnitDivider> = sums.iter().map(|s| UnitDivider::new((*s).max(1))).collect();
            prop_assert_eq!(&with_divider, &dividends3_out_with(&e, &a, &inc, &permit, &ud, |d, v| d.div(v)));
            if let Some(h) = sums.iter().map(|s| HighDivider::new(*s)).collect::<Option<Vec<_>>>() {
                prop_assert_eq!(&with_divider, &dividends3_out_with(&e, &a, &inc, &permit, &h, |d, v| d.div(v)));
            }
            prop_assert_eq!((&d, &bonds), (&with_divider.0, &with_divider.1));
            for i in 0..n {
                let want: SparseRow = if permit[i] {
                    e.row_cols(i).iter().zip(e.row_vals(i)).filter(|(_, v)| **v > ZERO).map(|(j, v)| (*j, proportion_to_u16(*v))).collect()
                } else {
                    Vec::new()
                };
                prop_assert_eq!(&bonds[i], &want);
            }
        }

        #[test]
        fn yuma2_unit_equals_the_generic_path(
            (n, wrows, brows, a, inc, alpha) in (1usize..30).prop_flat_map(|n| {
                (
                    Just(n),
                    unit_rows(n, n + 2, true),
                    prop::collection::vec(
                        prop::collection::vec((0..n as u16, 0u16..=65535), 0..n + 2),
                        n,
                    ),
                    units(n, true),
                    units(n, true),
                    0u16..=65535,
                )
            }),
            sorted in any::<bool>(),
        ) {
            let build = |rows: &[Vec<(u16, Q32)>]| {
                let mut m = Csr::with_capacity(n, 0);
                for row in rows {
                    let mut row = row.clone();
                    if sorted {
                        row.sort_unstable_by_key(|e| e.0);
                        row.dedup_by_key(|e| e.0);
                    }
                    for (j, v) in row {
                        m.push(j, v);
                    }
                    m.end_row();
                }
                m
            };
            let wrows: Vec<Vec<(u16, Q32)>> = wrows
                .iter()
                .map(|r| r.iter().map(|(j, v)| (*j, Q32::from_bits(*v))).collect())
                .collect();
            let brows: Vec<Vec<(u16, Q32)>> = brows
                .iter()
                .map(|r| r.iter().map(|(j, v)| (*j, q32_int(*v))).collect())
                .collect();
            let (wb, b) = (build(&wrows), build(&brows));
            let a: Vec<Q32> = a.into_iter().map(Q32::from_bits).collect();
            let inc: Vec<Q32> = inc.into_iter().map(Q32::from_bits).collect();
            let alpha = u16_proportion(alpha);
            prop_assert_eq!(
                yuma2(&wb, b.clone(), &a, &inc, alpha, n, true),
                yuma2(&wb, b, &a, &inc, alpha, n, false)
            );
        }

        #[test]
        fn ema_merge_of_a_matrix_equals_the_generic_path(
            (n, new_rows, old_rows, alpha) in (1usize..40).prop_flat_map(|n| {
                let row = prop::collection::vec((0..n as u16, prop_oneof![0i64..=(1 << 32), any::<i64>()]), 0..2 * n + 2);
                (
                    Just(n),
                    prop::collection::vec(row.clone(), n),
                    prop::collection::vec(row, n),
                    prop_oneof![0i64..=(1 << 32), any::<i64>()],
                )
            }),
            sort in any::<bool>(),
        ) {
            /// Rows of a matrix through `fill` only (the generic path of `mat_ema`).
            struct FillOnly(Csr);
            impl OldRows for FillOnly {
                fn fill(&self, i: usize, cols: &mut Vec<u16>, vals: &mut Vec<Q32>) {
                    self.0.fill(i, cols, vals)
                }
                fn nnz_hint(&self) -> usize {
                    self.0.nnz_hint()
                }
            }
            let build = |rows: &[Vec<(u16, i64)>]| csr_of_bits(rows, sort);
            let (new, old) = (build(&new_rows), build(&old_rows));
            let alpha = Q32::from_bits(alpha);
            let generic = FillOnly(old.clone());
            prop_assert_eq!(mat_ema(&new, &old, alpha, n), mat_ema(&new, &generic, alpha, n));
        }

        #[test]
        fn ema_from_input_rows_equals_the_generic_path(
            (n, new_rows, old_rows, recent, alpha) in (1usize..40).prop_flat_map(|n| {
                let row = prop::collection::vec((0..n as u16 + 3, 0u16..=65535), 0..2 * n + 2);
                (
                    Just(n),
                    prop::collection::vec(row.clone(), n),
                    prop::collection::vec(row, n),
                    prop::collection::vec(prop::bool::weighted(0.2), n),
                    0u16..=65535,
                )
            }),
            sort_new in any::<bool>(),
            sort_old in any::<bool>(),
        ) {
            let mut new = Csr::with_capacity(n, 0);
            for row in &new_rows {
                let mut row = row.clone();
                if sort_new {
                    row.sort_unstable_by_key(|e| e.0);
                    row.dedup_by_key(|e| e.0);
                }
                for (j, v) in row {
                    if usize::from(j) < n {
                        new.push(j, u16_proportion(v));
                    }
                }
                new.end_row();
            }
            let old_rows: Vec<SparseRow> = old_rows
                .into_iter()
                .map(|mut row| {
                    if sort_old {
                        row.sort_unstable_by_key(|e| e.0);
                        row.dedup_by_key(|e| e.0);
                    }
                    row
                })
                .collect();
            let alpha = u16_proportion(alpha);
            let direct = BondRows { rows: &old_rows, n, recent: &recent };
            let generic = input_bonds(&old_rows, n, &recent, true);
            prop_assert_eq!(mat_ema(&new, &direct, alpha, n), mat_ema(&new, &generic, alpha, n));
        }

        #[test]
        fn stake_vector_equals_q64_normalisation(
            stakes in prop::collection::vec(0u64..(1u64 << 55), 0..50),
            threshold in 0u64..(1u64 << 54),
        ) {
            let raw: Vec<Q64> = stakes
                .iter()
                .map(|s| if *s < threshold { Q64::from_bits(0) } else { Q64::from_num(*s) })
                .collect();
            let total = raw.iter().fold(Q64::from_bits(0), |acc, x| acc + *x);
            let want: Vec<Q32> = raw
                .iter()
                .map(|x| {
                    let v = if total != Q64::from_bits(0) { safe_div64(*x, total) } else { *x };
                    q64_to_q32(v)
                })
                .collect();
            prop_assert_eq!(stake_vector(&stakes, threshold, None), want);
        }
    }

    /// Stored bond rows with the columns of `m`'s rows (two rows in three; the third keeps
    /// its own), for the same-pattern paths of the merges.
    fn same_pattern(m: &Csr, bonds: Vec<SparseRow>, salt: u16) -> Vec<SparseRow> {
        bonds
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                if i % 3 == 2 {
                    return row;
                }
                let mut same: SparseRow = m
                    .row_cols(i)
                    .iter()
                    .enumerate()
                    .map(|(k, j)| (*j, (k as u16).wrapping_mul(40503) ^ salt))
                    .collect();
                // Every fourth row: the same length, the last column moved out of range.
                if i % 4 == 3 {
                    if let Some(last) = same.last_mut() {
                        last.0 = m.rows() as u16 + (salt & 1);
                    }
                }
                same
            })
            .collect()
    }

    /// Inputs with the given weight rows, last updates and registrations (others default).
    fn test_inputs(n: usize, weights: Vec<SparseRow>, lu: Vec<u64>, reg: Vec<u64>) -> EpochInputs {
        EpochInputs {
            n: n as u16,
            current_block: 100,
            tempo: 10,
            last_mechanism_step_block: 0,
            activity_cutoff: 1000,
            rao_emission: 1_000_000,
            hyperparameters: crate::Hyperparameters {
                kappa: 32767,
                bonds_moving_average: 900_000,
                bonds_penalty: 65535,
                yuma3_enabled: true,
                liquid_alpha_enabled: false,
                alpha_low: 45875,
                alpha_high: 58982,
                alpha_sigmoid_steepness: 1000,
                max_allowed_validators: 64,
                stake_threshold: 0,
            },
            owner_uid: None,
            stake: vec![1; n],
            last_update: lu,
            block_at_registration: reg,
            validator_permit: vec![true; n],
            bonds: vec![Vec::new(); n],
            weights,
        }
    }

    #[test]
    fn masked_weights_with_a_saturating_row_sum_equal_the_reference() {
        // 40,000 entries of 65535: the `⊕` row sum saturates (integer sum >= 2^31).
        let n = 3;
        let long: SparseRow = (0..40_000u32)
            .map(|k| ((k % 3) as u16, 65535 - (k % 7) as u16))
            .collect();
        let rows = vec![long.clone(), vec![(0, 5), (2, 7)], long];
        let inp = test_inputs(n, rows, vec![10; n], vec![0; n]);
        let permit = vec![true; n];
        for owner in [None, Some(0)] {
            let (w, _) = masked_weights(&inp, &permit, owner, Entries::default());
            assert_eq!(w, masked_weights_reference(&inp, &permit, owner));
            assert!(w.vals.iter().any(|v| *v != ZERO));
        }
    }

    #[test]
    fn top_k_drops_the_lower_uid_among_ties() {
        let v: Vec<Q32> = [3, 1, 1, 0, 2].iter().map(|x| Q32::from_num(*x)).collect();
        assert_eq!(top_k_nonzero(&v, 3), vec![true, false, true, false, true]);
        assert_eq!(top_k_nonzero(&v, 10), vec![true, true, true, false, true]);
        assert_eq!(top_k_nonzero(&v, 0), vec![false; 5]);
    }
}
