//! Block execution: signature batches, per-block emission, the epoch scheduler and payouts,
//! then the transactions in order, then the ledger check.

use crate::calls::{burn_decay_factor, decayed_burn, dispatch};
use crate::state::{keys, BlockInfo, EpochNeuron, HotkeyInfo, NeuronOutputs, State, SubnetInfo};
use crate::store::{Overlay, StateChanges, StateStore, StoreError};
use crate::types::{
    signing_payload, BlockError, CallError, Event, Receipt, SignedTransaction, UidEmission,
};
use parity_scale_codec::Decode;
use tensornet_primitives::{AccountId, Balance, BlockNumber, Hash32, NetUid};
use tensornet_yuma::{EpochInputs, Hyperparameters};

/// The subnet owner's cut of each block's subnet share, `/65535` (≈ 18 %).
pub const SUBNET_OWNER_CUT: u64 = 11_796;
/// Safety net of the scheduler: an epoch runs after this many blocks whatever the tempo.
pub const MAX_TEMPO: u64 = 50_400;
/// Total supply cap used by the halving formula, rao.
pub const TOTAL_SUPPLY: u64 = 21_000_000 * 1_000_000_000;
/// Signatures verified per batch.
pub const SIGNATURE_BATCH: usize = 256;

/// What executing a block produced.
#[derive(Debug)]
pub struct BlockOutcome {
    /// Every changed key (commit these atomically; feed them to the state root).
    pub changes: StateChanges,
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// Block-level events (emission, epochs), before the transactions' events.
    pub events: Vec<Event>,
}

/// Block emission at a given total issuance: `base / 2^⌊log2(S / (S − issuance))⌋`, 0 once the
/// issuance reaches the supply `S` (spec §5.2; computed exactly in integers).
pub fn block_emission(base: Balance, issuance: Balance) -> Balance {
    if issuance >= TOTAL_SUPPLY {
        return 0;
    }
    let s = u128::from(TOTAL_SUPPLY);
    let rem = s - u128::from(issuance);
    let mut k = 0u32;
    while k < 63 && (rem << (k + 1)) <= s {
        k += 1;
    }
    base >> k
}

/// Verifies every signature of a body in batches of [`SIGNATURE_BATCH`]; on a failing batch,
/// finds the first bad one.
pub fn verify_signatures(
    genesis_hash: &Hash32,
    body: &[SignedTransaction],
) -> Result<(), BlockError> {
    let payloads: Vec<Vec<u8>> = body
        .iter()
        .map(|t| signing_payload(genesis_hash, t.nonce, &t.call))
        .collect();
    for (c, chunk) in body.chunks(SIGNATURE_BATCH).enumerate() {
        let start = c * SIGNATURE_BATCH;
        let items: Vec<(AccountId, &[u8], tensornet_keys::Signature)> = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    t.signer,
                    payloads[start + i].as_slice(),
                    tensornet_keys::Signature(t.signature),
                )
            })
            .collect();
        if !tensornet_keys::verify_batch(&items) {
            let bad = items
                .iter()
                .position(|(a, m, s)| !tensornet_keys::verify(a, m, s))
                .unwrap_or(0);
            return Err(BlockError::BadSignature { index: start + bad });
        }
    }
    Ok(())
}

