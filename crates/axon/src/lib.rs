//! # tensornet-axon
//!
//! The axon (miner HTTP server) and dendrite (validator client), wire-compatible with Bittensor
//! SDK 10.x (spec: `../shared/spec/axon-protocol.md`; section numbers below refer to it).
//!
//! What it owns:
//! - [`synapse`]: the [`Synapse`] trait (typed messages: name = route, serde fields,
//!   `REQUIRED_HASH_FIELDS`), the wire [`Envelope`] and [`TerminalInfo`] (§3), the body hash
//!   (§5) and the two built-in messages [`Echo`] and [`Classify`];
//! - [`pyrepr`]: Python `str()`/`repr()` rendering (floats in shortest round-trip `repr`), which
//!   the body hash depends on;
//! - [`headers`]: the header codec (§4.2, §8.1), lower-case names, reference order;
//! - [`verify`]: the signed message (§6.1), signature and nonce checks (§7.2) with an injectable
//!   [`Clock`] and a bounded [`NonceStore`];
//! - [`priority`]: the priority gate (bounded concurrency, priority order, per-hotkey cap);
//! - [`server`]: the [`Axon`] (§7, §8);
//! - [`mod@bench`]: load generation behind `tensornet axon bench`;
//! - [`dendrite`]: the [`Dendrite`] client (§4, §8.3) with pooling, fan-out and per-request
//!   uuid lanes so nonces always arrive in order.
//!
//! Invariants:
//! - a handler only runs for a request whose signature verified against *this* axon's hotkey,
//!   whose nonce is fresh (age ≤ 4 s + timeout, ≤ 60 s in the future by default), never accepted
//!   before for its (hotkey, uuid) and above that key's floor (its newest nonce minus the reorder
//!   window, 1 s by default; a window of 0 is the reference's strictly-increasing rule), and whose
//!   body hash matches the signed one;
//! - memory is bounded: the nonce store expires entries and has a key cap, the request queue and
//!   the body size are capped, the dendrite keeps only its lanes (≤ its in-flight cap).
//!
//! Deliberate differences from the reference (all stricter, wire-compatible):
//! a tampered body (hash ≠ header) answers **400** with a message (reference: 500); unparseable
//! headers answer 400 (reference: 500); a missing `bt_header_input_obj_*` is tolerated (the
//! body is authoritative); bodies over the limit answer 413; nonces too far in the future 401;
//! the age window applies to every request; the request's timeout is enforced on the server
//! (408); the priority hook really orders and bounds work; handlers get the verified caller.
//! Error responses carry `bt_header_axon_nonce/uuid/version` but no axon signature (the
//! reference's is never checked by any client).

pub mod bench;
pub mod dendrite;
pub mod headers;
pub mod priority;
pub mod pyrepr;
pub mod server;
pub mod synapse;
pub mod verify;

pub use dendrite::{Answer, AxonTarget, Dendrite, DendriteConfig};
pub use priority::GateConfig;
pub use server::{Axon, AxonConfig, Caller, HandlerError, RequestInfo, RunningAxon};
pub use synapse::{classify_logits, Classify, Echo, Envelope, Synapse, TerminalInfo};
pub use verify::{Clock, ManualClock, NonceStore, SystemClock, VerifyConfig, VerifyError};

use std::sync::Arc;

/// The connectivity-check miner of `tensornet axon echo`: serves `Echo` (`response = text`) and
/// `Classify` (the fixed linear model of [`classify_logits`]), accepts any correctly signed
/// caller and has no blacklist.
pub fn echo_axon(hotkey_ss58: impl Into<String>, config: AxonConfig) -> Arc<Axon> {
    Axon::builder(hotkey_ss58)
        .config(config)
        .attach(|_caller: Caller, mut e: Echo| async move {
            e.response = Some(e.text.clone());
            Ok(e)
        })
        .attach(|_caller: Caller, mut c: Classify| async move {
            c.logits = Some(classify_logits(&c.pixels));
            Ok(c)
        })
        .build()
}
