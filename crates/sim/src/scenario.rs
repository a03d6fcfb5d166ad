//! Scenario files: the TOML model of a simulated subnet (format documented in `docs/simulate.md`).
//!
//! A [`Scenario`] is parsed from TOML, optionally modified with dotted-key overrides
//! ([`Scenario::from_toml_with_overrides`], used by `--set` and `--sweep`), then checked with
//! [`Scenario::validate`]. Hyperparameters use the chain's own integer encodings (spec §1.2).

use crate::SimError;
use serde::{Deserialize, Serialize};

/// Default alpha emitted to the subnet per block, in TAO (spec §5.2: at most 1 alpha per block).
pub const DEFAULT_BLOCK_EMISSION_TAO: f64 = 1.0;
/// Default subnet-owner cut, as the chain's u16 fraction (`SubnetOwnerCut`, spec §1.2).
pub const DEFAULT_OWNER_CUT: u16 = 11_796;
/// Largest number of UIDs a scenario may define.
pub const MAX_UIDS: usize = 4096;
/// Largest number of epochs a scenario may run.
pub const MAX_EPOCHS: u32 = 1_000_000;

/// A complete simulation scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (used for the default output folder).
    pub name: String,
    /// One-line description: the question the scenario answers.
    #[serde(default)]
    pub description: String,
    /// Number of epochs to run.
    pub epochs: u32,
    /// Subnet tempo in blocks; epoch `t` runs at block `(t + 1) * (tempo + 1)`.
    #[serde(default = "default_tempo")]
    pub tempo: u16,
    /// Default seed (the CLI's `--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    /// Alpha emitted to the subnet per block, in TAO, before the owner cut.
    #[serde(default = "default_block_emission")]
    pub block_emission: f64,
    /// Subnet-owner cut as a u16 fraction (`/ 65535`), removed before the epoch's emission.
    #[serde(default = "default_owner_cut")]
    pub owner_cut: u16,
    /// When true, every UID's emission is added to its stake after each epoch (the chain stakes
    /// emission to the hotkey); when false stakes stay as configured.
    #[serde(default)]
    pub compound: bool,
    /// Hyperparameters.
    #[serde(default)]
    pub hyperparameters: ScenarioHyperparameters,
    /// Miner groups (UIDs after all validators, in file order).
    #[serde(default)]
    pub miners: Vec<MinerGroup>,
    /// Validator groups (UIDs 0.., in file order).
    #[serde(default)]
    pub validators: Vec<ValidatorGroup>,
    /// A sweep run by default when the command line gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
}

/// A default sweep: run the scenario once per value of `key` and plot `metric` against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Dotted key to vary (as for `--set`).
    pub key: String,
    /// Values, in order.
    pub values: Vec<toml::Value>,
    /// Metric to plot (see `report::METRICS`); a default is chosen when absent.
    #[serde(default)]
    pub metric: Option<String>,
}

impl SweepSpec {
    /// The values as override strings (TOML syntax).
    pub fn value_strings(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

fn default_tempo() -> u16 {
    360
}
fn default_block_emission() -> f64 {
    DEFAULT_BLOCK_EMISSION_TAO
}
fn default_owner_cut() -> u16 {
    DEFAULT_OWNER_CUT
}

/// Hyperparameters of the simulated subnet (defaults: a new subnet, spec §1.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScenarioHyperparameters {
    /// Consensus majority, `/ 65535`.
    pub kappa: u16,
    /// Bonds moving average, parts per million.
    pub bonds_moving_average: u64,
    /// Bonds penalty, `/ 65535`.
    pub bonds_penalty: u16,
    /// Yuma 3 (true) or Yuma 2 (false) bonds and dividends.
    pub yuma3: bool,
    /// Liquid alpha (only has an effect with Yuma 3).
    pub liquid_alpha: bool,
    /// Liquid alpha lower bound, `/ 65535`.
    pub alpha_low: u16,
    /// Liquid alpha upper bound, `/ 65535`.
    pub alpha_high: u16,
    /// Liquid alpha sigmoid steepness.
    pub alpha_sigmoid_steepness: i16,
    /// Number of validator permits (top-k by stake).
    pub max_validators: u16,
    /// Stake threshold in rao.
    pub stake_threshold: u64,
    /// Activity cutoff, per mille of a tempo (`ActivityCutoffFactorMilli`).
    pub activity_cutoff_factor_milli: u32,
    /// Commit-reveal delay in epochs: weights committed before epoch `t` are revealed (and used)
    /// at epoch `t + delay`. 0 means commit-reveal off.
    pub commit_reveal_delay: u32,
}

impl Default for ScenarioHyperparameters {
    fn default() -> Self {
        Self {
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            yuma3: true,
            liquid_alpha: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1000,
            max_validators: 64,
            stake_threshold: 0,
            activity_cutoff_factor_milli: 13_889,
            commit_reveal_delay: 0,
        }
    }
}

/// A miner's true quality: one value for the whole group, or a `[low, high]` range spread evenly
/// over the group's miners (first miner `low`, last miner `high`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Quality {
    /// Same quality for every miner of the group.
    Fixed(f64),
    /// Evenly spread from the first to the second value.
    Range([f64; 2]),
}

