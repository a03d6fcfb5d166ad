//! The chain-independent pieces of the miner and validator loops.
//!
//! The networked loops (next step) are: *sync* the [`Metagraph`] from the chain every N blocks
//! (client crate) into a [`SharedMetagraph`]; the miner serves [`miner_axon`] (blacklist and
//! priority read the shared metagraph, so a sync takes effect without a restart); the validator
//! calls [`run_round`] per step, saves its [`ValidatorState`], and when [`weights_due`] says so
//! turns scores into weights with [`compute_weights`] and submits them (or commits, then reveals).
//! Everything here is independent of how the metagraph is obtained and how weights are sent.

use crate::scores::Outcome;
use crate::state::ValidatorState;
use crate::subnet::{Miner, Validator};
use crate::weights::{process_weights, WeightError, WeightLimits, WeightVector};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tensornet_axon::{Axon, AxonConfig, AxonTarget, Caller, Dendrite, HandlerError, RequestInfo};

/// One neuron as the loops need it (filled from the chain by the client crate).
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronView {
    /// UID on the subnet.
    pub uid: u16,
    /// Hotkey SS58.
    pub hotkey: String,
    /// Stake backing the hotkey, rao.
    pub stake: u64,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
    /// The axon it serves, if any.
    pub axon: Option<SocketAddr>,
}

/// A snapshot of a subnet's neurons (`neurons[i].uid == i`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: u16,
    /// Block the snapshot was taken at.
    pub block: u64,
    /// Neurons by UID.
    pub neurons: Vec<NeuronView>,
}

/// A metagraph shared between the sync task and the axon hooks.
pub type SharedMetagraph = Arc<RwLock<Metagraph>>;

impl Metagraph {
    /// Number of UIDs.
    pub fn n(&self) -> u16 {
        u16::try_from(self.neurons.len()).unwrap_or(u16::MAX)
    }

    /// The neuron with this hotkey.
    pub fn by_hotkey(&self, hotkey: &str) -> Option<&NeuronView> {
        self.neurons.iter().find(|n| n.hotkey == hotkey)
    }

    /// Hotkeys by UID.
    pub fn hotkeys(&self) -> Vec<String> {
        self.neurons.iter().map(|n| n.hotkey.clone()).collect()
    }

    /// Whether each UID serves an axon.
    pub fn serving(&self) -> Vec<bool> {
        self.neurons.iter().map(|n| n.axon.is_some()).collect()
    }
}

/// Who may query a miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Callers must be registered on the subnet.
    pub require_registered: bool,
    /// Callers must hold a validator permit (implies registered).
    pub require_validator_permit: bool,
    /// Callers need at least this stake, rao.
    pub min_stake: u64,
}

impl Default for AccessPolicy {
    /// Registered validators with a permit, any stake.
    fn default() -> Self {
        AccessPolicy {
            require_registered: true,
            require_validator_permit: true,
            min_stake: 0,
        }
    }
}

impl AccessPolicy {
    /// Anyone who signs correctly (tests, `axon echo`-style demos).
    pub fn open() -> Self {
        AccessPolicy {
            require_registered: false,
            require_validator_permit: false,
            min_stake: 0,
        }
    }

    /// Why `hotkey` may not call, or `None` if it may.
    pub fn check(&self, metagraph: &Metagraph, hotkey: Option<&str>) -> Option<String> {
        let Some(hotkey) = hotkey else {
            return Some("request names no caller hotkey".to_string());
        };
        let needs_registration =
            self.require_registered || self.require_validator_permit || self.min_stake > 0;
        match metagraph.by_hotkey(hotkey) {
            None if needs_registration => {
                Some(format!("hotkey {hotkey} is not registered on the subnet"))
            }
            None => None,
            Some(n) if self.require_validator_permit && !n.validator_permit => {
                Some(format!("hotkey {hotkey} has no validator permit"))
            }
            Some(n) if n.stake < self.min_stake => Some(format!(
                "hotkey {hotkey} has stake {} below {}",
                n.stake, self.min_stake
            )),
            Some(_) => None,
        }
    }
}

/// An axon serving `miner`'s synapse for `hotkey`. Requests from callers the [`AccessPolicy`]
/// rejects (checked against `metagraph` from the headers, before the body is read) answer 403;
/// waiting requests are served in order of the caller's stake. The model runs on the blocking
/// thread pool.
pub fn miner_axon<M: Miner>(
    miner: Arc<M>,
    hotkey: impl Into<String>,
    config: AxonConfig,
    metagraph: SharedMetagraph,
    policy: AccessPolicy,
) -> Arc<Axon> {
    let mg_blacklist = metagraph.clone();
    let mg_priority = metagraph;
    Axon::builder(hotkey)
        .config(config)
        .blacklist(move |info: &RequestInfo<'_>| {
            let Ok(mg) = mg_blacklist.read() else {
                return Some("metagraph unavailable".to_string());
            };
            policy.check(&mg, info.headers.dendrite.hotkey.as_deref())
        })
        .priority(move |info: &RequestInfo<'_>| {
            let hotkey = info.headers.dendrite.hotkey.as_deref().unwrap_or("");
            mg_priority
                .read()
                .ok()
                .and_then(|mg| mg.by_hotkey(hotkey).map(|n| n.stake as f64))
                .unwrap_or(0.0)
        })
        .attach(move |_caller: Caller, request: M::Synapse| {
            let miner = miner.clone();
            async move {
                tokio::task::spawn_blocking(move || miner.answer(request))
                    .await
                    .map_err(|e| HandlerError(format!("model task failed: {e}")))?
            }
        })
        .build()
}

