//! Request signatures and nonce checks (spec §6.1, §7.2, hardened per §7.4).
//!
//! Differences from the reference, all stricter and documented:
//! - the age window (4 s + the request's timeout, the timeout capped by
//!   [`VerifyConfig::max_timeout`]) applies to *every* request and every version, not only to the
//!   first request of a key with a version ≥ 7.2.0; this is what lets the nonce store forget keys;
//! - a nonce more than [`VerifyConfig::max_future`] ahead of the clock is rejected (the reference
//!   accepts it and the key is then blocked until real time passes it);
//! - a small reorder window (default 1 s, 0 restores the reference rule) accepts a not-yet-seen
//!   nonce slightly below the newest one of its key, so concurrent requests sharing a uuid may
//!   overtake each other (exact replays are still refused);
//! - the nonce store is bounded: entries older than the largest window expire, and when
//!   [`VerifyConfig::max_keys`] fresh keys are held, new keys are refused until some expire.

use crate::headers::RequestHeaders;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tensornet_keys::{ss58_decode, AccountId, Signature};

/// Fixed slack of the age window, nanoseconds (the reference's 4 s).
pub const ALLOWED_DELTA_NS: u64 = 4_000_000_000;

/// A wall clock in nanoseconds since the Unix epoch; injectable for replay tests.
pub trait Clock: Send + Sync {
    /// Current time, ns since the Unix epoch.
    fn now_ns(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ns(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }
}

/// A settable clock for tests and replays.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock reading `now_ns`.
    pub fn new(now_ns: u64) -> Self {
        ManualClock(AtomicU64::new(now_ns))
    }
    /// Sets the time.
    pub fn set(&self, now_ns: u64) {
        self.0.store(now_ns, Ordering::SeqCst);
    }
    /// Moves the time forward.
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ns(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The message a dendrite signs: `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"`.
pub fn request_message(
    nonce: u64,
    dendrite_hotkey: &str,
    axon_hotkey: &str,
    uuid: &str,
    body_hash: &str,
) -> String {
    format!("{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}")
}

/// Why a request failed verification (the axon answers 401, except [`VerifyError::StoreFull`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    /// No `bt_header_dendrite_hotkey`.
    #[error("Missing Hotkey")]
    MissingHotkey,
    /// The hotkey is not an SS58 address.
    #[error("Invalid SS58 address: {0}")]
    InvalidHotkey(String),
    /// No nonce.
    #[error("Missing Nonce")]
    MissingNonce,
    /// No signature.
    #[error("Missing Signature")]
    MissingSignature,
    /// Older than the age window.
    #[error("Nonce is too old: acceptable delta is {window:.2} seconds but request was {age:.2} seconds old")]
    TooOld {
        /// Window, seconds.
        window: f64,
        /// Age, seconds.
        age: f64,
    },
    /// Not newer than the last accepted nonce of this (hotkey, uuid).
    #[error("Nonce is too old, a newer one was last processed")]
    Replay,
    /// Too far ahead of the axon's clock.
    #[error(
        "Nonce is too far in the future: {ahead:.2} seconds ahead, at most {bound:.2} allowed"
    )]
    TooNew {
        /// How far ahead, seconds.
        ahead: f64,
        /// Bound, seconds.
        bound: f64,
    },
    /// The signature does not verify.
    #[error("Signature mismatch with {message} and {signature}")]
    BadSignature {
        /// The rebuilt message.
        message: String,
        /// The signature as received.
        signature: String,
    },
    /// The nonce store holds `max_keys` fresh keys.
    #[error("too many concurrent callers; try again in a few seconds")]
    StoreFull,
}