/// A group of identical miners.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinerGroup {
    /// Number of miners.
    #[serde(default = "one")]
    pub count: u32,
    /// True quality in `[0, 1]` at the start.
    pub quality: Quality,
    /// Standard deviation of the per-epoch random walk of the quality (0 = fixed). The walk is
    /// reflected at 0 and 1.
    #[serde(default)]
    pub drift: f64,
    /// Epoch at which these miners register. Before it their UIDs hold idle miners of quality 0;
    /// registering resets the slot as the chain does (weights to it zeroed, bonds masked).
    #[serde(default)]
    pub appears_at: u32,
    /// Miners owned by the cabal (the targets of `cabal` validators).
    #[serde(default)]
    pub cabal: bool,
}

fn one() -> u32 {
    1
}

/// How a validator sets weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Behaviour {
    /// Weights = true quality + Gaussian noise (`noise`).
    Honest,
    /// Copies the latest consensus the chain published (the previous epoch's).
    Copier,
    /// Gives all weight, equally, to the cabal's miners.
    Cabal,
    /// Uniform (`lazy = "uniform"`) or fresh random (`lazy = "random"`) weights.
    Lazy,
    /// Honest, but registers at epoch `joins_at`.
    Late,
}

impl Behaviour {
    /// The lowercase name used in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::Honest => "honest",
            Behaviour::Copier => "copier",
            Behaviour::Cabal => "cabal",
            Behaviour::Lazy => "lazy",
            Behaviour::Late => "late",
        }
    }
}

/// Weights of a `lazy` validator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LazyMode {
    /// The same weight on every miner.
    #[default]
    Uniform,
    /// Independent uniform random weights, drawn again every epoch.
    Random,
}

/// A group of identical validators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorGroup {
    /// Number of validators.
    #[serde(default = "one")]
    pub count: u32,
    /// Stake of each validator, in TAO.
    pub stake: f64,
    /// Behaviour.
    pub behaviour: Behaviour,
    /// Standard deviation of the Gaussian noise an honest (or late) validator adds to quality.
    #[serde(default)]
    pub noise: f64,
    /// Epoch at which these validators register (required, and > 0, for `late`).
    #[serde(default)]
    pub joins_at: u32,
    /// Weights of a `lazy` validator.
    #[serde(default)]
    pub lazy: LazyMode,
}

fn bad(msg: impl Into<String>) -> SimError {
    SimError::Scenario(msg.into())
}

