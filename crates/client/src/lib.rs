//! # tensornet-client
//!
//! The typed async client of a tensornet node, used by the CLI, miners and validators
//! (architecture: `client` row; wire API: `docs/rpc.md`).
//!
//! What it owns:
//! - building and signing transactions over the runtime's types ([`tx`]): the signature covers
//!   `TX_VERSION ‖ genesis_hash ‖ SCALE(nonce) ‖ SCALE(call)`, so the client learns the
//!   genesis hash from the node once and signs for that chain only;
//! - nonces ([`nonce::NonceTracker`]): consecutive transactions of one signer get consecutive
//!   nonces even before the first is included;
//! - waiting for inclusion with a timeout, metagraph sync ([`MetagraphSync`]), and
//!   subscriptions to new heads and to a subnet's epochs over WebSocket ([`Subscription`]);
//! - reconnecting: HTTP requests reach a restarted node again by themselves; [`Reconnect`]
//!   makes requests wait for it (daemons) instead of failing at once (one-shot commands).
//!
//! Invariants: no panics on anything the node sends; every request and every wait for
//! inclusion or a block is bounded by a timeout.

pub mod error;
pub mod nonce;
pub mod tx;

pub use error::ClientError;
pub use nonce::NonceTracker;
pub use tx::{decode_ip, sign, weights_from_floats, AxonEndpoint, PreparedCommit};
pub mod client;
pub mod sync;

pub use client::{ws_url, Client, ClientOptions, Inclusion, Reconnect, Subscription};
pub use sync::MetagraphSync;
pub use tensornet_rpc_api as api;