/// Verifier settings.
#[derive(Debug, Clone, Copy)]
pub struct VerifyConfig {
    /// Largest request timeout honoured when widening the age window (also the server's cap).
    pub max_timeout: Duration,
    /// How far a nonce may be ahead of the clock (default 60 s).
    pub max_future: Duration,
    /// Most (hotkey, uuid) keys remembered at once.
    pub max_keys: usize,
    /// How far below the newest accepted nonce of a key a not-yet-seen nonce is still accepted
    /// (0 = the reference's strictly-increasing rule; default 1 s). See [`NonceStore`].
    pub reorder_window: Duration,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            max_timeout: Duration::from_secs(60),
            max_future: Duration::from_secs(60),
            max_keys: 65_536,
            reorder_window: Duration::from_secs(1),
        }
    }
}

/// A verified caller: what the handler may trust.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCaller {
    /// SS58 of the signing hotkey.
    pub hotkey: String,
    /// Its public key.
    pub account: AccountId,
    /// Signed nonce.
    pub nonce: u64,
    /// Signed uuid.
    pub uuid: String,
}

/// Accepted nonces of one (hotkey, uuid): everything at or below `floor` is refused, and so is
/// any nonce in `seen` (the accepted ones above the floor, ascending, at most
/// [`REORDER_SLOTS`]).
#[derive(Debug, Default)]
struct KeyNonces {
    floor: u64,
    seen: Vec<u64>,
    max: u64,
}

/// Most accepted nonces remembered per key above its floor.
pub const REORDER_SLOTS: usize = 64;

impl KeyNonces {
    fn admits(&self, nonce: u64) -> bool {
        nonce > self.floor && self.seen.binary_search(&nonce).is_err()
    }

    fn accept(&mut self, nonce: u64, window_ns: u64) {
        if let Err(i) = self.seen.binary_search(&nonce) {
            self.seen.insert(i, nonce);
        }
        self.max = self.max.max(nonce);
        let mut floor = self.floor.max(self.max.saturating_sub(window_ns));
        if self.seen.len() > REORDER_SLOTS {
            floor = floor.max(self.seen[self.seen.len() - REORDER_SLOTS - 1]);
        }
        self.floor = floor;
        let keep_from = self.seen.partition_point(|n| *n <= floor);
        self.seen.drain(..keep_from);
    }
}

struct StoreInner {
    map: HashMap<String, KeyNonces>,
    last_prune_ns: u64,
}

/// Bounded map (hotkey, uuid) → accepted nonces; entries expire once any nonce they could
/// block is outside the age window anyway.
///
/// With a reorder window of 0 this is the reference rule (a nonce must exceed the last accepted
/// one). With a window `W > 0` a nonce is also accepted when it is at most `W` below the newest
/// accepted one and was not accepted before (exact replays are still refused; at most
/// [`REORDER_SLOTS`] nonces per key are remembered, older ones fall below the floor). This
/// tolerates concurrent requests from one dendrite uuid (the Python dendrite shares one uuid
/// across everything in flight) overtaking each other on a multi-threaded axon.
pub struct NonceStore {
    inner: Mutex<StoreInner>,
    retention_ns: u64,
    max_keys: usize,
    reorder_ns: u64,
}

impl NonceStore {
    /// A store keeping entries for `retention` after their newest nonce, holding at most
    /// `max_keys`, with the given reorder window.
    pub fn new(retention: Duration, max_keys: usize, reorder_window: Duration) -> Self {
        NonceStore {
            inner: Mutex::new(StoreInner {
                map: HashMap::new(),
                last_prune_ns: 0,
            }),
            retention_ns: retention.as_nanos() as u64,
            max_keys,
            reorder_ns: reorder_window.as_nanos() as u64,
        }
    }

    /// Number of keys currently held.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.map.len()).unwrap_or(0)
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `nonce` would be accepted for `key` right now (no change).
    pub fn check(&self, key: &str, nonce: u64) -> Result<(), VerifyError> {
        let g = self.inner.lock().map_err(|_| VerifyError::StoreFull)?;
        match g.map.get(key) {
            Some(k) if !k.admits(nonce) => Err(VerifyError::Replay),
            _ => Ok(()),
        }
    }

