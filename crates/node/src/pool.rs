//! The transaction pool: admission checks, future nonces held, bounds with eviction,
//! duplicate rejection, and the ready set a block is built from.
//!
//! Admission ([`Pool::admit`], called with a snapshot of the durable head state):
//! 1. duplicate hash (pending, or already in a stored block) → `DuplicateTransaction`;
//! 2. signature for this chain → `BadSignature`;
//! 3. nonce below the account's → `StaleNonce`; more than [`PoolLimits::max_future`] ahead →
//!    `NonceTooFar`; same signer and nonce already pending → `NonceConflict`;
//! 4. nonce equal to the account's: the full runtime check ([`check_transaction`]) — fee,
//!    and the call's rules (`CallWouldFail` with the `CallError`); a future nonce: the fee for
//!    it and every pending transaction before it must be covered by the free balance;
//! 5. bounds: at most [`PoolLimits::max_per_sender`] per signer (`SenderLimit`); when the pool
//!    holds [`PoolLimits::max_total`], a ready newcomer evicts the most recently admitted
//!    held (future-nonce) transaction, otherwise `PoolFull`.
//!
//! Evicted and invalidated transactions are remembered (bounded) as rejected with a reason.

use std::collections::{BTreeMap, HashMap, VecDeque};
use tensornet_primitives::{AccountId, Hash32};
use tensornet_rpc_api::{ErrorCode, SignedTransaction};
use tensornet_runtime::{check_transaction, view, BlockError, StateStore, TxCheck};

/// Pool bounds.
#[derive(Clone, Copy, Debug)]
pub struct PoolLimits {
    /// Total pending transactions.
    pub max_total: usize,
    /// Pending transactions per signer.
    pub max_per_sender: usize,
    /// How far ahead of the account nonce a transaction may be held.
    pub max_future: u64,
    /// Rejected hashes remembered for `tx_status`.
    pub max_rejected: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_total: 50_000,
            max_per_sender: 2_048,
            max_future: 2_048,
            max_rejected: 20_000,
        }
    }
}

/// A refused transaction: a stable code and a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code.
    pub code: ErrorCode,
    /// Why.
    pub reason: String,
    /// Extra data (the runtime's `CallError`, as JSON).
    pub data: Option<serde_json::Value>,
}

impl Refusal {
    fn new(code: ErrorCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason: reason.into(),
            data: None,
        }
    }
}

struct Entry {
    tx: SignedTransaction,
    seq: u64,
}

/// The pool.
pub struct Pool {
    genesis_hash: Hash32,
    limits: PoolLimits,
    by_hash: HashMap<Hash32, (AccountId, u64)>,
    by_sender: HashMap<AccountId, BTreeMap<u64, Entry>>,
    /// The account nonce of each signer with pending transactions, as last seen.
    nonces: HashMap<AccountId, u64>,
    rejected: HashMap<Hash32, Refusal>,
    rejected_order: VecDeque<Hash32>,
    seq: u64,
    len: usize,
}

/// Ready transactions handed to the block builder.
pub type Batch = Vec<(Hash32, SignedTransaction)>;