/// Validator round settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundConfig {
    /// Per-query timeout.
    pub timeout: Duration,
    /// Query a random subset of this many miners (`None`: all serving miners).
    pub sample_size: Option<usize>,
}

impl Default for RoundConfig {
    fn default() -> Self {
        RoundConfig {
            timeout: Duration::from_secs(12),
            sample_size: None,
        }
    }
}

/// The outcome of one miner in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct UidResult {
    /// The miner's UID.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// Status code of the answer (local codes for transport failures, see the dendrite).
    pub status_code: u16,
    /// Reward of this round (0 for a failed query).
    pub reward: f64,
    /// Whether it answered with status 200 and a parseable body.
    pub answered: bool,
    /// Round-trip seconds.
    pub process_time: f64,
    /// Its moving-average score after this round.
    pub score: f64,
}

/// What one round did.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundReport {
    /// The round number (the challenge's).
    pub round: u64,
    /// One entry per queried miner, by UID.
    pub results: Vec<UidResult>,
}

/// Picks the miners to query: UIDs serving an axon, except `own_hotkey`; a random subset of
/// `sample_size` (seeded by `round`) when set.
pub fn pick_miners(
    metagraph: &Metagraph,
    own_hotkey: &str,
    sample_size: Option<usize>,
    round: u64,
) -> Vec<u16> {
    let mut uids: Vec<u16> = metagraph
        .neurons
        .iter()
        .filter(|n| n.axon.is_some() && n.hotkey != own_hotkey)
        .map(|n| n.uid)
        .collect();
    if let Some(k) = sample_size {
        if k < uids.len() {
            let mut rng = rand::rngs::StdRng::seed_from_u64(round);
            uids.shuffle(&mut rng);
            uids.truncate(k);
            uids.sort_unstable();
        }
    }
    uids
}

/// One validator round: draw a challenge, query the picked miners concurrently through
/// `dendrite`, score the answers (failures score 0), update the moving averages in `state`
/// (after aligning them with the metagraph's hotkeys) and advance `state.round`.
pub async fn run_round<V: Validator>(
    dendrite: &Dendrite,
    validator: &mut V,
    metagraph: &Metagraph,
    state: &mut ValidatorState,
    config: &RoundConfig,
) -> RoundReport {
    let round = state.round;
    state.scores.sync_hotkeys(&metagraph.hotkeys());
    let uids = pick_miners(metagraph, dendrite.hotkey(), config.sample_size, round);
    let (synapse, challenge) = validator.challenge(round);
    let targets: Vec<AxonTarget> = uids
        .iter()
        .filter_map(|&u| {
            let n = metagraph.neurons.get(usize::from(u))?;
            Some(AxonTarget::new(n.axon?, n.hotkey.clone()))
        })
        .collect();
    let answers = dendrite.query(&targets, &synapse, config.timeout).await;
    let statuses: Vec<(u16, f64)> = answers
        .iter()
        .map(|a| (a.status_code, a.process_time))
        .collect();
    let responses: Vec<Option<V::Synapse>> = answers
        .into_iter()
        .map(|a| if a.is_success() { a.synapse } else { None })
        .collect();
    let rewards = validator.score(&challenge, &responses);
    let mut results = Vec::with_capacity(uids.len());
    for (i, (&uid, target)) in uids.iter().zip(&targets).enumerate() {
        let answered = responses.get(i).is_some_and(|r| r.is_some());
        let reward = if answered {
            rewards.get(i).copied().unwrap_or(0.0)
        } else {
            0.0
        };
        let outcome = if answered {
            Outcome::Answered(reward)
        } else {
            Outcome::Failed
        };
        state.scores.record(uid, &target.hotkey, outcome);
        let (status_code, process_time) = statuses.get(i).copied().unwrap_or((0, 0.0));
        results.push(UidResult {
            uid,
            hotkey: target.hotkey.clone(),
            status_code,
            reward: if reward.is_finite() {
                reward.clamp(0.0, 1.0)
            } else {
                0.0
            },
            answered,
            process_time,
            score: state.scores.score(uid),
        });
    }
    state.round = state.round.wrapping_add(1);
    RoundReport { round, results }
}

