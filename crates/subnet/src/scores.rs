//! Per-UID moving-average scores, as a validator keeps them between weight submissions.
//!
//! Rules:
//! - every query outcome updates the UID's exponential moving average:
//!   `score ← (1 − α) · score + α · reward`, with a failed or timed-out query counting as reward 0
//!   (rewards are clamped to [0, 1]; a non-finite reward counts as 0); a new UID starts at 0;
//! - when the hotkey behind a UID changes (deregistration and re-registration), the UID's entry
//!   is reset before the outcome is recorded;
//! - after `max_failures` failed queries in a row (3 by default) the UID's *weight score* is 0
//!   until it answers again (its moving average is kept, so a brief outage costs little).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// Default moving-average factor.
pub const DEFAULT_ALPHA: f64 = 0.1;
/// Default number of failed queries in a row after which a UID gets weight 0.
pub const DEFAULT_MAX_FAILURES: u32 = 3;

/// Invalid score-keeper settings or state.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScoreError {
    /// `alpha` must be in (0, 1].
    #[error("moving-average alpha must be in (0, 1], got {0}")]
    BadAlpha(f64),
    /// `max_failures` must be at least 1.
    #[error("max failures in a row must be at least 1")]
    BadMaxFailures,
    /// A stored score is not in [0, 1].
    #[error("stored score of UID {uid} is {score}, not in [0, 1]")]
    BadScore {
        /// The UID.
        uid: u16,
        /// Its score.
        score: f64,
    },
}

/// What the validator knows about one UID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UidScore {
    /// SS58 hotkey the scores belong to.
    pub hotkey: String,
    /// Moving average of rewards, in [0, 1].
    pub score: f64,
    /// Failed queries since the last answer.
    pub consecutive_failures: u32,
    /// Answered queries in total.
    pub answered: u64,
    /// Failed queries in total.
    pub failed: u64,
    /// The reward of the latest answered query.
    pub last_reward: Option<f64>,
}

impl UidScore {
    fn new(hotkey: &str) -> Self {
        UidScore {
            hotkey: hotkey.to_string(),
            score: 0.0,
            consecutive_failures: 0,
            answered: 0,
            failed: 0,
            last_reward: None,
        }
    }
}

/// The result of querying one UID once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The miner answered; its response earned this reward.
    Answered(f64),
    /// The query failed (unreachable, timeout, error status, unparseable answer).
    Failed,
}

/// Moving-average scores per UID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreKeeper {
    alpha: f64,
    max_failures: u32,
    uids: BTreeMap<u16, UidScore>,
}

impl Default for ScoreKeeper {
    fn default() -> Self {
        ScoreKeeper {
            alpha: DEFAULT_ALPHA,
            max_failures: DEFAULT_MAX_FAILURES,
            uids: BTreeMap::new(),
        }
    }
}

impl ScoreKeeper {
    /// A keeper with moving-average factor `alpha` and the failure threshold `max_failures`.
    pub fn new(alpha: f64, max_failures: u32) -> Result<Self, ScoreError> {
        let k = ScoreKeeper {
            alpha,
            max_failures,
            uids: BTreeMap::new(),
        };
        k.validate()?;
        Ok(k)
    }