/// Executes a block on top of `store` (whose last block must be `number − 1`), without
/// verifying signatures (see [`execute_block`]).
pub fn execute_block_unchecked(
    store: &dyn StateStore,
    number: BlockNumber,
    timestamp: u64,
    body: &[SignedTransaction],
) -> Result<BlockOutcome, BlockError> {
    let mut st = State::new(Overlay::new(store));
    let info: BlockInfo = st.get(keys::BLOCK).unwrap_or_default();
    if number != info.number + 1 {
        return Err(BlockError::BadNumber {
            expected: info.number + 1,
            got: number,
        });
    }
    if timestamp < info.timestamp {
        return Err(BlockError::BadTimestamp {
            parent: info.timestamp,
            got: timestamp,
        });
    }
    st.put(keys::BLOCK.to_vec(), &BlockInfo { number, timestamp });
    let mut events = Vec::new();
    // A failing block-start step aborts the block: no undo log needed.
    st.overlay.set_undo(false);
    on_initialize(&mut st, number, &mut events)
        .map_err(|e| BlockError::Ledger(format!("block step: {e}")))?;
    st.overlay.set_undo(true);
    st.commit_tx();
    let mut receipts = Vec::with_capacity(body.len());
    for (index, tx) in body.iter().enumerate() {
        receipts.push(apply_tx(&mut st, index, tx, number)?);
    }
    if let Some(e) = st.overlay.take_error() {
        return Err(e.into());
    }
    st.totals().check().map_err(BlockError::Ledger)?;
    let changes = st.into_changes()?;
    Ok(BlockOutcome {
        changes,
        receipts,
        events,
    })
}

/// Verifies the body's signatures (batched), then executes it (see the crate docs for the order).
pub fn execute_block(
    store: &dyn StateStore,
    genesis_hash: &Hash32,
    number: BlockNumber,
    timestamp: u64,
    body: &[SignedTransaction],
) -> Result<BlockOutcome, BlockError> {
    verify_signatures(genesis_hash, body)?;
    execute_block_unchecked(store, number, timestamp, body)
}

/// Result of checking one transaction against the current state (mempool admission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxCheck {
    /// Would succeed.
    Ok,
    /// A paying call that would fail its rules: includable (it pays its fee) but pointless.
    WouldFail(CallError),
}

/// Checks a transaction as the first of the next block, without block-start steps (emission,
/// epochs): signature, nonce, fee, and the call's rules. `Err` means "not includable now"
/// (a `BadNonce` with `got > expected` may become includable later).
pub fn check_transaction(
    store: &dyn StateStore,
    genesis_hash: &Hash32,
    tx: &SignedTransaction,
) -> Result<TxCheck, BlockError> {
    if !tx.verify(genesis_hash) {
        return Err(BlockError::BadSignature { index: 0 });
    }
    let mut st = State::new(Overlay::new(store));
    let info: BlockInfo = st.get(keys::BLOCK).unwrap_or_default();
    let r = apply_tx(&mut st, 0, tx, info.number + 1)?;
    Ok(match r.error {
        None => TxCheck::Ok,
        Some(e) => TxCheck::WouldFail(e),
    })
}

fn apply_tx(
    st: &mut State<'_>,
    index: usize,
    tx: &SignedTransaction,
    now: BlockNumber,
) -> Result<Receipt, BlockError> {
    let mut acc = st.account(&tx.signer);
    if acc.nonce != tx.nonce {
        return Err(BlockError::BadNonce {
            index,
            expected: acc.nonce,
            got: tx.nonce,
        });
    }
    let free_call = tx.call.is_free();
    let fee = if free_call { 0 } else { st.config().tx_fee };
    if acc.free < fee {
        return Err(BlockError::CannotPayFee { index });
    }
    acc.nonce += 1;
    st.set_account(&tx.signer, &acc);
    if fee > 0 {
        st.burn_free(&tx.signer, fee)
            .map_err(|_| BlockError::CannotPayFee { index })?;
    }
    st.commit_tx();
    let mut events = Vec::new();
    let result = dispatch(st, &tx.signer, &tx.call, now, &mut events);
    if let Some(e) = st.overlay.take_error() {
        return Err(e.into());
    }
    let error = match result {
        Ok(()) => {
            st.commit_tx();
            None
        }
        Err(e) => {
            st.rollback_tx();
            events.clear();
            if free_call {
                return Err(BlockError::FreeCallFailed { index, error: e });
            }
            Some(e)
        }
    };
    Ok(Receipt {
        tx_hash: tx.hash(),
        signer: tx.signer,
        nonce: tx.nonce,
        fee,
        error,
        events,
    })
}