impl Pool {
    /// An empty pool for a chain.
    pub fn new(genesis_hash: Hash32, limits: PoolLimits) -> Pool {
        Pool {
            genesis_hash,
            limits,
            by_hash: HashMap::new(),
            by_sender: HashMap::new(),
            nonces: HashMap::new(),
            rejected: HashMap::new(),
            rejected_order: VecDeque::new(),
            seq: 0,
            len: 0,
        }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pending status: `Some(ready)` if pending.
    pub fn pending(&self, hash: &Hash32) -> Option<bool> {
        let (s, n) = self.by_hash.get(hash)?;
        Some(self.next_nonce(s, self.nonces.get(s).copied().unwrap_or(0)) > *n)
    }

    /// Why a transaction was dropped, if it was.
    pub fn rejected(&self, hash: &Hash32) -> Option<&Refusal> {
        self.rejected.get(hash)
    }

    /// The nonce a new transaction of `who` should use, given its account nonce.
    pub fn next_nonce(&self, who: &AccountId, account_nonce: u64) -> u64 {
        let mut n = account_nonce;
        if let Some(m) = self.by_sender.get(who) {
            for k in m.range(account_nonce..).map(|(k, _)| *k) {
                if k != n {
                    break;
                }
                n += 1;
            }
        }
        n
    }

    /// Checks a transaction that needs no pool state (signature). Call it outside the pool
    /// lock: it is the expensive part.
    pub fn verify_signature(genesis_hash: &Hash32, tx: &SignedTransaction) -> Result<(), Refusal> {
        if tx.verify(genesis_hash) {
            Ok(())
        } else {
            Err(Refusal::new(
                ErrorCode::BadSignature,
                "signature does not verify for this chain (wrong key, payload or genesis hash)",
            ))
        }
    }

    /// Admits a transaction whose signature was verified, against the durable head state
    /// `state`; `included` says whether its hash is already in a stored block.
    pub fn admit(
        &mut self,
        state: &dyn StateStore,
        tx: SignedTransaction,
        hash: Hash32,
        included: bool,
    ) -> Result<(), Refusal> {
        if included || self.by_hash.contains_key(&hash) {
            return Err(Refusal::new(
                ErrorCode::DuplicateTransaction,
                "transaction already pending or included",
            ));
        }
        let who = tx.signer;
        let acc = view::account(state, &who)
            .map_err(|e| Refusal::new(ErrorCode::Internal, e.to_string()))?;
        self.nonces.insert(who, acc.nonce);
        if tx.nonce < acc.nonce {
            return Err(Refusal::new(
                ErrorCode::StaleNonce,
                format!(
                    "nonce {} already used (account nonce {})",
                    tx.nonce, acc.nonce
                ),
            ));
        }
        if tx.nonce - acc.nonce > self.limits.max_future {
            return Err(Refusal::new(
                ErrorCode::NonceTooFar,
                format!(
                    "nonce {} is more than {} ahead of the account nonce {}",
                    tx.nonce, self.limits.max_future, acc.nonce
                ),
            ));
        }
        let mine = self.by_sender.get(&who);
        if mine.is_some_and(|m| m.contains_key(&tx.nonce)) {
            return Err(Refusal::new(
                ErrorCode::NonceConflict,
                format!("another pending transaction uses nonce {}", tx.nonce),
            ));
        }
        let count = mine.map_or(0, |m| m.len());
        if count >= self.limits.max_per_sender {
            return Err(Refusal::new(
                ErrorCode::SenderLimit,
                format!("signer already has {count} pending transactions; wait for inclusion"),
            ));
        }
        if tx.nonce == acc.nonce {
            match check_transaction(state, &self.genesis_hash, &tx) {
                Ok(TxCheck::Ok) => {}
                Ok(TxCheck::WouldFail(e)) | Err(BlockError::FreeCallFailed { error: e, .. }) => {
                    return Err(Refusal {
                        code: ErrorCode::CallWouldFail,
                        reason: format!("call would fail: {e}"),
                        data: serde_json::to_value(&e).ok(),
                    })
                }
                Err(BlockError::CannotPayFee { .. }) => {
                    return Err(Refusal::new(
                        ErrorCode::CannotPayFee,
                        "free balance does not cover the fee",
                    ))
                }
                Err(BlockError::BadSignature { .. }) => {
                    return Err(Refusal::new(ErrorCode::BadSignature, "bad signature"))
                }
                Err(e) => return Err(Refusal::new(ErrorCode::Internal, e.to_string())),
            }
        } else {
            let fee = view::config(state)
                .map_err(|e| Refusal::new(ErrorCode::Internal, e.to_string()))?
                .tx_fee;
            let ahead = u128::from(tx.nonce - acc.nonce) + 1;
            if !tx.call.is_free() && u128::from(fee) * ahead > u128::from(acc.free) {
                return Err(Refusal::new(
                    ErrorCode::CannotPayFee,
                    "free balance does not cover the fees of this and earlier pending transactions",
                ));
            }
        }
        let ready = tx.nonce == self.next_nonce(&who, acc.nonce);
        if self.len >= self.limits.max_total && (!ready || !self.evict_one_held()) {
            return Err(Refusal::new(
                ErrorCode::PoolFull,
                format!("pool holds {} transactions; retry later", self.len),
            ));
        }
        self.seq += 1;
        self.by_hash.insert(hash, (who, tx.nonce));
        self.by_sender
            .entry(who)
            .or_default()
            .insert(tx.nonce, Entry { tx, seq: self.seq });
        self.len += 1;
        Ok(())
    }

    /// Evicts the most recently admitted held (not ready) transaction.
    fn evict_one_held(&mut self) -> bool {
        let mut victim: Option<(u64, AccountId, u64)> = None;
        for (who, m) in &self.by_sender {
            let next = self.next_nonce(who, self.nonces.get(who).copied().unwrap_or(0));
            for (n, e) in m.range(next..) {
                if *n > next && victim.is_none_or(|v| e.seq > v.0) {
                    victim = Some((e.seq, *who, *n));
                }
            }
        }
        let Some((_, who, n)) = victim else {
            return false;
        };
        self.remove(
            &who,
            n,
            Some(Refusal::new(ErrorCode::PoolFull, "evicted: pool full")),
        );
        true
    }

    fn remove(&mut self, who: &AccountId, nonce: u64, why: Option<Refusal>) {
        let Some(m) = self.by_sender.get_mut(who) else {
            return;
        };
        let Some(e) = m.remove(&nonce) else {
            return;
        };
        if m.is_empty() {
            self.by_sender.remove(who);
            self.nonces.remove(who);
        }
        let h = e.tx.hash();
        self.by_hash.remove(&h);
        self.len -= 1;
        if let Some(r) = why {
            self.remember_rejected(h, r);
        }
    }

    fn remember_rejected(&mut self, h: Hash32, r: Refusal) {
        if self.rejected.insert(h, r).is_none() {
            self.rejected_order.push_back(h);
        }
        while self.rejected_order.len() > self.limits.max_rejected {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected.remove(&old);
            }
        }
    }

