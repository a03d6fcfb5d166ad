//! The run loop: builds each epoch's [`EpochInputs`] the way the chain's storage would hold them,
//! calls [`tensornet_yuma::epoch`], and carries the epoch's own outputs (bonds, permits) forward.
//!
//! Chain emulation, per simulated epoch `t` (blocks `B_t = (t + 1) * (tempo + 1)`):
//! 1. registrations due at `t` happen at block `B_t - tempo`: `block_at_registration` and
//!    `last_update` set, the UID's own weight row emptied, every weight pointing to it set to 0;
//! 2. miner qualities take one random-walk step;
//! 3. each registered validator computes its weights at block `B_t - tempo / 2`, quantizes them to
//!    u16 with max-upscaling (largest entry 65535, zeros dropped, as clients submit them), and
//!    either stores them (commit-reveal off) or commits them for reveal at epoch `t + delay`;
//!    `last_update` is set to the submission (or commit) block;
//! 4. due reveals are stored; the epoch runs with `last_mechanism_step_block = B_{t-1}`, the stored
//!    bonds and permits written by the previous epoch, and the emission accumulated over
//!    `tempo + 1` blocks minus the owner cut.

use crate::rng::Rng;
use crate::scenario::{Behaviour, LazyMode, Quality, Scenario};
use crate::SimError;
use std::collections::VecDeque;
use tensornet_yuma::{epoch, EpochInputs, EpochOutputs, Hyperparameters, SparseRow};

/// Rao per TAO.
pub const RAO_PER_TAO: f64 = 1e9;

/// Whether a UID is a validator or a miner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sets weights; earns dividends.
    Validator,
    /// Is weighted; earns incentive.
    Miner,
}

impl Role {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Validator => "validator",
            Role::Miner => "miner",
        }
    }
}

/// One simulated UID.
#[derive(Clone, Debug)]
pub struct Participant {
    /// UID on the subnet (validators first, then miners, in file order).
    pub uid: u16,
    /// Validator or miner.
    pub role: Role,
    /// Validator behaviour; `None` for miners.
    pub behaviour: Option<Behaviour>,
    /// Index of the group in the scenario's `validators` or `miners` list.
    pub group: usize,
    /// Configured stake in rao (0 for miners).
    pub stake: u64,
    /// A miner owned by the cabal.
    pub cabal: bool,
    /// Epoch at which the UID registers (`joins_at` or `appears_at`).
    pub start_epoch: u32,
    /// Standard deviation of the honest noise (validators).
    pub noise: f64,
    /// Lazy weights mode (validators).
    pub lazy: LazyMode,
}

impl Participant {
    /// The label used in files: the behaviour of a validator; `cabal` or `honest` for a miner.
    pub fn label(&self) -> &'static str {
        match (self.role, self.behaviour) {
            (Role::Validator, Some(b)) => b.as_str(),
            (Role::Miner, _) if self.cabal => "cabal",
            _ => "honest",
        }
    }
}

/// What one epoch produced, per UID (vectors indexed by UID).
#[derive(Clone, Debug)]
pub struct EpochRecord {
    /// Simulated epoch index, from 0.
    pub epoch: u32,
    /// Block at which the epoch ran.
    pub block: u64,
    /// Stake in rao used by this epoch.
    pub stake: Vec<u64>,
    /// True quality of each miner this epoch (0 for validators and idle slots).
    pub quality: Vec<f64>,
    /// Stake-weighted sum of the normalized weights the UID received from validators with a
    /// permit and stake, before clipping (a miner's "raw" support).
    pub weight_sum: Vec<f64>,
    /// Consensus, `/ 65535`.
    pub consensus: Vec<u16>,
    /// Incentive, `/ 65535`.
    pub incentive: Vec<u16>,
    /// Dividends, `/ 65535`.
    pub dividends: Vec<u16>,
    /// Validator trust, `/ 65535`.
    pub validator_trust: Vec<u16>,
    /// Combined emission the chain records, rao.
    pub emission: Vec<u64>,
    /// Paid this epoch (server + validator emission), rao.
    pub earned: Vec<u64>,
    /// Paid since epoch 0, rao.
    pub cumulative: Vec<u64>,
}

/// The complete output of a run.
#[derive(Clone, Debug)]
pub struct SimResult {
    /// The scenario that was run (after overrides).
    pub scenario: Scenario,
    /// The seed used.
    pub seed: u64,
    /// One entry per UID.
    pub participants: Vec<Participant>,
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
}

