//! # tensornet-sim
//!
//! Incentive-mechanism simulator. It owns the scenario model ([`Scenario`], TOML), the scripted
//! validator behaviours (honest, copier, cabal, lazy, late), the run loop that emulates the chain
//! around the epoch ([`engine`]), the reports (`epochs.csv`, [`Summary`]) and the plots.
//!
//! Invariants:
//! * the epoch is never re-implemented: every epoch is one call of [`tensornet_yuma::epoch`]
//!   (spec `../shared/spec/yuma.md` §2–§4) on inputs built like the chain's storage (§1, §3.6
//!   weight upscaling, §5.1 scheduling, §5.2 emission), with bonds and permits carried from the
//!   previous epoch's outputs;
//! * determinism: all randomness comes from [`rng::Rng`] streams derived from the seed, and no
//!   hash-map iteration order reaches the output, so a scenario and a seed give byte-identical
//!   CSV and summary;
//! * no I/O except in [`write_outputs`] and [`plot`].

pub mod builtin;
pub mod engine;
pub mod plot;
pub mod report;
pub mod rng;
pub mod scenario;

pub use engine::{run, run_observed, EpochRecord, Participant, Role, SimResult};
pub use report::{summarize, write_csv, Summary};
pub use scenario::{Behaviour, Scenario};

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a simulation could not run or be written.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario is invalid.
    #[error("invalid scenario: {0}")]
    Scenario(String),
    /// The epoch refused its inputs.
    #[error("epoch {epoch} failed: {source}")]
    Epoch {
        /// Simulated epoch index.
        epoch: u32,
        /// The epoch's error.
        source: tensornet_yuma::EpochError,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("plot failed: {0}")]
    Plot(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `epochs.csv`, `summary.json` and (when `plots`) the plot files into `dir`, creating it
/// when missing. Returns the summary and the files written.
pub fn write_outputs(
    result: &SimResult,
    dir: &Path,
    plots: bool,
) -> Result<(Summary, Vec<PathBuf>), SimError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let csv = dir.join("epochs.csv");
    {
        let f = std::fs::File::create(&csv).map_err(io_err(&csv))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write_csv(result, &mut w).map_err(io_err(&csv))?;
        w.flush().map_err(io_err(&csv))?;
    }
    let summary = summarize(result);
    let json = dir.join("summary.json");
    let text = serde_json::to_string_pretty(&summary).map_err(|e| SimError::Io {
        path: json.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&json, text + "\n").map_err(io_err(&json))?;
    let mut files = vec![csv, json];
    if plots {
        files.extend(plot::plot_run(result, dir)?);
    }
    Ok((summary, files))
}