    /// Up to `max` ready transactions: each signer's run of consecutive nonces from its
    /// account nonce, signers ordered by when their first ready transaction arrived.
    pub fn ready(&self, max: usize) -> Batch {
        let mut runs: Vec<(u64, Vec<(Hash32, SignedTransaction)>)> = Vec::new();
        for (who, m) in &self.by_sender {
            let start = self.nonces.get(who).copied().unwrap_or(0);
            let mut run = Vec::new();
            let mut first = u64::MAX;
            for (expected, (k, e)) in (start..).zip(m.range(start..)) {
                if *k != expected {
                    break;
                }
                first = first.min(e.seq);
                run.push((e.tx.hash(), e.tx.clone()));
            }
            if !run.is_empty() {
                runs.push((first, run));
            }
        }
        runs.sort_by_key(|r| r.0);
        let mut out = Vec::new();
        for (_, run) in runs {
            for item in run {
                if out.len() >= max {
                    return out;
                }
                out.push(item);
            }
        }
        out
    }

    /// Drops a transaction that could not go into a block (with the reason), and the
    /// signer's later ones stay held.
    pub fn reject(&mut self, tx: &SignedTransaction, reason: Refusal) {
        self.remove(&tx.signer.clone(), tx.nonce, Some(reason));
    }

