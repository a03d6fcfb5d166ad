//! Built-in scenarios, embedded in the binary (their sources are `examples/scenarios/*.toml`).

/// A built-in scenario: name, one-line question, TOML text.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Name used with `--builtin`.
    pub name: &'static str,
    /// The question it answers.
    pub description: &'static str,
    /// Scenario TOML.
    pub toml: &'static str,
}

macro_rules! builtin {
    ($name:literal, $desc:literal) => {
        Builtin {
            name: $name,
            description: $desc,
            toml: include_str!(concat!("../../../examples/scenarios/", $name, ".toml")),
        }
    };
}

/// All built-in scenarios, in the order `--list` shows them.
pub const BUILTINS: &[Builtin] = &[
    builtin!(
        "honest-baseline",
        "With only honest validators, does incentive follow true quality and do dividends follow stake?"
    ),
    builtin!(
        "weight-copier",
        "Does copying the last published consensus pay as well as validating, when miner quality drifts?"
    ),
    builtin!(
        "weight-copier-commit-reveal",
        "Same as weight-copier with a 2-epoch commit-reveal delay: does hiding weights make copying unprofitable?"
    ),
    builtin!(
        "cabal-30pct",
        "Can a cabal with 30% of the stake (below kappa) push its own miners' pay above what honest consensus gives them?"
    ),
    builtin!(
        "cabal-60pct",
        "What happens when a cabal holds 60% of the stake, above kappa: does it capture the consensus?"
    ),
    builtin!(
        "new-strong-miner",
        "How many epochs does a new miner that is better than everyone need before it is paid as the best?"
    ),
    builtin!(
        "yuma2-vs-yuma3",
        "How do Yuma 2 and Yuma 3 bonds pay a validator who joins late, next to honest validators and a copier?"
    ),
    builtin!(
        "perf-256",
        "Benchmark: 1,000 epochs of a full 256-UID subnet with 64 honest validators and drifting miners."
    ),
];

/// Finds a built-in scenario by name.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    #[test]
    fn every_builtin_parses_and_is_named_like_its_file() {
        for b in BUILTINS {
            let s = Scenario::from_toml(b.toml).unwrap_or_else(|e| panic!("{}: {e}", b.name));
            assert_eq!(s.name, b.name);
            assert_eq!(s.description, b.description, "{}", b.name);
        }
        assert!(find("weight-copier").is_some());
        assert!(find("nope").is_none());
    }

    #[test]
    fn copier_pair_differs_only_in_commit_reveal_delay() {
        let a = Scenario::from_toml(find("weight-copier").unwrap().toml).unwrap();
        let mut b = Scenario::from_toml(find("weight-copier-commit-reveal").unwrap().toml).unwrap();
        assert_eq!(a.hyperparameters.commit_reveal_delay, 0);
        assert_eq!(b.hyperparameters.commit_reveal_delay, 2);
        assert!(a.miners.iter().all(|m| m.drift > 0.0));
        b.hyperparameters.commit_reveal_delay = 0;
        b.name = a.name.clone();
        b.description = a.description.clone();
        assert_eq!(a, b);
    }
}
