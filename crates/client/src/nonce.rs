//! Nonce management: the next nonce per signer, so that several transactions sent in a row
//! (before the first is included) get consecutive nonces.
//!
//! The tracker remembers, per account, the next nonce it handed out. The chain's view (the
//! account nonce, plus the transactions the node holds in its pool) is fed in with
//! [`NonceTracker::next`]: the larger of the two wins, so a tracker never goes backwards
//! unless told to [`NonceTracker::forget`] an account (after a rejection for a stale or
//! future nonce).

use std::collections::HashMap;
use std::sync::Mutex;
use tensornet_primitives::AccountId;

/// Per-account next nonces (thread-safe).
#[derive(Debug, Default)]
pub struct NonceTracker {
    next: Mutex<HashMap<AccountId, u64>>,
}

impl NonceTracker {
    /// An empty tracker.
    pub fn new() -> NonceTracker {
        NonceTracker::default()
    }

    /// Reserves the nonce for the next transaction of `account`, given the chain's next nonce
    /// for it: `max(chain_next, last handed out + 1)`.
    pub fn next(&self, account: &AccountId, chain_next: u64) -> u64 {
        let mut m = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(*account).or_insert(chain_next);
        if *e < chain_next {
            *e = chain_next;
        }
        let n = *e;
        *e = e.saturating_add(1);
        n
    }

    /// The next nonce that would be handed out, if the account is known.
    pub fn peek(&self, account: &AccountId) -> Option<u64> {
        let m = self.next.lock().unwrap_or_else(|p| p.into_inner());
        m.get(account).copied()
    }

    /// Forgets an account: the next call to [`NonceTracker::next`] uses the chain's value.
    pub fn forget(&self, account: &AccountId) {
        let mut m = self.next.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_then_follows_chain() {
        let t = NonceTracker::new();
        let a = AccountId([1; 32]);
        let b = AccountId([2; 32]);
        assert_eq!(t.next(&a, 5), 5);
        assert_eq!(t.next(&a, 5), 6);
        assert_eq!(t.next(&a, 5), 7);
        assert_eq!(t.next(&b, 0), 0);
        // chain moved past what we handed out (another client used the key)
        assert_eq!(t.next(&a, 10), 10);
        assert_eq!(t.peek(&a), Some(11));
        t.forget(&a);
        assert_eq!(t.peek(&a), None);
        assert_eq!(t.next(&a, 9), 9);
    }
}
