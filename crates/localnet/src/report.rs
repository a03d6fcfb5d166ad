//! What a network's epochs are reported as: one [`Row`] per UID (stake, the validators'
//! measured accuracy, consensus, incentive, dividends, emission, total earned), the [`Ledger`]
//! of the counted epochs (minted = distributed + owner cut + burned), and the final
//! [`Summary`] with its JSON form (the `tensornet localnet --json` document).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use tensornet_client::api::EpochNotice;
use tensornet_subnet::ValidatorState;

/// One UID of the live table / summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// UID.
    pub uid: u16,
    /// Neuron name with its model preset (`miner2 (mid)`), `?` for a UID not started here.
    pub name: String,
    /// Whether it is one of this network's validators.
    pub validator: bool,
    /// Stake on its hotkey, rao.
    pub stake: u64,
    /// Miners: the validators' mean measured score ([`measured`]); validators: `None`.
    pub accuracy: Option<f64>,
    /// Consensus in [0, 1].
    pub consensus: f64,
    /// Incentive in [0, 1].
    pub incentive: f64,
    /// Dividends in [0, 1].
    pub dividends: f64,
    /// Last epoch's emission, rao.
    pub emission: u64,
    /// Earned over the counted epochs, rao.
    pub earned: u128,
}

/// The validators' mean bias-corrected moving average for `uid` (their measured accuracy);
/// 0 if no validator has measured this hotkey on this UID.
pub fn measured(states: &[ValidatorState], uid: u16, hotkey: &str) -> f64 {
    let mut vals = Vec::new();
    for s in states {
        if let Some(e) = s.scores.get(uid) {
            if e.hotkey == hotkey && e.answered > 0 {
                // Failures before the first answer leave the average at 0, so correcting
                // for the answered steps only gives the mean reward of the answers.
                let steps = i32::try_from(e.answered).unwrap_or(i32::MAX);
                let norm = 1.0 - (1.0 - s.scores.alpha()).powi(steps);
                if norm > 0.0 {
                    vals.push((e.score / norm).clamp(0.0, 1.0));
                }
            }
        }
    }
    if vals.is_empty() {
        0.0
    } else {
        vals.iter().sum::<f64>() / vals.len() as f64
    }
}

/// The counted epochs' books: counting starts at the first epoch that paid a miner (the first
/// that used validator weights).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    /// Epochs counted.
    pub counted: u64,
    /// Rao minted by the counted epochs (their emission plus the owner cut).
    pub minted: u128,
    /// Owner cut, rao.
    pub owner_cut: u128,
    /// Burned, rao.
    pub burned: u128,
    /// Earned per UID (miner plus validator emission), rao.
    pub earned: BTreeMap<u16, u128>,
    /// Block and seconds after start of the first counted epoch.
    pub first_weighted: Option<(u64, f64)>,
}

impl Ledger {
    /// Adds a counted epoch.
    pub fn record(&mut self, notice: &EpochNotice) {
        self.counted += 1;
        // `rao_emission` excludes the owner cut: together they are what the epoch minted.
        self.minted += u128::from(notice.rao_emission) + u128::from(notice.owner_cut);
        self.owner_cut += u128::from(notice.owner_cut);
        self.burned += u128::from(notice.burned);
        for e in &notice.emission {
            *self.earned.entry(e.uid).or_default() +=
                u128::from(e.server) + u128::from(e.validator);
        }
    }

    /// Rao paid to the neurons.
    pub fn distributed(&self) -> u128 {
        self.earned.values().sum()
    }

    /// Whether minted = distributed + owner cut + burned.
    pub fn balanced(&self) -> bool {
        self.minted == self.distributed() + self.owner_cut + self.burned
    }
}

/// The final summary of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The books of the counted epochs.
    pub ledger: Ledger,
    /// The last table.
    pub rows: Vec<Row>,
}

fn num(x: u128) -> Value {
    Value::from(u64::try_from(x).unwrap_or(u64::MAX))
}