impl Scenario {
    /// Parses and validates a scenario from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, SimError> {
        Self::from_toml_with_overrides(text, &[])
    }

    /// Parses TOML, applies `key = value` overrides (dotted keys, array indices as numbers, e.g.
    /// `hyperparameters.kappa`, `validators.1.stake`), then deserializes and validates.
    pub fn from_toml_with_overrides(
        text: &str,
        overrides: &[(String, String)],
    ) -> Result<Self, SimError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|r| text[..r.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            match line {
                Some(l) => bad(format!("TOML syntax error at line {l}: {msg}")),
                None => bad(format!("TOML syntax error: {msg}")),
            }
        })?;
        for (key, value) in overrides {
            set_dotted(&mut table, key, parse_value(value))?;
        }
        let scenario: Scenario = table.try_into().map_err(|e: toml::de::Error| {
            bad(e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "))
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario as TOML text (e.g. to start a new file from a built-in one).
    pub fn to_toml(&self) -> Result<String, SimError> {
        toml::to_string(self).map_err(|e| bad(e.to_string()))
    }

    /// Number of validators.
    pub fn validator_count(&self) -> usize {
        self.validators.iter().map(|g| g.count as usize).sum()
    }

    /// Number of miners.
    pub fn miner_count(&self) -> usize {
        self.miners.iter().map(|g| g.count as usize).sum()
    }

    /// Checks ranges and consistency; every error names the offending field.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(bad(format!("`epochs` must be in 1..={MAX_EPOCHS}")));
        }
        if self.tempo < 2 {
            return Err(bad("`tempo` must be at least 2 blocks"));
        }
        if !(self.block_emission.is_finite() && (0.0..=1e6).contains(&self.block_emission)) {
            return Err(bad("`block_emission` must be between 0 and 1e6 TAO"));
        }
        if self.validators.is_empty() || self.validator_count() == 0 {
            return Err(bad(
                "a scenario needs at least one validator ([[validators]])",
            ));
        }
        if self.miners.is_empty() || self.miner_count() == 0 {
            return Err(bad("a scenario needs at least one miner ([[miners]])"));
        }
        let n = self.validator_count() + self.miner_count();
        if n > MAX_UIDS {
            return Err(bad(format!(
                "{n} UIDs defined; at most {MAX_UIDS} are allowed"
            )));
        }
        let h = &self.hyperparameters;
        if h.alpha_low > h.alpha_high {
            return Err(bad(
                "`hyperparameters.alpha_low` must not exceed `alpha_high`",
            ));
        }
        if h.commit_reveal_delay > 100 {
            return Err(bad(
                "`hyperparameters.commit_reveal_delay` must be at most 100 epochs",
            ));
        }
        if h.max_validators == 0 {
            return Err(bad("`hyperparameters.max_validators` must be at least 1"));
        }
        for (k, g) in self.miners.iter().enumerate() {
            let qs = match g.quality {
                Quality::Fixed(q) => vec![q],
                Quality::Range([a, b]) => vec![a, b],
            };
            if qs
                .iter()
                .any(|q| !(q.is_finite() && (0.0..=1.0).contains(q)))
            {
                return Err(bad(format!("`miners.{k}.quality` must be within [0, 1]")));
            }
            if !(g.drift.is_finite() && (0.0..=1.0).contains(&g.drift)) {
                return Err(bad(format!("`miners.{k}.drift` must be within [0, 1]")));
            }
            if g.appears_at >= self.epochs && g.appears_at > 0 {
                return Err(bad(format!(
                    "`miners.{k}.appears_at` must be below `epochs`"
                )));
            }
        }
        let has_cabal_miner = self.miners.iter().any(|g| g.cabal && g.count > 0);
        for (k, g) in self.validators.iter().enumerate() {
            if !(g.stake.is_finite() && g.stake >= 0.0 && g.stake <= 1e12) {
                return Err(bad(format!(
                    "`validators.{k}.stake` must be between 0 and 1e12 TAO"
                )));
            }
            if !(g.noise.is_finite() && (0.0..=10.0).contains(&g.noise)) {
                return Err(bad(format!(
                    "`validators.{k}.noise` must be within [0, 10]"
                )));
            }
            if g.behaviour == Behaviour::Late && g.joins_at == 0 {
                return Err(bad(format!(
                    "`validators.{k}` is `late`: set `joins_at` to the epoch it joins (> 0)"
                )));
            }
            if g.joins_at > 0 && g.joins_at >= self.epochs {
                return Err(bad(format!(
                    "`validators.{k}.joins_at` must be below `epochs`"
                )));
            }
            if g.behaviour == Behaviour::Cabal && !has_cabal_miner {
                return Err(bad(format!(
                    "`validators.{k}` is `cabal` but no miner group has `cabal = true`"
                )));
            }
        }
        Ok(())
    }
}

/// Interprets an override value: TOML syntax when it parses (numbers, booleans, arrays, quoted
/// strings), otherwise a bare string (so `behaviour=copier` works).
pub fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