/// Whether a validator should submit weights at `block`: never set before, or at least
/// `max(tempo, weights_rate_limit)` blocks since the last submission.
pub fn weights_due(block: u64, last: Option<u64>, tempo: u64, weights_rate_limit: u64) -> bool {
    last.is_none_or(|l| block.saturating_sub(l) >= tempo.max(weights_rate_limit).max(1))
}

/// The weight vector for `state`'s scores on `metagraph` (own UID excluded, failing UIDs and
/// UIDs without an axon dropped), processed for the chain's `limits` (`limits.n` is taken from
/// the metagraph).
pub fn compute_weights(
    state: &ValidatorState,
    metagraph: &Metagraph,
    max_weight_limit: u16,
    min_allowed_weights: u16,
) -> Result<WeightVector, WeightError> {
    let n = metagraph.n();
    let mut scores = state.scores.weight_scores(n);
    let hotkeys = metagraph.hotkeys();
    for (uid, s) in scores.iter_mut().enumerate() {
        let same_holder = state
            .scores
            .get(uid as u16)
            .is_some_and(|e| hotkeys.get(uid).is_some_and(|h| *h == e.hotkey));
        if !same_holder || hotkeys.get(uid).is_some_and(|h| *h == state.hotkey) {
            *s = 0.0;
        }
    }
    process_weights(
        &scores,
        &metagraph.serving(),
        WeightLimits {
            n,
            max_weight_limit,
            min_allowed_weights,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::ScoreKeeper;

    fn mg() -> Metagraph {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        Metagraph {
            netuid: 1,
            block: 10,
            neurons: vec![
                NeuronView {
                    uid: 0,
                    hotkey: "vali".into(),
                    stake: 1000,
                    validator_permit: true,
                    axon: None,
                },
                NeuronView {
                    uid: 1,
                    hotkey: "m1".into(),
                    stake: 0,
                    validator_permit: false,
                    axon: Some(addr),
                },
                NeuronView {
                    uid: 2,
                    hotkey: "m2".into(),
                    stake: 5,
                    validator_permit: true,
                    axon: Some(addr),
                },
                NeuronView {
                    uid: 3,
                    hotkey: "m3".into(),
                    stake: 0,
                    validator_permit: false,
                    axon: None,
                },
            ],
        }
    }

    #[test]
    fn access_policy() {
        let g = mg();
        let p = AccessPolicy::default();
        assert!(p.check(&g, Some("vali")).is_none());
        assert!(p
            .check(&g, Some("m1"))
            .unwrap()
            .contains("no validator permit"));
        assert!(p
            .check(&g, Some("stranger"))
            .unwrap()
            .contains("not registered"));
        assert!(p.check(&g, None).is_some());
        let p = AccessPolicy {
            min_stake: 10,
            ..AccessPolicy::default()
        };
        assert!(p.check(&g, Some("m2")).unwrap().contains("below"));
        assert!(AccessPolicy::open().check(&g, Some("stranger")).is_none());
    }

    #[test]
    fn picks_serving_miners_but_not_self() {
        let g = mg();
        assert_eq!(pick_miners(&g, "m1", None, 0), vec![2]);
        assert_eq!(pick_miners(&g, "vali", None, 0), vec![1, 2]);
        let one = pick_miners(&g, "vali", Some(1), 7);
        assert_eq!(one.len(), 1);
        assert_eq!(one, pick_miners(&g, "vali", Some(1), 7), "seeded by round");
    }

    #[test]
    fn weights_timing() {
        assert!(weights_due(5, None, 20, 5));
        assert!(!weights_due(30, Some(15), 20, 5));
        assert!(weights_due(35, Some(15), 20, 5));
        assert!(!weights_due(35, Some(15), 10, 30));
        assert!(weights_due(45, Some(15), 10, 30));
    }

    #[test]
    fn weights_from_state() {
        let g = mg();
        let mut s = ValidatorState::new(1, "vali", ScoreKeeper::new(1.0, 3).unwrap());
        s.scores.record(0, "vali", Outcome::Answered(1.0)); // own UID: ignored
        s.scores.record(1, "m1", Outcome::Answered(0.5));
        s.scores.record(2, "m2", Outcome::Answered(1.0));
        s.scores.record(3, "m3", Outcome::Answered(1.0)); // no axon: dropped
        let w = compute_weights(&s, &g, 65535, 1).unwrap();
        assert_eq!(w.pairs(), vec![(1, 32768), (2, 65535)]);
        // a failing miner drops out
        for _ in 0..3 {
            s.scores.record(2, "m2", Outcome::Failed);
        }
        let w = compute_weights(&s, &g, 65535, 1).unwrap();
        assert_eq!(w.pairs(), vec![(1, 65535)]);
        // a UID whose hotkey changed since scoring gets nothing
        let mut g2 = g.clone();
        g2.neurons[1].hotkey = "new".into();
        assert_eq!(
            compute_weights(&s, &g2, 65535, 1),
            Err(WeightError::NoPositiveScores)
        );
    }
}