impl Summary {
    /// The `tensornet localnet --json` document: `{"epochs", "neurons": [{"uid", "role",
    /// "stake", "accuracy", "incentive", "dividends", "emission", "earned"}], "minted",
    /// "owner_cut", "burned"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "epochs": self.ledger.counted,
            "neurons": self.rows.iter().map(|r| json!({
                "uid": r.uid,
                "role": if r.validator { "validator" } else { "miner" },
                "stake": r.stake,
                "accuracy": r.accuracy,
                "incentive": r.incentive,
                "dividends": r.dividends,
                "emission": r.emission,
                "earned": num(r.earned),
            })).collect::<Vec<_>>(),
            "minted": num(self.ledger.minted),
            "owner_cut": num(self.ledger.owner_cut),
            "burned": num(self.ledger.burned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensornet_runtime::UidEmission;
    use tensornet_subnet::{Outcome, ScoreKeeper};

    fn state(rewards: &[Option<f64>]) -> ValidatorState {
        let mut k = ScoreKeeper::new(0.1, 3).unwrap();
        for r in rewards {
            let o = match r {
                Some(x) => Outcome::Answered(*x),
                None => Outcome::Failed,
            };
            k.record(2, "hk", o);
        }
        ValidatorState::new(1, "vali", k)
    }

    #[test]
    fn measured_accuracy_is_the_bias_corrected_mean_of_answers() {
        // Failures before the first answer (miner not yet reachable) do not bias the mean.
        let s = state(&[None, None, Some(0.9), Some(0.9), Some(0.9)]);
        assert!((measured(&[s], 2, "hk") - 0.9).abs() < 1e-12);
        // Two validators: the mean of their measurements.
        let a = state(&[Some(0.8); 4]);
        let b = state(&[Some(0.6); 7]);
        assert!((measured(&[a, b], 2, "hk") - 0.7).abs() < 1e-12);
    }

    #[test]
    fn measured_accuracy_ignores_other_hotkeys_and_unmeasured_uids() {
        let s = state(&[Some(0.9)]);
        assert_eq!(measured(std::slice::from_ref(&s), 2, "other"), 0.0);
        assert_eq!(measured(std::slice::from_ref(&s), 3, "hk"), 0.0);
        assert_eq!(measured(&[], 2, "hk"), 0.0);
    }

    fn notice(emission: u64, owner_cut: u64, burned: u64, paid: &[(u16, u64, u64)]) -> EpochNotice {
        EpochNotice {
            netuid: 1,
            block_number: 20,
            block_hash: Default::default(),
            epoch_index: 1,
            rao_emission: emission,
            owner_cut,
            burned,
            emission: paid
                .iter()
                .map(|&(uid, server, validator)| UidEmission {
                    uid,
                    hotkey: Default::default(),
                    server,
                    validator,
                })
                .collect(),
        }
    }

    #[test]
    fn the_ledger_adds_up_epochs_and_checks_the_balance() {
        let mut l = Ledger::default();
        l.record(&notice(100, 20, 10, &[(0, 0, 50), (1, 40, 0)]));
        l.record(&notice(100, 20, 0, &[(0, 0, 60), (1, 40, 0)]));
        assert_eq!(l.counted, 2);
        assert_eq!((l.minted, l.owner_cut, l.burned), (240, 40, 10));
        assert_eq!(l.earned[&0], 110);
        assert_eq!(l.distributed(), 190);
        assert!(l.balanced());
        l.burned += 1;
        assert!(!l.balanced());
    }

    #[test]
    fn the_summary_json_has_the_documented_fields() {
        let mut ledger = Ledger::default();
        ledger.record(&notice(100, 20, 0, &[(0, 0, 100)]));
        let s = Summary {
            ledger,
            rows: vec![Row {
                uid: 0,
                name: "owner".into(),
                validator: true,
                stake: 5,
                accuracy: None,
                consensus: 0.0,
                incentive: 0.0,
                dividends: 1.0,
                emission: 100,
                earned: 100,
            }],
        };
        let j = s.to_json();
        assert_eq!(j["epochs"], 1);
        assert_eq!(j["minted"], 120);
        assert_eq!(j["owner_cut"], 20);
        assert_eq!(j["burned"], 0);
        assert_eq!(j["neurons"][0]["role"], "validator");
        assert!(j["neurons"][0]["accuracy"].is_null());
        assert_eq!(j["neurons"][0]["earned"], 100);
        assert_eq!(j["neurons"][0]["dividends"], 1.0);
    }
}