    /// After a block is stored: updates the signers' nonces and drops what is now stale
    /// (included or superseded).
    pub fn on_block(&mut self, state: &dyn StateStore, included: &[SignedTransaction]) {
        let mut signers: Vec<AccountId> = included.iter().map(|t| t.signer).collect();
        signers.sort();
        signers.dedup();
        for who in signers {
            let Ok(acc) = view::account(state, &who) else {
                continue;
            };
            let stale: Vec<u64> = self
                .by_sender
                .get(&who)
                .map(|m| m.range(..acc.nonce).map(|(k, _)| *k).collect())
                .unwrap_or_default();
            for n in stale {
                self.remove(&who, n, None);
            }
            if self.by_sender.contains_key(&who) {
                self.nonces.insert(who, acc.nonce);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensornet_runtime::{dev_genesis, Call, MemoryChain};

    fn setup() -> (MemoryChain, tensornet_keys::Keypair, AccountId) {
        let chain = MemoryChain::new(&dev_genesis().unwrap()).unwrap();
        let alice = tensornet_keys::Keypair::from_uri("//Alice").unwrap();
        let bob = tensornet_keys::Keypair::from_uri("//Bob")
            .unwrap()
            .account_id();
        (chain, alice, bob)
    }

    fn tx(
        chain: &MemoryChain,
        k: &tensornet_keys::Keypair,
        nonce: u64,
        dest: AccountId,
    ) -> SignedTransaction {
        SignedTransaction::sign(
            k,
            &chain.genesis_hash(),
            nonce,
            Call::Transfer { dest, amount: 10 },
        )
    }

    fn admit(p: &mut Pool, chain: &MemoryChain, t: SignedTransaction) -> Result<(), Refusal> {
        Pool::verify_signature(&chain.genesis_hash(), &t)?;
        let h = t.hash();
        p.admit(chain.store(), t, h, false)
    }

    #[test]
    fn future_nonces_are_held_until_their_turn() {
        let (mut chain, alice, bob) = setup();
        let mut p = Pool::new(chain.genesis_hash(), PoolLimits::default());
        let t2 = tx(&chain, &alice, 2, bob);
        admit(&mut p, &chain, t2.clone()).unwrap();
        assert_eq!(p.pending(&t2.hash()), Some(false));
        assert!(p.ready(10).is_empty());
        admit(&mut p, &chain, tx(&chain, &alice, 0, bob)).unwrap();
        assert_eq!(p.ready(10).len(), 1);
        admit(&mut p, &chain, tx(&chain, &alice, 1, bob)).unwrap();
        let ready = p.ready(10);
        assert_eq!(
            ready.iter().map(|(_, t)| t.nonce).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(p.next_nonce(&alice.account_id(), 0), 3);
        // Include them; the pool empties and the nonce is stale afterwards.
        let body: Vec<_> = ready.into_iter().map(|(_, t)| t).collect();
        chain
            .produce_block(chain.head().timestamp + 1, body.clone())
            .unwrap();
        p.on_block(chain.store(), &body);
        assert!(p.is_empty());
        let e = admit(&mut p, &chain, tx(&chain, &alice, 1, bob)).unwrap_err();
        assert_eq!(e.code, ErrorCode::StaleNonce);
    }

    #[test]
    fn admission_refusals_have_stable_codes() {
        let (chain, alice, bob) = setup();
        let mut p = Pool::new(
            chain.genesis_hash(),
            PoolLimits {
                max_future: 4,
                ..PoolLimits::default()
            },
        );
        let t0 = tx(&chain, &alice, 0, bob);
        admit(&mut p, &chain, t0.clone()).unwrap();
        assert_eq!(
            admit(&mut p, &chain, t0.clone()).unwrap_err().code,
            ErrorCode::DuplicateTransaction
        );
        let other0 = SignedTransaction::sign(
            &alice,
            &chain.genesis_hash(),
            0,
            Call::Transfer {
                dest: bob,
                amount: 11,
            },
        );
        assert_eq!(
            admit(&mut p, &chain, other0).unwrap_err().code,
            ErrorCode::NonceConflict
        );
        assert_eq!(
            admit(&mut p, &chain, tx(&chain, &alice, 9, bob))
                .unwrap_err()
                .code,
            ErrorCode::NonceTooFar
        );
        let mut bad = tx(&chain, &alice, 1, bob);
        bad.signature[0] ^= 1;
        assert_eq!(
            admit(&mut p, &chain, bad).unwrap_err().code,
            ErrorCode::BadSignature
        );
        // An account with nothing cannot pay the fee.
        let poor = tensornet_keys::Keypair::from_uri("//Nobody").unwrap();
        assert_eq!(
            admit(&mut p, &chain, tx(&chain, &poor, 0, bob))
                .unwrap_err()
                .code,
            ErrorCode::CannotPayFee
        );
        // Unknown subnet: the call would fail.
        let reg = SignedTransaction::sign(
            &alice,
            &chain.genesis_hash(),
            0,
            Call::BurnedRegister {
                netuid: 42,
                hotkey: bob,
                max_price: None,
            },
        );
        let e = p
            .admit(chain.store(), reg.clone(), reg.hash(), false)
            .unwrap_err();
        assert!(e.code == ErrorCode::NonceConflict || e.code == ErrorCode::CallWouldFail);
        let mut p2 = Pool::new(chain.genesis_hash(), PoolLimits::default());
        let e = p2
            .admit(chain.store(), reg.clone(), reg.hash(), false)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::CallWouldFail);
        assert_eq!(e.data, Some(serde_json::json!("subnet_not_found")));
    }

    #[test]
    fn bounds_evict_held_transactions_for_ready_ones() {
        let (chain, alice, bob) = setup();
        let limits = PoolLimits {
            max_total: 3,
            max_per_sender: 2,
            max_future: 100,
            max_rejected: 10,
        };
        let mut p = Pool::new(chain.genesis_hash(), limits);
        admit(&mut p, &chain, tx(&chain, &alice, 5, bob)).unwrap();
        admit(&mut p, &chain, tx(&chain, &alice, 6, bob)).unwrap();
        assert_eq!(
            admit(&mut p, &chain, tx(&chain, &alice, 7, bob))
                .unwrap_err()
                .code,
            ErrorCode::SenderLimit
        );
        let bobk = tensornet_keys::Keypair::from_uri("//Bob").unwrap();
        let charlie = tensornet_keys::Keypair::from_uri("//Charlie").unwrap();
        let dest = alice.account_id();
        let held = tx(&chain, &bobk, 3, dest);
        let evicted = held.hash();
        admit(&mut p, &chain, held).unwrap();
        assert_eq!(p.len(), 3);
        // Full: a held newcomer is refused, a ready one evicts the newest held transaction.
        assert_eq!(
            admit(&mut p, &chain, tx(&chain, &charlie, 1, dest))
                .unwrap_err()
                .code,
            ErrorCode::PoolFull
        );
        admit(&mut p, &chain, tx(&chain, &charlie, 0, dest)).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.rejected(&evicted).map(|r| r.code),
            Some(ErrorCode::PoolFull)
        );
        assert_eq!(p.pending(&evicted), None);
    }
}
