//! # tensornet-yuma
//!
//! The Yuma Consensus epoch (spec: `../shared/spec/yuma.md` §2–§4), as one pure function from
//! explicit [`EpochInputs`] to explicit [`EpochOutputs`].
//!
//! Invariants: fixed-point integer math only (the `substrate-fixed` types the reference chain
//! uses, same rounding); no floats, no I/O, no clock, no randomness, no hash-map iteration
//! order; sparse matrices throughout. Same inputs give the same outputs bit for bit.

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
    /// Not implemented yet.
    #[error("the epoch is not implemented yet")]
    Unimplemented,
}

/// Runs one epoch.
pub fn epoch(_inputs: &EpochInputs) -> Result<EpochOutputs, EpochError> {
    Err(EpochError::Unimplemented)
}