/// Block-start steps (spec §5.1): registration price decay, emission, due epochs.
fn on_initialize(
    st: &mut State<'_>,
    now: BlockNumber,
    events: &mut Vec<Event>,
) -> Result<(), CallError> {
    let cfg = st.config();
    let netuids = st.netuids();
    let mut subs: Vec<SubnetInfo> = netuids.iter().filter_map(|n| st.subnet(*n)).collect();
    // 1. price decay
    let f = burn_decay_factor(cfg.burn_half_life);
    for s in subs.iter_mut() {
        s.burn = decayed_burn(s.burn, f, cfg.burn_min, cfg.burn_max);
    }
    // 2. emission
    let emission = block_emission(cfg.block_emission, st.totals().total_issuance());
    let total_w: u128 = subs
        .iter()
        .map(|s| u128::from(s.params.emission_weight))
        .sum();
    let mut minted = 0u64;
    if total_w > 0 && emission > 0 {
        for s in subs.iter_mut() {
            let share =
                (u128::from(emission) * u128::from(s.params.emission_weight) / total_w) as u64;
            let owner_cut = (u128::from(share) * u128::from(SUBNET_OWNER_CUT) / 65_535) as u64;
            let r = share - owner_cut;
            let server = r / 2;
            s.pending_owner_cut = s
                .pending_owner_cut
                .checked_add(owner_cut)
                .ok_or(CallError::Overflow)?;
            s.pending_server = s
                .pending_server
                .checked_add(server)
                .ok_or(CallError::Overflow)?;
            s.pending_validator = s
                .pending_validator
                .checked_add(r - server)
                .ok_or(CallError::Overflow)?;
            minted += share;
        }
        st.mint_pending(minted)?;
        events.push(Event::Emission { minted });
    }
    for s in &subs {
        st.set_subnet(s);
    }
    // 3. epochs
    let mut ran = 0u16;
    for mut s in subs {
        s.blocks_since_last_step += 1;
        let tempo = u64::from(s.params.tempo);
        let due = tempo != 0
            && ((s.pending_epoch_at > 0 && now >= s.pending_epoch_at)
                || s.blocks_since_last_step > MAX_TEMPO
                || now.saturating_sub(s.last_epoch_block) >= tempo);
        if due {
            if ran >= cfg.max_epochs_per_block {
                s.pending_epoch_at = now + 1;
                events.push(Event::EpochDeferred { netuid: s.netuid });
                st.set_subnet(&s);
                continue;
            }
            s.blocks_since_last_step = 0;
            s.last_epoch_block = now;
            s.pending_epoch_at = 0;
            s.epoch_index += 1;
            st.set_subnet(&s);
            run_epoch(st, s.netuid, now, events)?;
            ran += 1;
        } else {
            st.set_subnet(&s);
        }
    }
    Ok(())
}

/// Builds the epoch inputs of a subnet from the state (with the commit-reveal mask of spec
/// §2.6 applied to the weights) and the neuron fields they were read from.
pub fn epoch_inputs(
    st: &State<'_>,
    sub: &SubnetInfo,
    now: BlockNumber,
) -> (EpochInputs, Vec<EpochNeuron>) {
    let (inputs, neurons, _) = epoch_inputs_and_hotkeys(st, sub, now);
    (inputs, neurons)
}