    /// Checks settings and stored values (used after loading state from disk).
    pub fn validate(&self) -> Result<(), ScoreError> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(ScoreError::BadAlpha(self.alpha));
        }
        if self.max_failures == 0 {
            return Err(ScoreError::BadMaxFailures);
        }
        for (uid, s) in &self.uids {
            if !(0.0..=1.0).contains(&s.score) {
                return Err(ScoreError::BadScore {
                    uid: *uid,
                    score: s.score,
                });
            }
        }
        Ok(())
    }

    /// The moving-average factor.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The failure threshold.
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// Aligns with the metagraph: `hotkeys[uid]` is the hotkey now at `uid`. Entries whose
    /// hotkey changed are reset, entries for UIDs that no longer exist are dropped. Returns the
    /// UIDs that were reset or dropped.
    pub fn sync_hotkeys<S: AsRef<str>>(&mut self, hotkeys: &[S]) -> Vec<u16> {
        let mut changed = Vec::new();
        self.uids.retain(|uid, s| {
            let keep = hotkeys
                .get(usize::from(*uid))
                .is_some_and(|h| h.as_ref() == s.hotkey);
            if !keep {
                changed.push(*uid);
            }
            keep
        });
        changed
    }

    fn entry(&mut self, uid: u16, hotkey: &str) -> &mut UidScore {
        let e = self
            .uids
            .entry(uid)
            .or_insert_with(|| UidScore::new(hotkey));
        if e.hotkey != hotkey {
            *e = UidScore::new(hotkey);
        }
        e
    }

    /// Records one query outcome for `uid`, currently held by `hotkey`.
    pub fn record(&mut self, uid: u16, hotkey: &str, outcome: Outcome) {
        let alpha = self.alpha;
        let e = self.entry(uid, hotkey);
        match outcome {
            Outcome::Answered(reward) => {
                let r = if reward.is_finite() {
                    reward.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                e.score = ((1.0 - alpha) * e.score + alpha * r).clamp(0.0, 1.0);
                e.consecutive_failures = 0;
                e.answered += 1;
                e.last_reward = Some(r);
            }
            Outcome::Failed => {
                e.score = ((1.0 - alpha) * e.score).clamp(0.0, 1.0);
                e.consecutive_failures = e.consecutive_failures.saturating_add(1);
                e.failed += 1;
            }
        }
    }

    /// The entry of `uid`, if it was ever queried.
    pub fn get(&self, uid: u16) -> Option<&UidScore> {
        self.uids.get(&uid)
    }

    /// All entries, by UID.
    pub fn entries(&self) -> impl Iterator<Item = (u16, &UidScore)> {
        self.uids.iter().map(|(u, s)| (*u, s))
    }

    /// The moving average of `uid` (0 if never queried).
    pub fn score(&self, uid: u16) -> f64 {
        self.uids.get(&uid).map_or(0.0, |s| s.score)
    }

    /// Whether `uid` failed `max_failures` or more queries in a row.
    pub fn is_failing(&self, uid: u16) -> bool {
        self.uids
            .get(&uid)
            .is_some_and(|s| s.consecutive_failures >= self.max_failures)
    }

    /// Scores to turn into weights, indexed by UID, length `n`: the moving average, or 0 for a
    /// failing UID.
    pub fn weight_scores(&self, n: u16) -> Vec<f64> {
        (0..n)
            .map(|uid| {
                if self.is_failing(uid) {
                    0.0
                } else {
                    self.score(uid)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn moving_average_from_zero() {
        let mut k = ScoreKeeper::default();
        k.record(0, "a", Outcome::Answered(1.0));
        assert!((k.score(0) - 0.1).abs() < 1e-12);
        k.record(0, "a", Outcome::Answered(0.5));
        // 0.9 * 0.1 + 0.1 * 0.5 = 0.14
        assert!((k.score(0) - 0.14).abs() < 1e-12);
        k.record(0, "a", Outcome::Failed);
        assert!((k.score(0) - 0.126).abs() < 1e-12);
        assert_eq!(k.get(0).unwrap().answered, 2);
        assert_eq!(k.get(0).unwrap().failed, 1);
    }

    #[test]
    fn rewards_are_clamped() {
        let mut k = ScoreKeeper::new(1.0, 3).unwrap();
        k.record(0, "a", Outcome::Answered(7.0));
        assert_eq!(k.score(0), 1.0);
        k.record(0, "a", Outcome::Answered(f64::NAN));
        assert_eq!(k.score(0), 0.0);
        k.record(0, "a", Outcome::Answered(-1.0));
        assert_eq!(k.score(0), 0.0);
    }

    #[test]
    fn hotkey_change_resets() {
        let mut k = ScoreKeeper::new(0.5, 3).unwrap();
        k.record(1, "old", Outcome::Answered(1.0));
        assert_eq!(k.score(1), 0.5);
        k.record(1, "new", Outcome::Answered(1.0));
        assert_eq!(k.score(1), 0.5);
        assert_eq!(k.get(1).unwrap().answered, 1);
        assert_eq!(k.get(1).unwrap().hotkey, "new");
    }

    #[test]
    fn sync_drops_changed_and_vanished_uids() {
        let mut k = ScoreKeeper::default();
        for (uid, h) in [(0, "a"), (1, "b"), (2, "c")] {
            k.record(uid, h, Outcome::Answered(1.0));
        }
        let changed = k.sync_hotkeys(&["a", "B"]);
        assert_eq!(changed, vec![1, 2]);
        assert!(k.get(0).is_some());
        assert!(k.get(1).is_none());
        assert!(k.get(2).is_none());
    }

    #[test]
    fn three_failures_in_a_row_zero_the_weight_until_answer() {
        let mut k = ScoreKeeper::default();
        for _ in 0..10 {
            k.record(0, "a", Outcome::Answered(1.0));
            k.record(1, "b", Outcome::Answered(0.5));
        }
        k.record(0, "a", Outcome::Failed);
        k.record(0, "a", Outcome::Failed);
        assert!(k.weight_scores(2)[0] > 0.0, "two failures are tolerated");
        k.record(0, "a", Outcome::Failed);
        let w = k.weight_scores(3);
        assert_eq!(w[0], 0.0);
        assert!(w[1] > 0.0);
        assert_eq!(w[2], 0.0);
        assert!(k.score(0) > 0.0, "the moving average itself is kept");
        k.record(0, "a", Outcome::Answered(1.0));
        assert!(k.weight_scores(2)[0] > 0.0);
    }

    #[test]
    fn bad_settings() {
        assert_eq!(ScoreKeeper::new(0.0, 3), Err(ScoreError::BadAlpha(0.0)));
        assert!(ScoreKeeper::new(1.5, 3).is_err());
        assert!(ScoreKeeper::new(f64::NAN, 3).is_err());
        assert_eq!(ScoreKeeper::new(0.1, 0), Err(ScoreError::BadMaxFailures));
    }

    proptest! {
        #[test]
        fn scores_stay_in_unit_interval(
            alpha in 0.001f64..=1.0,
            events in proptest::collection::vec(proptest::option::of(-2.0f64..3.0), 0..60),
        ) {
            let mut k = ScoreKeeper::new(alpha, 3).unwrap();
            for e in events {
                k.record(0, "a", e.map_or(Outcome::Failed, Outcome::Answered));
                prop_assert!((0.0..=1.0).contains(&k.score(0)));
            }
            prop_assert!(k.validate().is_ok());
        }
    }
}