struct Pending {
    reveal_epoch: u32,
    commit_block: u64,
    uid: u16,
    row: SparseRow,
}

fn to_rao(tao: f64) -> u64 {
    (tao * RAO_PER_TAO).round() as u64
}

/// Builds the participant list of a scenario (validators first, then miners).
pub fn participants(s: &Scenario) -> Vec<Participant> {
    let mut out = Vec::with_capacity(s.validator_count() + s.miner_count());
    for (g, v) in s.validators.iter().enumerate() {
        for _ in 0..v.count {
            let uid = out.len() as u16;
            out.push(Participant {
                uid,
                role: Role::Validator,
                behaviour: Some(v.behaviour),
                group: g,
                stake: to_rao(v.stake),
                cabal: false,
                start_epoch: v.joins_at,
                noise: v.noise,
                lazy: v.lazy,
            });
        }
    }
    for (g, m) in s.miners.iter().enumerate() {
        for _ in 0..m.count {
            let uid = out.len() as u16;
            out.push(Participant {
                uid,
                role: Role::Miner,
                behaviour: None,
                group: g,
                stake: 0,
                cabal: m.cabal,
                start_epoch: m.appears_at,
                noise: 0.0,
                lazy: LazyMode::Uniform,
            });
        }
    }
    out
}

fn initial_qualities(s: &Scenario) -> Vec<(f64, f64)> {
    let mut q = Vec::with_capacity(s.miner_count());
    for m in &s.miners {
        for k in 0..m.count {
            let v = match m.quality {
                Quality::Fixed(v) => v,
                Quality::Range([a, b]) if m.count > 1 => {
                    a + (b - a) * f64::from(k) / f64::from(m.count - 1)
                }
                Quality::Range([a, b]) => (a + b) / 2.0,
            };
            q.push((v, m.drift));
        }
    }
    q
}

/// Quantizes float weights the way a client submits them: max-upscaled to 65535, rounded, zeros
/// dropped. `None` when no weight is positive (the chain rejects an all-zero submission).
fn quantize(entries: &[(u16, f64)]) -> Option<SparseRow> {
    let max = entries
        .iter()
        .map(|&(_, v)| v)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    if max <= 0.0 {
        return None;
    }
    let scale = 65535.0 / max;
    // `x + 0.5` truncated is round-half-up for x >= 0 (cheaper than `f64::round`).
    let row: SparseRow = entries
        .iter()
        .filter(|(_, v)| v.is_finite() && *v > 0.0)
        .map(|&(j, v)| (j, (v * scale + 0.5).min(65535.0) as u16))
        .filter(|&(_, v)| v > 0)
        .collect();
    (!row.is_empty()).then_some(row)
}

/// Called after every epoch with the epoch index and the epoch's exact inputs and outputs.
pub type Observer<'a> = &'a mut dyn FnMut(u32, &EpochInputs, &EpochOutputs);