/// Sets `value` at a dotted `key` in `table` (numeric parts index arrays); intermediate tables are
/// created when missing.
pub fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), SimError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad(format!(
            "invalid key `{key}`: use dotted names like hyperparameters.kappa"
        )));
    }
    let (last, path) = parts.split_last().ok_or_else(|| bad("empty key"))?;
    let mut cur: &mut toml::Value = table
        .entry(path.first().copied().unwrap_or(last).to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if path.is_empty() {
        *cur = value;
        return Ok(());
    }
    for part in &path[1..] {
        cur = step(cur, part, key)?;
    }
    match cur {
        toml::Value::Table(t) => {
            t.insert(last.to_string(), value);
            Ok(())
        }
        toml::Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| bad(format!("`{key}`: `{last}` is not an array index")))?;
            let len = a.len();
            let slot = a
                .get_mut(i)
                .ok_or_else(|| bad(format!("`{key}`: index {i} out of range (length {len})")))?;
            *slot = value;
            Ok(())
        }
        _ => Err(bad(format!("`{key}`: not a table or array"))),
    }
}

fn step<'a>(
    cur: &'a mut toml::Value,
    part: &str,
    key: &str,
) -> Result<&'a mut toml::Value, SimError> {
    match cur {
        toml::Value::Table(t) => Ok(t
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))),
        toml::Value::Array(a) => {
            let i: usize = part
                .parse()
                .map_err(|_| bad(format!("`{key}`: `{part}` is not an array index")))?;
            let len = a.len();
            a.get_mut(i)
                .ok_or_else(|| bad(format!("`{key}`: index {i} out of range (length {len})")))
        }
        _ => Err(bad(format!(
            "`{key}`: `{part}` is inside a value that is not a table"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
epochs = 3
[[miners]]
count = 2
quality = [0.2, 0.8]
[[validators]]
stake = 100
behaviour = "honest"
noise = 0.01
"#;

    #[test]
    fn minimal_scenario_gets_new_subnet_defaults() {
        let s = Scenario::from_toml(MINIMAL).unwrap();
        assert_eq!(s.tempo, 360);
        assert_eq!(s.hyperparameters.kappa, 32_767);
        assert_eq!(s.hyperparameters.max_validators, 64);
        assert!(s.hyperparameters.yuma3);
        assert_eq!(s.miner_count(), 2);
        assert_eq!(s.validator_count(), 1);
    }

    #[test]
    fn overrides_reach_nested_and_array_keys() {
        let o = vec![
            (
                "hyperparameters.commit_reveal_delay".to_string(),
                "2".to_string(),
            ),
            ("validators.0.behaviour".to_string(), "copier".to_string()),
            ("epochs".to_string(), "9".to_string()),
        ];
        let s = Scenario::from_toml_with_overrides(MINIMAL, &o).unwrap();
        assert_eq!(s.hyperparameters.commit_reveal_delay, 2);
        assert_eq!(s.validators[0].behaviour, Behaviour::Copier);
        assert_eq!(s.epochs, 9);
    }

    #[test]
    fn bad_inputs_give_named_errors() {
        let e = Scenario::from_toml(&MINIMAL.replace("0.8]", "1.8]")).unwrap_err();
        assert!(e.to_string().contains("miners.0.quality"), "{e}");
        let e = Scenario::from_toml(&MINIMAL.replace("\"honest\"", "\"late\"")).unwrap_err();
        assert!(e.to_string().contains("joins_at"), "{e}");
        let e = Scenario::from_toml(&MINIMAL.replace("\"honest\"", "\"cabal\"")).unwrap_err();
        assert!(e.to_string().contains("cabal"), "{e}");
        let e = Scenario::from_toml("name = 1").unwrap_err();
        assert!(matches!(e, SimError::Scenario(_)));
        let e = Scenario::from_toml("name = \"x\"\nepochs = = 3\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = Scenario::from_toml(&MINIMAL.replace("\"honest\"", "\"evil\"")).unwrap_err();
        assert!(
            !e.to_string().contains('\n') && e.to_string().contains("evil"),
            "{e}"
        );
        let e = Scenario::from_toml(&format!("{MINIMAL}\nbogus = 1")).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let o = vec![("validators.5.stake".to_string(), "1".to_string())];
        let e = Scenario::from_toml_with_overrides(MINIMAL, &o).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
