//! # tensornet-runtime
//!
//! The chain's deterministic state machine (spec: `../shared/spec/yuma.md` §1.2 and §5).