/// [`epoch_inputs`], plus the hotkey record of each UID as read for its stake.
fn epoch_inputs_and_hotkeys(
    st: &State<'_>,
    sub: &SubnetInfo,
    now: BlockNumber,
) -> (EpochInputs, Vec<EpochNeuron>, Vec<Option<HotkeyInfo>>) {
    let netuid = sub.netuid;
    let n = sub.n;
    let cfg = st.config();
    let neurons = st.epoch_neurons(netuid, n);
    // Hotkey records read in key order, in one forward pass over the store, their keys laid
    // out in one buffer.
    let order = hotkey_order(&neurons, |_| true);
    let key_len = keys::hotkey(&AccountId::default()).len();
    let mut key_buf = Vec::with_capacity(key_len * order.len());
    for i in &order {
        key_buf.extend_from_slice(&keys::hotkey(&neurons[*i].hotkey));
    }
    let hotkey_keys: Vec<&[u8]> = key_buf.chunks_exact(key_len).collect();
    let mut hotkeys: Vec<Option<HotkeyInfo>> = vec![None; neurons.len()];
    let mut corrupt = false;
    st.overlay.read_sorted(&hotkey_keys, &mut |j, v| {
        if let Some(mut b) = v {
            match HotkeyInfo::decode(&mut b) {
                Ok(h) => hotkeys[order[j]] = Some(h),
                Err(_) => corrupt = true,
            }
        }
    });
    if corrupt {
        st.overlay.fail(StoreError(format!(
            "corrupt hotkey record on subnet {netuid}"
        )));
    }
    let stake: Vec<u64> = hotkeys
        .iter()
        .map(|h| h.as_ref().map_or(0, |h| h.total_stake))
        .collect();
    let reg: Vec<u64> = neurons.iter().map(|nr| nr.block_at_registration).collect();
    let mut weights: Vec<Vec<(u16, u16)>> = st.rows(netuid, n, false);
    if sub.params.commit_reveal_enabled {
        let cur = sub.epoch_index;
        let rp = sub.params.reveal_period;
        for (hotkey, queue) in st.all_commits(netuid) {
            let Some(first) = queue.iter().find(|c| cur <= c.epoch.saturating_add(rp)) else {
                continue;
            };
            let Some(uid) = st.uid_of(netuid, &hotkey) else {
                continue;
            };
            if let Some(row) = weights.get_mut(usize::from(uid)) {
                row.retain(|(j, _)| reg.get(usize::from(*j)).is_none_or(|r| first.block >= *r));
            }
        }
    }
    let p = &sub.params;
    let inputs = EpochInputs {
        n,
        current_block: now,
        tempo: p.tempo,
        last_mechanism_step_block: sub.last_mechanism_step_block,
        activity_cutoff: p.activity_cutoff,
        rao_emission: sub.pending_server + sub.pending_validator,
        hyperparameters: Hyperparameters {
            kappa: p.kappa,
            bonds_moving_average: p.bonds_moving_average,
            bonds_penalty: p.bonds_penalty,
            yuma3_enabled: p.yuma3_enabled,
            liquid_alpha_enabled: p.liquid_alpha_enabled,
            alpha_low: p.alpha_low,
            alpha_high: p.alpha_high,
            alpha_sigmoid_steepness: p.alpha_sigmoid_steepness,
            max_allowed_validators: p.max_allowed_validators,
            stake_threshold: cfg.stake_threshold,
        },
        owner_uid: st.uid_of(netuid, &sub.owner_hotkey),
        stake,
        last_update: neurons.iter().map(|nr| nr.last_update).collect(),
        block_at_registration: reg,
        validator_permit: neurons.iter().map(|nr| nr.validator_permit).collect(),
        weights,
        bonds: st.rows(netuid, n, true),
    };
    (inputs, neurons, hotkeys)
}

/// The UIDs `i` with `keep(i)`, in the order of their hotkeys (then UID): sorted by the
/// hotkey's first 8 bytes as one integer, the whole key only to break ties.
fn hotkey_order(neurons: &[EpochNeuron], keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let head = |h: &AccountId| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&h.0[..8]);
        u64::from_be_bytes(b)
    };
    let mut order: Vec<(u64, usize)> = neurons
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(i, nr)| (head(&nr.hotkey), i))
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| neurons[a.1].hotkey.cmp(&neurons[b.1].hotkey))
            .then(a.1.cmp(&b.1))
    });
    order.into_iter().map(|(_, i)| i).collect()
}

