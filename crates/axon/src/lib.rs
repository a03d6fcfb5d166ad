//! # tensornet-axon
//!
//! The axon (miner HTTP server) and dendrite (validator client), wire-compatible with Bittensor
//! SDK 10.x (spec: `../shared/spec/axon-protocol.md`).
