//! # tensornet-keys
//!
//! Keys and wallets, interchangeable with Bittensor's (spec: `../shared/spec/axon-protocol.md` §12).