/// Runs one subnet's epoch and pays its emission (spec §5.2 as simplified by the issue).
fn run_epoch(
    st: &mut State<'_>,
    netuid: NetUid,
    now: BlockNumber,
    events: &mut Vec<Event>,
) -> Result<(), CallError> {
    let Some(mut sub) = st.subnet(netuid) else {
        return Ok(());
    };
    let (inputs, neurons, hotkeys) = epoch_inputs_and_hotkeys(st, &sub, now);
    let rao_emission = inputs.rao_emission;
    let out = match tensornet_yuma::epoch(&inputs) {
        Ok(o) => o,
        Err(e) => {
            events.push(Event::EpochFailed {
                netuid,
                error: e.to_string(),
            });
            return Ok(());
        }
    };
    let n = usize::from(sub.n);
    let lens_ok = [
        out.active.len(),
        out.validator_permit.len(),
        out.stake_weight.len(),
        out.consensus.len(),
        out.incentive.len(),
        out.dividends.len(),
        out.validator_trust.len(),
        out.server_emission.len(),
        out.validator_emission.len(),
        out.emission.len(),
        out.bonds.len(),
    ]
    .iter()
    .all(|l| *l == n);
    let paid: u128 = out
        .server_emission
        .iter()
        .chain(out.validator_emission.iter())
        .map(|v| u128::from(*v))
        .sum();
    if !lens_ok || paid > u128::from(rao_emission) {
        events.push(Event::EpochFailed {
            netuid,
            error: "epoch outputs inconsistent with its inputs".into(),
        });
        return Ok(());
    }
    let owner_cut = sub.pending_owner_cut;
    sub.pending_server = 0;
    sub.pending_validator = 0;
    sub.pending_owner_cut = 0;
    let (paid_out, listed) = pay_out(st, &sub, &neurons, &hotkeys, &out, owner_cut)?;
    let emission: Vec<UidEmission> = (0..n)
        .filter(|i| listed[*i])
        .map(|i| UidEmission {
            uid: i as u16,
            hotkey: neurons[i].hotkey,
            server: out.server_emission[i],
            validator: out.validator_emission[i],
        })
        .collect();
    // Everything handed to the epoch and not paid (owner incentive, rounding dust) is burned.
    let burned = rao_emission - paid_out;
    st.burn_pending(burned)?;
    let outs: Vec<NeuronOutputs> = (0..n)
        .map(|i| NeuronOutputs {
            active: out.active[i],
            validator_permit: out.validator_permit[i],
            stake_weight: out.stake_weight[i],
            consensus: out.consensus[i],
            incentive: out.incentive[i],
            dividends: out.dividends[i],
            validator_trust: out.validator_trust[i],
            emission: out.emission[i],
        })
        .collect();
    st.set_outputs(netuid, &outs);
    for (uid, row) in encode_changed_rows(&inputs.bonds, &out.bonds) {
        match row {
            Some(bytes) => st.overlay.put(keys::bonds(netuid, uid), bytes),
            None => st.overlay.delete(keys::bonds(netuid, uid)),
        }
    }
    sub.last_mechanism_step_block = now;
    st.set_subnet(&sub);
    events.push(Event::EpochRan {
        netuid,
        epoch_index: sub.epoch_index,
        rao_emission,
        owner_cut,
        burned,
        emission,
    });
    Ok(())
}

/// The rows of `new` that differ from `old`, encoded ([`crate::state::encode_row`]; `None`
/// for an empty row, which is deleted), by UID.
fn encode_changed_rows(
    old: &[Vec<(u16, u16)>],
    new: &[Vec<(u16, u16)>],
) -> Vec<(u16, Option<Vec<u8>>)> {
    old.iter()
        .zip(new)
        .enumerate()
        .filter(|(_, (o, n))| o != n)
        .map(|(i, (_, n))| {
            (
                i as u16,
                (!n.is_empty()).then(|| crate::state::encode_row(n)),
            )
        })
        .collect()
}

