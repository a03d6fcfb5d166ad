//! Balance movements. Every function here moves rao between ledger buckets and updates the
//! [`Totals`](crate::state::Totals) aggregates in the same step, so the invariant
//! `minted = free + staked + pending + locked + burned` holds after each of them. All
//! arithmetic is checked; nothing underflows.

use crate::state::{keys, HotkeyInfo, State};
use crate::types::CallError;
use parity_scale_codec::Encode;
use tensornet_primitives::{AccountId, Balance};

impl State<'_> {
    /// Adds to a free balance (the source bucket is adjusted by the caller).
    fn credit_free_raw(&mut self, a: &AccountId, amount: Balance) -> Result<(), CallError> {
        let mut acc = self.account(a);
        acc.free = acc.free.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_account(a, &acc);
        Ok(())
    }

    /// Takes from a free balance (the destination bucket is adjusted by the caller).
    fn debit_free_raw(&mut self, a: &AccountId, amount: Balance) -> Result<(), CallError> {
        let mut acc = self.account(a);
        acc.free = acc
            .free
            .checked_sub(amount)
            .ok_or(CallError::InsufficientBalance)?;
        self.set_account(a, &acc);
        Ok(())
    }

    /// Moves free balance between accounts.
    pub fn transfer(
        &mut self,
        from: &AccountId,
        to: &AccountId,
        amount: Balance,
    ) -> Result<(), CallError> {
        self.debit_free_raw(from, amount)?;
        self.credit_free_raw(to, amount)
    }

    /// Burns from a free balance.
    pub fn burn_free(&mut self, a: &AccountId, amount: Balance) -> Result<(), CallError> {
        self.debit_free_raw(a, amount)?;
        let mut t = self.totals();
        t.free = t.free.checked_sub(amount).ok_or(CallError::Overflow)?;
        t.burned = t.burned.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Moves free balance into a lock (the subnet record holds the amount).
    pub fn lock_free(&mut self, a: &AccountId, amount: Balance) -> Result<(), CallError> {
        self.debit_free_raw(a, amount)?;
        let mut t = self.totals();
        t.free = t.free.checked_sub(amount).ok_or(CallError::Overflow)?;
        t.locked = t.locked.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Creates free balance out of nothing (genesis only).
    pub fn mint_free(&mut self, a: &AccountId, amount: Balance) -> Result<(), CallError> {
        self.credit_free_raw(a, amount)?;
        let mut t = self.totals();
        t.free = t.free.checked_add(amount).ok_or(CallError::Overflow)?;
        t.minted = t.minted.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Adds to `c`'s stake on `h` and the hotkey's total (the source bucket is adjusted by the
    /// caller).
    fn credit_stake_raw(
        &mut self,
        h: &AccountId,
        c: &AccountId,
        amount: Balance,
    ) -> Result<(), CallError> {
        if amount == 0 {
            return Ok(());
        }
        let mut hk: HotkeyInfo = self.hotkey(h).ok_or(CallError::HotkeyNotFound)?;
        hk.total_stake = hk
            .total_stake
            .checked_add(amount)
            .ok_or(CallError::Overflow)?;
        if hk.owner == *c {
            hk.owner_stake = hk
                .owner_stake
                .checked_add(amount)
                .ok_or(CallError::Overflow)?;
        } else {
            let old = self.nominator_stake(h, c);
            if old == 0 {
                hk.nominators = hk.nominators.checked_add(1).ok_or(CallError::Overflow)?;
            }
            let s = old.checked_add(amount).ok_or(CallError::Overflow)?;
            self.put(keys::stake(h, c), &s);
        }
        self.put(keys::hotkey(h), &hk);
        Ok(())
    }

    /// Free balance → stake.
    pub fn stake_from_free(
        &mut self,
        c: &AccountId,
        h: &AccountId,
        amount: Balance,
    ) -> Result<(), CallError> {
        self.debit_free_raw(c, amount)?;
        self.credit_stake_raw(h, c, amount)?;
        let mut t = self.totals();
        t.free = t.free.checked_sub(amount).ok_or(CallError::Overflow)?;
        t.staked = t.staked.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Stake → free balance.
    pub fn unstake_to_free(
        &mut self,
        c: &AccountId,
        h: &AccountId,
        amount: Balance,
    ) -> Result<(), CallError> {
        let mut hk = self.hotkey(h).ok_or(CallError::InsufficientStake)?;
        if hk.owner == *c {
            hk.owner_stake = hk
                .owner_stake
                .checked_sub(amount)
                .ok_or(CallError::InsufficientStake)?;
        } else {
            let s = self.nominator_stake(h, c);
            let left = s.checked_sub(amount).ok_or(CallError::InsufficientStake)?;
            if left == 0 {
                if s > 0 {
                    hk.nominators = hk.nominators.checked_sub(1).ok_or(CallError::Overflow)?;
                }
                self.delete(keys::stake(h, c));
            } else {
                self.put(keys::stake(h, c), &left);
            }
        }
        hk.total_stake = hk
            .total_stake
            .checked_sub(amount)
            .ok_or(CallError::Overflow)?;
        self.put(keys::hotkey(h), &hk);
        self.credit_free_raw(c, amount)?;
        let mut t = self.totals();
        t.staked = t.staked.checked_sub(amount).ok_or(CallError::Overflow)?;
        t.free = t.free.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Pending emission → stake (epoch payouts).
    pub fn stake_from_pending(
        &mut self,
        h: &AccountId,
        c: &AccountId,
        amount: Balance,
    ) -> Result<(), CallError> {
        self.credit_stake_raw(h, c, amount)?;
        let mut t = self.totals();
        t.pending = t.pending.checked_sub(amount).ok_or(CallError::Overflow)?;
        t.staked = t.staked.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Pending emission → several stakes on one hotkey at once (epoch payouts): `credits`
    /// are `(coldkey, amount)` pairs, a coldkey may appear more than once. `hk` must be the
    /// hotkey's record as currently stored. The new hotkey record and nominator stake entries
    /// (each once, each strictly larger than before) are appended to `writes` for the caller
    /// to apply with [`crate::store::Overlay::put_changed`] — before anything reads those keys
    /// again. The same end state as one [`State::stake_from_pending`] per pair; a credit to
    /// the owner only (a miner's usual case) writes the hotkey record alone.
    pub fn stake_many_from_pending(
        &mut self,
        h: &AccountId,
        mut hk: HotkeyInfo,
        credits: &mut Vec<(AccountId, Balance)>,
        writes: &mut Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), CallError> {
        credits.retain(|c| c.1 > 0);
        if credits.is_empty() {
            return Ok(());
        }
        credits.sort_by_key(|c| c.0);
        let mut sum = 0u64;
        let mut i = 0;
        while i < credits.len() {
            let c = credits[i].0;
            let mut amount = 0u64;
            while i < credits.len() && credits[i].0 == c {
                amount = amount
                    .checked_add(credits[i].1)
                    .ok_or(CallError::Overflow)?;
                i += 1;
            }
            if c == hk.owner {
                hk.owner_stake = hk
                    .owner_stake
                    .checked_add(amount)
                    .ok_or(CallError::Overflow)?;
            } else {
                let old = self.nominator_stake(h, &c);
                if old == 0 {
                    hk.nominators = hk.nominators.checked_add(1).ok_or(CallError::Overflow)?;
                }
                let s = old.checked_add(amount).ok_or(CallError::Overflow)?;
                writes.push((keys::stake(h, &c), s.encode()));
            }
            sum = sum.checked_add(amount).ok_or(CallError::Overflow)?;
        }
        hk.total_stake = hk.total_stake.checked_add(sum).ok_or(CallError::Overflow)?;
        writes.push((keys::hotkey(h), hk.encode()));
        let mut t = self.totals();
        t.pending = t.pending.checked_sub(sum).ok_or(CallError::Overflow)?;
        t.staked = t.staked.checked_add(sum).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// Pending emission → burned.
    pub fn burn_pending(&mut self, amount: Balance) -> Result<(), CallError> {
        let mut t = self.totals();
        t.pending = t.pending.checked_sub(amount).ok_or(CallError::Overflow)?;
        t.burned = t.burned.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }

    /// New emission → pending (the subnet record holds the amount).
    pub fn mint_pending(&mut self, amount: Balance) -> Result<(), CallError> {
        let mut t = self.totals();
        t.pending = t.pending.checked_add(amount).ok_or(CallError::Overflow)?;
        t.minted = t.minted.checked_add(amount).ok_or(CallError::Overflow)?;
        self.set_totals(&t);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{keys, HotkeyInfo, State};
    use crate::store::{MemStore, Overlay};
    use proptest::prelude::*;
    use tensornet_primitives::AccountId;

    proptest! {
        #[test]
        fn stake_many_equals_one_by_one(
            credits in proptest::collection::vec((0u8..4, 0u64..1_000_000), 0..12),
        ) {
            let h = AccountId([9; 32]);
            let base = MemStore::new();
            let run = |batched: bool| {
                let mut st = State::new(Overlay::new(&base));
                // Owner [1; 32] with 5, one nominator [2; 32] with 3; credits also go to
                // new nominators.
                let hk = HotkeyInfo {
                    total_stake: 8,
                    owner_stake: 5,
                    nominators: 1,
                    ..HotkeyInfo::new(AccountId([1; 32]), 0)
                };
                st.put(keys::hotkey(&h), &hk);
                st.put(keys::stake(&h, &AccountId([2; 32])), &3u64);
                st.mint_pending(10_000_000).unwrap();
                let mut c: Vec<(AccountId, u64)> =
                    credits.iter().map(|(c, a)| (AccountId([*c; 32]), *a)).collect();
                if batched {
                    let mut writes = Vec::new();
                    st.stake_many_from_pending(&h, hk, &mut c, &mut writes).unwrap();
                    st.overlay.put_changed(writes);
                } else {
                    for (c, a) in &c {
                        st.stake_from_pending(&h, c, *a).unwrap();
                    }
                }
                st.into_changes().unwrap()
            };
            prop_assert_eq!(run(true), run(false));
        }
    }
}
