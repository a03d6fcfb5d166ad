//! Validator state on disk: saved atomically after every round, restored at start-up, so a
//! restart does not reset scores.
//!
//! Format: one JSON document ([`ValidatorState`]) with a `version` field. Writes go to a
//! temporary file in the same directory, are flushed to disk, then renamed over the target, so a
//! crash leaves either the old or the new state, never a torn file.

use crate::scores::{ScoreError, ScoreKeeper};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Current state-file format version.
pub const STATE_VERSION: u32 = 1;

/// A state file could not be read or written.
#[derive(Debug, Error)]
pub enum StateError {
    /// File-system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a valid state document.
    #[error("{path}: not a validator state file ({reason}); move it away to start afresh")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Written by another format version.
    #[error("{path}: state version {found}, this build reads {STATE_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// Belongs to another subnet or hotkey.
    #[error("{path}: state of netuid {netuid} / hotkey {hotkey}, expected netuid {expected_netuid} / hotkey {expected_hotkey}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Its netuid.
        netuid: u16,
        /// Its hotkey.
        hotkey: String,
        /// Expected netuid.
        expected_netuid: u16,
        /// Expected hotkey.
        expected_hotkey: String,
    },
    /// Scores out of range.
    #[error("{path}: {source}")]
    Scores {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: ScoreError,
    },
}

/// Everything a validator must not forget across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// The subnet.
    pub netuid: u16,
    /// The validator's hotkey (SS58).
    pub hotkey: String,
    /// Rounds run so far (also seeds the next challenge).
    pub round: u64,
    /// Block of the last accepted weight submission (or commit).
    pub last_weights_block: Option<u64>,
    /// A weight commit awaiting its reveal.
    pub pending_reveal: Option<PendingReveal>,
    /// Per-UID moving averages.
    pub scores: ScoreKeeper,
}

/// A committed weight vector to reveal later (commit-reveal subnets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReveal {
    /// Block the commit was accepted in.
    pub commit_block: u64,
    /// The subnet's epoch index at commit time (reveal at `commit_epoch + reveal_period`).
    pub commit_epoch: u64,
    /// Salt used in the commit hash.
    pub salt: Vec<u16>,
    /// Committed UIDs.
    pub uids: Vec<u16>,
    /// Committed values.
    pub values: Vec<u16>,
}

impl ValidatorState {
    /// Fresh state for `hotkey` on `netuid`.
    pub fn new(netuid: u16, hotkey: impl Into<String>, scores: ScoreKeeper) -> Self {
        ValidatorState {
            version: STATE_VERSION,
            netuid,
            hotkey: hotkey.into(),
            round: 0,
            last_weights_block: None,
            pending_reveal: None,
            scores,
        }
    }

    /// Writes the state to `path` atomically (temp file, fsync, rename), creating the parent
    /// directory if needed.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io = |source| StateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state.json".to_string());
        let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
        let json = serde_json::to_vec_pretty(self).map_err(|e| StateError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Reads the state at `path`; `Ok(None)` if there is no file yet.
    pub fn load(path: &Path) -> Result<Option<Self>, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let version = value.get("version").and_then(|v| v.as_u64());
        if version != Some(u64::from(STATE_VERSION)) {
            return match version {
                Some(v) => Err(StateError::Version {
                    path: path.to_path_buf(),
                    found: u32::try_from(v).unwrap_or(u32::MAX),
                }),
                None => Err(StateError::Corrupt {
                    path: path.to_path_buf(),
                    reason: "no `version` field".to_string(),
                }),
            };
        }
        let state: ValidatorState =
            serde_json::from_value(value).map_err(|e| StateError::Corrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        state
            .scores
            .validate()
            .map_err(|source| StateError::Scores {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Some(state))
    }

    /// [`load`](Self::load), checking that the file belongs to `netuid` and `hotkey`; a missing
    /// file gives fresh state with `scores`.
    pub fn load_or_new(
        path: &Path,
        netuid: u16,
        hotkey: &str,
        scores: ScoreKeeper,
    ) -> Result<Self, StateError> {
        match Self::load(path)? {
            None => Ok(Self::new(netuid, hotkey, scores)),
            Some(s) if s.netuid == netuid && s.hotkey == hotkey => Ok(s),
            Some(s) => Err(StateError::Mismatch {
                path: path.to_path_buf(),
                netuid: s.netuid,
                hotkey: s.hotkey,
                expected_netuid: netuid,
                expected_hotkey: hotkey.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::Outcome;

    fn sample() -> ValidatorState {
        let mut k = ScoreKeeper::default();
        k.record(0, "a", Outcome::Answered(0.9));
        k.record(2, "c", Outcome::Failed);
        let mut s = ValidatorState::new(3, "vali", k);
        s.round = 17;
        s.last_weights_block = Some(120);
        s
    }

    #[test]
    fn save_then_load_roundtrips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        let s = sample();
        s.save(&path).unwrap();
        let back = ValidatorState::load(&path).unwrap().unwrap();
        assert_eq!(back, s);
        // overwrite keeps only the new content and leaves no temp file behind
        let mut s2 = s.clone();
        s2.round = 18;
        s2.save(&path).unwrap();
        assert_eq!(ValidatorState::load(&path).unwrap().unwrap().round, 18);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn missing_file_is_fresh_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.json");
        assert!(ValidatorState::load(&path).unwrap().is_none());
        let s = ValidatorState::load_or_new(&path, 1, "v", ScoreKeeper::default()).unwrap();
        assert_eq!(s.round, 0);
        assert_eq!(s.netuid, 1);
    }

    #[test]
    fn rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, b"not json").unwrap();
        assert!(matches!(
            ValidatorState::load(&path),
            Err(StateError::Corrupt { .. })
        ));
        std::fs::write(&path, br#"{"version": 99}"#).unwrap();
        assert!(matches!(
            ValidatorState::load(&path),
            Err(StateError::Version { found: 99, .. })
        ));
        let mut v = serde_json::to_value(sample()).unwrap();
        v["scores"]["uids"]["0"]["score"] = serde_json::json!(4.0);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(matches!(
            ValidatorState::load(&path),
            Err(StateError::Scores { .. })
        ));
        sample().save(&path).unwrap();
        assert!(matches!(
            ValidatorState::load_or_new(&path, 4, "vali", ScoreKeeper::default()),
            Err(StateError::Mismatch { .. })
        ));
    }
}