/// Pays an epoch's outputs: the owner cut, then every paid UID's credits (see the crate
/// docs). Returns the rao paid out of the epoch's emission and which UIDs were paid (listed
/// in the epoch event).
fn pay_out(
    st: &mut State<'_>,
    sub: &SubnetInfo,
    neurons: &[EpochNeuron],
    hotkeys: &[Option<HotkeyInfo>],
    out: &tensornet_yuma::EpochOutputs,
    owner_cut: Balance,
) -> Result<(Balance, Vec<bool>), CallError> {
    let n = neurons.len();
    // Owner cut → stake on the owner hotkey.
    st.stake_from_pending(&sub.owner_hotkey, &sub.owner, owner_cut)?;
    let mut listed = vec![false; n];
    let mut paid_out = 0u64;
    let mut credits = Vec::new();
    // The paid UIDs in hotkey order (neighbouring store reads, writes already in key order;
    // the order of independent payouts does not change the result).
    let paid = hotkey_order(neurons, |i| {
        out.server_emission[i] > 0 || out.validator_emission[i] > 0
    });
    // The payouts' writes, applied in one batch after the loop: each paid hotkey's keys are
    // read and written in its own iteration only, so no iteration needs another's pending
    // writes — unless a hotkey held two paid UIDs (corrupt state), then they are applied at
    // once.
    let mut writes = Vec::new();
    let distinct = paid
        .windows(2)
        .all(|p| neurons[p[0]].hotkey != neurons[p[1]].hotkey);
    for i in paid {
        let nr = &neurons[i];
        let se = out.server_emission[i];
        let ve = out.validator_emission[i];
        // The record read for the inputs is current: only the owner hotkey's has changed
        // since (owner cut), and each hotkey holds one UID of the subnet.
        let hk = if nr.hotkey == sub.owner_hotkey {
            st.hotkey(&nr.hotkey)
        } else {
            hotkeys.get(i).cloned().flatten()
        };
        let Some(hk) = hk else {
            continue;
        };
        listed[i] = true;
        // Every credit to this hotkey's stakes, applied at once.
        credits.clear();
        if ve > 0 {
            let take = (u128::from(ve) * u128::from(hk.take) / 65_535) as u64;
            let rest = ve - take;
            let stakers = st.stakers_of(&nr.hotkey, &hk);
            let total: u128 = stakers.iter().map(|(_, s)| u128::from(*s)).sum();
            let mut given = take;
            if total == 0 {
                credits.push((hk.owner, ve));
                given = ve;
            } else {
                credits.push((hk.owner, take));
                for (c, s) in &stakers {
                    let amt = (u128::from(rest) * u128::from(*s))
                        .checked_div(total)
                        .unwrap_or(0) as u64;
                    credits.push((*c, amt));
                    given += amt;
                }
            }
            paid_out += given;
        }
        if se > 0 {
            // Incentive owed to a hotkey of the owner's coldkey is not paid (burned below).
            if hk.owner != sub.owner {
                credits.push((hk.owner, se));
                paid_out += se;
            }
        }
        st.stake_many_from_pending(&nr.hotkey, hk, &mut credits, &mut writes)?;
        if !distinct {
            st.overlay.put_changed(std::mem::take(&mut writes));
        }
    }
    st.overlay.put_changed(writes);
    Ok((paid_out, listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving() {
        assert_eq!(block_emission(1_000_000_000, 0), 1_000_000_000);
        assert_eq!(
            block_emission(1_000_000_000, TOTAL_SUPPLY / 2 - 1),
            1_000_000_000
        );
        assert_eq!(block_emission(1_000_000_000, TOTAL_SUPPLY / 2), 500_000_000);
        assert_eq!(
            block_emission(1_000_000_000, TOTAL_SUPPLY / 4 * 3),
            250_000_000
        );
        assert_eq!(block_emission(1_000_000_000, TOTAL_SUPPLY), 0);
    }
}