    /// Records `nonce` for `key` if admissible; the decisive, atomic check.
    pub fn commit(&self, key: &str, nonce: u64, now_ns: u64) -> Result<(), VerifyError> {
        let mut g = self.inner.lock().map_err(|_| VerifyError::StoreFull)?;
        let retention = self.retention_ns;
        let prune_due = now_ns.saturating_sub(g.last_prune_ns) > 1_000_000_000;
        if prune_due || g.map.len() >= self.max_keys {
            g.map
                .retain(|_, k| k.max.saturating_add(retention) >= now_ns);
            g.last_prune_ns = now_ns;
        }
        let len = g.map.len();
        let window = self.reorder_ns;
        match g.map.get_mut(key) {
            Some(k) if !k.admits(nonce) => Err(VerifyError::Replay),
            Some(k) => {
                k.accept(nonce, window);
                Ok(())
            }
            None if len >= self.max_keys => Err(VerifyError::StoreFull),
            None => {
                let mut k = KeyNonces::default();
                k.accept(nonce, window);
                g.map.insert(key.to_string(), k);
                Ok(())
            }
        }
    }
}

/// Decoded caller keys (SS58 text → sr25519 public key), so the SS58 checksum and the point
/// decompression are paid once per caller rather than once per request. Bounded: cleared when
/// full.
struct KeyCache {
    map: Mutex<HashMap<String, (AccountId, schnorrkel::PublicKey)>>,
}

/// Most caller keys cached.
const KEY_CACHE_MAX: usize = 16_384;

impl KeyCache {
    fn get(&self, ss58: &str) -> Result<(AccountId, schnorrkel::PublicKey), VerifyError> {
        if let Some(hit) = self.map.lock().ok().and_then(|m| m.get(ss58).copied()) {
            return Ok(hit);
        }
        let invalid = || VerifyError::InvalidHotkey(ss58.to_string());
        let account = ss58_decode(ss58).map_err(|_| invalid())?;
        let public =
            schnorrkel::PublicKey::from_bytes(account.as_bytes()).map_err(|_| invalid())?;
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= KEY_CACHE_MAX {
                m.clear();
            }
            m.insert(ss58.to_string(), (account, public));
        }
        Ok((account, public))
    }
}

/// sr25519 verification with the `substrate` signing context, the message as-is.
fn verify_sr25519(public: &schnorrkel::PublicKey, message: &[u8], signature: &Signature) -> bool {
    match schnorrkel::Signature::from_bytes(&signature.0) {
        Ok(sig) => public.verify_simple(b"substrate", message, &sig).is_ok(),
        Err(_) => false,
    }
}

/// Verifies requests addressed to one axon hotkey.
pub struct Verifier {
    own_hotkey: String,
    config: VerifyConfig,
    store: NonceStore,
    keys: KeyCache,
}

impl Verifier {
    /// A verifier for the axon whose hotkey SS58 is `own_hotkey`.
    pub fn new(own_hotkey: String, config: VerifyConfig) -> Self {
        let retention = Duration::from_nanos(ALLOWED_DELTA_NS) + config.max_timeout;
        Verifier {
            own_hotkey,
            store: NonceStore::new(retention, config.max_keys, config.reorder_window),
            config,
            keys: KeyCache {
                map: Mutex::new(HashMap::new()),
            },
        }
    }

    /// The nonce store (for inspection).
    pub fn store(&self) -> &NonceStore {
        &self.store
    }