/// Runs a scenario with a seed. `progress(done, total)` is called after every epoch.
pub fn run(
    scenario: &Scenario,
    seed: u64,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<SimResult, SimError> {
    run_observed(scenario, seed, progress, &mut |_, _, _| {})
}

/// [`run`], also handing every epoch's inputs and outputs to `observe` (for analyses that need
/// more than the per-UID records, e.g. the weights or bonds).
pub fn run_observed(
    scenario: &Scenario,
    seed: u64,
    progress: &mut dyn FnMut(u32, u32),
    observe: Observer<'_>,
) -> Result<SimResult, SimError> {
    scenario.validate()?;
    let parts = participants(scenario);
    let n = parts.len();
    let n_val = scenario.validator_count();
    let tempo = u64::from(scenario.tempo);
    let h = &scenario.hyperparameters;
    let delay = h.commit_reveal_delay;
    let per_block = to_rao(scenario.block_emission) as u128
        * u128::from(65_535 - scenario.owner_cut as u32)
        / 65_535;
    let rao_emission = u64::try_from(per_block * u128::from(tempo + 1)).unwrap_or(u64::MAX);
    let activity_cutoff = (u64::from(h.activity_cutoff_factor_milli) * tempo / 1000).max(1);

    let mut inputs = EpochInputs {
        n: n as u16,
        current_block: 0,
        tempo: scenario.tempo,
        last_mechanism_step_block: 0,
        activity_cutoff,
        rao_emission,
        hyperparameters: Hyperparameters {
            kappa: h.kappa,
            bonds_moving_average: h.bonds_moving_average,
            bonds_penalty: h.bonds_penalty,
            yuma3_enabled: h.yuma3,
            liquid_alpha_enabled: h.liquid_alpha,
            alpha_low: h.alpha_low,
            alpha_high: h.alpha_high,
            alpha_sigmoid_steepness: h.alpha_sigmoid_steepness,
            max_allowed_validators: h.max_validators,
            stake_threshold: h.stake_threshold,
        },
        owner_uid: None,
        stake: parts
            .iter()
            .map(|p| if p.start_epoch == 0 { p.stake } else { 0 })
            .collect(),
        last_update: vec![0; n],
        block_at_registration: vec![0; n],
        validator_permit: vec![false; n],
        weights: vec![Vec::new(); n],
        bonds: vec![Vec::new(); n],
    };

    let mut qualities = initial_qualities(scenario);
    let mut drift_rng = Rng::new(seed, 0);
    let mut rngs: Vec<Rng> = (0..n_val).map(|i| Rng::new(seed, i as u64 + 1)).collect();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let has_copier = parts.iter().any(|p| p.behaviour == Some(Behaviour::Copier));
    let mut last_consensus: Vec<u16> = vec![0; n];
    let mut cumulative: Vec<u64> = vec![0; n];
    let mut records = Vec::with_capacity(scenario.epochs as usize);
    let mut scratch: Vec<(u16, f64)> = Vec::with_capacity(n);
    let cabal_miners: Vec<u16> = parts.iter().filter(|p| p.cabal).map(|p| p.uid).collect();
    let mut prev_block = 0u64;

    for t in 0..scenario.epochs {
        let block = (u64::from(t) + 1) * (tempo + 1);
        let reg_block = block - tempo;
        let submit_block = block - tempo / 2;

        // 1. Registrations due now.
        if t > 0 {
            for p in parts.iter().filter(|p| p.start_epoch == t) {
                let u = p.uid as usize;
                inputs.block_at_registration[u] = reg_block;
                inputs.last_update[u] = reg_block;
                inputs.weights[u].clear();
                for row in inputs.weights.iter_mut() {
                    for e in row.iter_mut().filter(|e| e.0 == p.uid) {
                        e.1 = 0;
                    }
                }
                // A pending commit made before the registration cannot target the new UID.
                for c in pending.iter_mut().filter(|c| c.commit_block < reg_block) {
                    for e in c.row.iter_mut().filter(|e| e.0 == p.uid) {
                        e.1 = 0;
                    }
                }
                if p.role == Role::Validator {
                    inputs.stake[u] = p.stake;
                }
            }
        }

        // 2. Miner qualities.
        let mut quality = vec![0.0; n];
        for (m, (q, drift)) in qualities.iter_mut().enumerate() {
            let p = &parts[n_val + m];
            if t < p.start_epoch {
                continue;
            }
            if t > p.start_epoch && *drift > 0.0 {
                let mut x = *q + *drift * drift_rng.normal();
                if x < 0.0 {
                    x = -x;
                }
                if x > 1.0 {
                    x = 2.0 - x;
                }
                *q = x.clamp(0.0, 1.0);
            }
            quality[n_val + m] = *q;
        }

        // 3. Weight submissions.
        for (i, p) in parts.iter().enumerate().take(n_val) {
            if t < p.start_epoch {
                continue;
            }
            scratch.clear();
            let rng = &mut rngs[i];
            match p.behaviour {
                Some(Behaviour::Honest) | Some(Behaviour::Late) => {
                    for (j, &q) in quality.iter().enumerate().skip(n_val) {
                        let w = q + p.noise * rng.normal();
                        scratch.push((j as u16, w.max(0.0)));
                    }
                }
                Some(Behaviour::Copier) => {
                    for (j, &c) in last_consensus.iter().enumerate() {
                        if j != i && c > 0 {
                            scratch.push((j as u16, f64::from(c)));
                        }
                    }
                }
                Some(Behaviour::Cabal) => {
                    for &j in &cabal_miners {
                        if t >= parts[j as usize].start_epoch {
                            scratch.push((j, 1.0));
                        }
                    }
                }
                Some(Behaviour::Lazy) => {
                    for j in n_val..n {
                        let w = match p.lazy {
                            LazyMode::Uniform => 1.0,
                            LazyMode::Random => rng.uniform(),
                        };
                        scratch.push((j as u16, w));
                    }
                }
                None => {}
            }
            if let Some(row) = quantize(&scratch) {
                inputs.last_update[i] = submit_block;
                if delay == 0 {
                    inputs.weights[i] = row;
                } else {
                    pending.push_back(Pending {
                        reveal_epoch: t + delay,
                        commit_block: submit_block,
                        uid: i as u16,
                        row,
                    });
                }
            }
        }

        // 4. Reveals due now (pending is in commit order, so due entries are at the front).
        while pending.front().is_some_and(|c| c.reveal_epoch <= t) {
            if let Some(c) = pending.pop_front() {
                inputs.weights[c.uid as usize] = c.row;
            }
        }

        let weight_sum = received_weight(&inputs);
        inputs.current_block = block;
        inputs.last_mechanism_step_block = prev_block;
        let out = epoch(&inputs).map_err(|source| SimError::Epoch { epoch: t, source })?;
        observe(t, &inputs, &out);
        prev_block = block;

        let mut earned = vec![0u64; n];
        for u in 0..n {
            earned[u] = out.server_emission[u].saturating_add(out.validator_emission[u]);
            cumulative[u] = cumulative[u].saturating_add(earned[u]);
        }
        let stake_used = if scenario.compound {
            let s = inputs.stake.clone();
            for (st, e) in inputs.stake.iter_mut().zip(&earned) {
                *st = st.saturating_add(*e);
            }
            s
        } else {
            inputs.stake.clone()
        };
        inputs.bonds = out.bonds;
        inputs.validator_permit = out.validator_permit;
        if has_copier {
            last_consensus.clone_from(&out.consensus);
        }
        records.push(EpochRecord {
            epoch: t,
            block,
            stake: stake_used,
            quality,
            weight_sum,
            consensus: out.consensus,
            incentive: out.incentive,
            dividends: out.dividends,
            validator_trust: out.validator_trust,
            emission: out.emission,
            earned,
            cumulative: cumulative.clone(),
        });
        progress(t + 1, scenario.epochs);
    }

    Ok(SimResult {
        scenario: scenario.clone(),
        seed,
        participants: parts,
        epochs: records,
    })
}

/// Stake-weighted received weight per UID, from the stored rows of validators that hold a permit
/// (from the previous epoch) and stake; each row normalized to sum 1.
fn received_weight(inputs: &EpochInputs) -> Vec<f64> {
    let n = inputs.n as usize;
    let mut out = vec![0.0; n];
    let total: f64 = (0..n)
        .filter(|&i| inputs.validator_permit[i] && !inputs.weights[i].is_empty())
        .map(|i| inputs.stake[i] as f64)
        .sum();
    if total <= 0.0 {
        return out;
    }
    for i in 0..n {
        let row = &inputs.weights[i];
        if !inputs.validator_permit[i] || row.is_empty() || inputs.stake[i] == 0 {
            continue;
        }
        let row_sum: f64 = row.iter().map(|&(_, v)| f64::from(v)).sum();
        if row_sum <= 0.0 {
            continue;
        }
        let s = inputs.stake[i] as f64 / total / row_sum;
        for &(j, v) in row {
            if let Some(o) = out.get_mut(j as usize) {
                *o += s * f64::from(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_max_upscales_and_drops_zeros() {
        let row = quantize(&[(3, 0.5), (4, 0.0), (5, 1.0), (6, 0.25)]).unwrap();
        assert_eq!(row, vec![(3, 32768), (5, 65535), (6, 16384)]);
        assert!(quantize(&[(1, 0.0)]).is_none());
        assert!(quantize(&[]).is_none());
    }

    #[test]
    fn participants_put_validators_first() {
        let s = Scenario::from_toml(
            r#"
name = "p"
epochs = 2
[[miners]]
count = 3
quality = 0.5
[[validators]]
count = 2
stake = 10
behaviour = "honest"
"#,
        )
        .unwrap();
        let p = participants(&s);
        assert_eq!(p.len(), 5);
        assert_eq!(p[1].role, Role::Validator);
        assert_eq!(p[1].stake, 10_000_000_000);
        assert_eq!(p[2].role, Role::Miner);
        assert_eq!(p[4].uid, 4);
    }
}
