//! # tensornet-yuma
//!
//! The Yuma Consensus epoch (spec: `../shared/spec/yuma.md` §2–§4), as one pure function from
//! explicit [`EpochInputs`] to explicit [`EpochOutputs`].
//!
//! Invariants: fixed-point integer math only (the `substrate-fixed` types the reference chain
//! uses, same rounding); no floats, no I/O, no clock, no randomness, no hash-map iteration
//! order; sparse matrices throughout. Same inputs give the same outputs bit for bit.
//!
//! Modules: `epoch` (the steps of spec §2, each citing its section), [`fixed`] (the
//! fixed-point primitives of spec §3.2–§3.4, with bit-identical fast paths tested against
//! `substrate-fixed`), `sparse` (compressed rows and the sparse helpers of spec §3.3).
//!
//! Conformance: all 39 cases of `tests/vectors/yuma/` pass exactly, legacy outputs included
//! (`tests/conformance.rs`). Subnets up to 65535 UIDs are accepted (`n` is a `u16`); 4096 is
//! tested to give the same results as the reference's cases padded with idle UIDs. Differences
//! from the reference exist only where the reference would overflow or panic (e.g. stakes
//! summing past 2^63 rao, which are normalised exactly here); the commit-reveal mask (§2.6) is
//! not modelled because the inputs carry no pending commits.

mod epoch;
pub mod fixed;
mod sparse;
mod types;

pub use types::{EpochInputs, EpochOutputs, Hyperparameters, LegacyOutputs, SparseRow};

/// Why an epoch could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpochError {
    /// A per-UID vector does not have `n` elements.
    #[error("field `{field}` has {got} elements, expected n = {expected}")]
    Length {
        /// The offending field.
        field: &'static str,
        /// Its length.
        got: usize,
        /// `n`.
        expected: usize,
    },
}

/// Runs one epoch (spec §2, sparse path) and returns everything it writes back.
///
/// Fails only when a per-UID vector's length differs from `n`. Anything else is accepted
/// without panicking: weight or bond entries pointing at UIDs `>= n` are ignored, rows may be
/// longer than `n` or unsorted, stakes may be `u64::MAX`.
pub fn epoch(inputs: &EpochInputs) -> Result<EpochOutputs, EpochError> {
    let n = usize::from(inputs.n);
    let lengths: [(&'static str, usize); 6] = [
        ("stake", inputs.stake.len()),
        ("last_update", inputs.last_update.len()),
        ("block_at_registration", inputs.block_at_registration.len()),
        ("validator_permit", inputs.validator_permit.len()),
        ("weights", inputs.weights.len()),
        ("bonds", inputs.bonds.len()),
    ];
    for (field, got) in lengths {
        if got != n {
            return Err(EpochError::Length {
                field,
                got,
                expected: n,
            });
        }
    }
    Ok(epoch::run(inputs))
}