    /// The settings.
    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }

    /// Runs every check of §7.2 (hardened) against `h` at time `now_ns`; on success the nonce is
    /// recorded and the verified caller returned.
    pub fn verify(&self, h: &RequestHeaders, now_ns: u64) -> Result<VerifiedCaller, VerifyError> {
        let hotkey = h
            .dendrite
            .hotkey
            .as_deref()
            .ok_or(VerifyError::MissingHotkey)?;
        let (account, public) = self.keys.get(hotkey)?;
        let nonce = h.dendrite.nonce.ok_or(VerifyError::MissingNonce)?;
        let sig_text = h
            .dendrite
            .signature
            .as_deref()
            .ok_or(VerifyError::MissingSignature)?;
        let uuid = h.dendrite.uuid.as_deref().unwrap_or("None");
        let body_hash = h.computed_body_hash.as_deref().unwrap_or("");

        // Age window: 4 s + the request's timeout (capped); applied to every request.
        let timeout = h
            .timeout
            .unwrap_or(12.0)
            .min(self.config.max_timeout.as_secs_f64());
        let window_ns = ALLOWED_DELTA_NS + (timeout * 1e9) as u64;
        if nonce.saturating_add(window_ns) <= now_ns {
            return Err(VerifyError::TooOld {
                window: window_ns as f64 / 1e9,
                age: now_ns.saturating_sub(nonce) as f64 / 1e9,
            });
        }
        let max_future_ns = self.config.max_future.as_nanos() as u64;
        if nonce > now_ns.saturating_add(max_future_ns) {
            return Err(VerifyError::TooNew {
                ahead: (nonce - now_ns) as f64 / 1e9,
                bound: max_future_ns as f64 / 1e9,
            });
        }
        let key = format!("{hotkey}:{uuid}");
        self.store.check(&key, nonce)?;

        let message = request_message(nonce, hotkey, &self.own_hotkey, uuid, body_hash);
        let bad = || VerifyError::BadSignature {
            message: message.clone(),
            signature: sig_text.to_string(),
        };
        // The Python verifier requires the 0x prefix on text signatures.
        let hex_part = sig_text.strip_prefix("0x").ok_or_else(bad)?;
        let signature = Signature::from_hex(hex_part).map_err(|_| bad())?;
        let ok = verify_sr25519(&public, message.as_bytes(), &signature) || {
            // The polkadot-js `<Bytes>` wrapping, accepted by the reference too.
            let wrapped = format!("<Bytes>{message}</Bytes>");
            verify_sr25519(&public, wrapped.as_bytes(), &signature)
        };
        if !ok {
            return Err(bad());
        }
        self.store.commit(&key, nonce, now_ns)?;
        Ok(VerifiedCaller {
            hotkey: hotkey.to_string(),
            account,
            nonce,
            uuid: uuid.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_monotonic_and_expires() {
        let s = NonceStore::new(Duration::from_secs(10), 2, Duration::ZERO);
        let t0 = 100_000_000_000u64;
        s.commit("a", t0, t0).unwrap();
        assert_eq!(s.commit("a", t0, t0), Err(VerifyError::Replay));
        s.commit("a", t0 + 1, t0).unwrap();
        s.commit("b", t0, t0).unwrap();
        assert_eq!(s.commit("c", t0, t0), Err(VerifyError::StoreFull));
        // 11 s later both entries have expired: room again.
        let t1 = t0 + 11_000_000_000;
        s.commit("c", t1, t1).unwrap();
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn reorder_window_accepts_overtaken_nonces_once() {
        let s = NonceStore::new(Duration::from_secs(10), 10, Duration::from_millis(500));
        let t = 100_000_000_000u64;
        s.commit("k", t + 10, t).unwrap();
        s.commit("k", t + 5, t).unwrap(); // overtaken, within the window
        assert_eq!(s.commit("k", t + 5, t), Err(VerifyError::Replay)); // exact replay
        assert_eq!(s.commit("k", t + 10, t), Err(VerifyError::Replay));
        s.commit("k", t + 1_000_000_000, t).unwrap();
        // Now t + 7 is more than 500 ms below the newest: refused.
        assert_eq!(s.commit("k", t + 7, t), Err(VerifyError::Replay));
        // Only REORDER_SLOTS nonces are remembered: older ones fall below the floor.
        let base = t + 2_000_000_000;
        for i in 0..(REORDER_SLOTS as u64 + 10) {
            s.commit("k", base + i, t).unwrap();
        }
        assert_eq!(s.commit("k", base + 5, t), Err(VerifyError::Replay));
        s.commit("k", base - 1 + REORDER_SLOTS as u64 + 20, t)
            .unwrap();
    }
}
