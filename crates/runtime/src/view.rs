//! Read-only views of a state store: the metagraph, accounts, stake, and a full ledger audit.

use crate::state::{
    keys, AccountInfo, AxonInfo, ChainConfig, HotkeyInfo, Neuron, State, SubnetInfo, SubnetParams,
    Totals,
};
use crate::store::{Overlay, StateStore, StoreError};
use parity_scale_codec::Decode;
use serde::{Deserialize, Serialize};
use tensornet_primitives::{AccountId, Balance, BlockNumber, NetUid, Uid};

/// One UID in a [`Metagraph`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronView {
    /// UID.
    pub uid: Uid,
    /// Hotkey.
    pub hotkey: AccountId,
    /// Owner coldkey of the hotkey.
    pub coldkey: AccountId,
    /// Total stake on the hotkey, rao.
    pub stake: Balance,
    /// Validator permit.
    pub validator_permit: bool,
    /// Active.
    pub active: bool,
    /// Last weights set / commit block.
    pub last_update: BlockNumber,
    /// Registration block.
    pub block_at_registration: BlockNumber,
    /// Consensus `/65535`.
    pub consensus: u16,
    /// Incentive `/65535`.
    pub incentive: u16,
    /// Dividends `/65535`.
    pub dividends: u16,
    /// Validator trust `/65535`.
    pub validator_trust: u16,
    /// Stake weight `/65535`.
    pub stake_weight: u16,
    /// Last epoch emission, rao.
    pub emission: Balance,
    /// Delegate take `/65535`.
    pub take: u16,
    /// Axon.
    pub axon: Option<AxonInfo>,
    /// Weights row (when requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<(u16, u16)>>,
    /// Bonds row (when requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonds: Option<Vec<(u16, u16)>>,
}

/// A subnet's full metagraph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metagraph {
    /// Block the view was read at.
    pub block: BlockNumber,
    /// Subnet record (owner, lock, price, pending emission, scheduler state, hyperparameters).
    pub subnet: SubnetInfo,
    /// Per UID, ascending.
    pub neurons: Vec<NeuronView>,
}

/// Reads a subnet's metagraph; `with_matrices` adds weight and bond rows.
pub fn metagraph(
    store: &dyn StateStore,
    netuid: NetUid,
    with_matrices: bool,
) -> Result<Option<Metagraph>, StoreError> {
    let st = State::new(Overlay::new(store));
    let Some(subnet) = st.subnet(netuid) else {
        return check(&st, None);
    };
    let block = st
        .get::<crate::state::BlockInfo>(keys::BLOCK)
        .unwrap_or_default()
        .number;
    let mut neurons = Vec::with_capacity(usize::from(subnet.n));
    for (uid, n) in st.neurons(netuid, subnet.n).into_iter().enumerate() {
        if let Some(n) = n {
            neurons.push(neuron_entry(&st, netuid, uid as u16, n, with_matrices));
        }
    }
    check(
        &st,
        Some(Metagraph {
            block,
            subnet,
            neurons,
        }),
    )
}

/// The metagraph entry of the neuron registered under `hotkey` on `netuid`, if any
/// (`Ok(None)` also when the subnet does not exist).
pub fn neuron(
    store: &dyn StateStore,
    netuid: NetUid,
    hotkey: &AccountId,
) -> Result<Option<NeuronView>, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.uid_of(netuid, hotkey).and_then(|uid| {
        Some(neuron_entry(
            &st,
            netuid,
            uid,
            st.neuron(netuid, uid)?,
            false,
        ))
    });
    check(&st, v)
}

/// One neuron's entry: its record plus the owner, stake and take of its hotkey.
fn neuron_entry(
    st: &State<'_>,
    netuid: NetUid,
    uid: u16,
    n: Neuron,
    with_matrices: bool,
) -> NeuronView {
    let hk: Option<HotkeyInfo> = st.hotkey(&n.hotkey);
    NeuronView {
        uid,
        hotkey: n.hotkey,
        coldkey: hk.as_ref().map(|h| h.owner).unwrap_or_default(),
        stake: hk.as_ref().map(|h| h.total_stake).unwrap_or(0),
        validator_permit: n.validator_permit,
        active: n.active,
        last_update: n.last_update,
        block_at_registration: n.block_at_registration,
        consensus: n.consensus,
        incentive: n.incentive,
        dividends: n.dividends,
        validator_trust: n.validator_trust,
        stake_weight: n.stake_weight,
        emission: n.emission,
        take: hk.as_ref().map(|h| h.take).unwrap_or(0),
        axon: n.axon,
        weights: with_matrices.then(|| st.weights(netuid, uid)),
        bonds: with_matrices.then(|| st.bonds(netuid, uid)),
    }
}

fn check<T>(st: &State<'_>, v: T) -> Result<T, StoreError> {
    match st.overlay.take_error() {
        Some(e) => Err(e),
        None => Ok(v),
    }
}

/// An account (nonce, free balance).
pub fn account(store: &dyn StateStore, a: &AccountId) -> Result<AccountInfo, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.account(a);
    check(&st, v)
}

/// A hotkey's record.
pub fn hotkey(store: &dyn StateStore, h: &AccountId) -> Result<Option<HotkeyInfo>, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.hotkey(h);
    check(&st, v)
}

/// The stake of `coldkey` on `hotkey`.
pub fn stake(
    store: &dyn StateStore,
    hotkey: &AccountId,
    coldkey: &AccountId,
) -> Result<Balance, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.stake(hotkey, coldkey);
    check(&st, v)
}

/// Every stake a coldkey owns, as `(hotkey, amount)` in hotkey order: its own stake on the
/// hotkeys it owns (kept in their records) and its nominator entries on other hotkeys. A full
/// scan of the hotkeys and the stake entries.
pub fn coldkey_stakes(
    store: &dyn StateStore,
    coldkey: &AccountId,
) -> Result<Vec<(AccountId, Balance)>, StoreError> {
    let mut out = Vec::new();
    let mut bad = None;
    store.for_each_prefix(&[keys::HOTKEY], &mut |k, mut v| {
        let (Some(h), Ok(rec)) = (account_at(k, 1), HotkeyInfo::decode(&mut v)) else {
            bad = Some(k.to_vec());
            return;
        };
        if rec.owner == *coldkey && rec.owner_stake > 0 {
            out.push((h, rec.owner_stake));
        }
    })?;
    store.for_each_prefix(&[keys::STAKE], &mut |k, mut v| {
        if k.get(33..65) != Some(coldkey.0.as_slice()) {
            return;
        }
        match (account_at(k, 1), u64::decode(&mut v)) {
            (Some(h), Ok(amount)) => out.push((h, amount)),
            _ => bad = Some(k.to_vec()),
        }
    })?;
    if let Some(k) = bad {
        return Err(StoreError(format!(
            "corrupt stake or hotkey under key {k:02x?}"
        )));
    }
    out.sort_by_key(|(h, _)| *h);
    Ok(out)
}

/// The account id in `bytes[at .. at + 32]`, if that long.
fn account_at(bytes: &[u8], at: usize) -> Option<AccountId> {
    let a: [u8; 32] = bytes.get(at..at + 32)?.try_into().ok()?;
    Some(AccountId(a))
}

/// The chain configuration.
pub fn config(store: &dyn StateStore) -> Result<ChainConfig, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.config();
    check(&st, v)
}

/// The ledger aggregates.
pub fn totals(store: &dyn StateStore) -> Result<Totals, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.totals();
    check(&st, v)
}

/// Every subnet, ascending netuid.
pub fn subnets(store: &dyn StateStore) -> Result<Vec<SubnetInfo>, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st
        .netuids()
        .into_iter()
        .filter_map(|n| st.subnet(n))
        .collect();
    check(&st, v)
}

/// A subnet's hyperparameters.
pub fn hyperparameters(
    store: &dyn StateStore,
    netuid: NetUid,
) -> Result<Option<SubnetParams>, StoreError> {
    let st = State::new(Overlay::new(store));
    let v = st.subnet(netuid).map(|s| s.params);
    check(&st, v)
}

/// Recomputes every ledger bucket from the records (a full scan) and checks it against the
/// stored aggregates and the invariant `minted = free + staked + pending + locked + burned`.
/// Also checks each hotkey's record against its stake entries: `total_stake` = the owner's
/// stake plus every nominator entry, `nominators` = the number of those entries, and no
/// entry belongs to the owner coldkey (its stake is in the record).
pub fn audit_ledger(store: &dyn StateStore) -> Result<Totals, String> {
    let all = store.scan_prefix(&[]).map_err(|e| e.to_string())?;
    let mut free = 0u128;
    let mut staked = 0u128;
    let mut pending = 0u128;
    let mut locked = 0u128;
    /// One hotkey's nominator entries as scanned.
    #[derive(Clone, Default)]
    struct Entries {
        sum: u128,
        count: u64,
        coldkeys: Vec<[u8; 32]>,
    }
    let mut entries: std::collections::BTreeMap<[u8; 32], Entries> = Default::default();
    let mut records: std::collections::BTreeMap<[u8; 32], HotkeyInfo> = Default::default();
    let mut totals: Option<Totals> = None;
    for (k, v) in &all {
        let dec_err = |e: parity_scale_codec::Error| format!("key {k:02x?}: {e}");
        match k.first() {
            Some(&keys::ACCOUNT) => {
                free += u128::from(
                    AccountInfo::decode(&mut v.as_slice())
                        .map_err(dec_err)?
                        .free,
                )
            }
            Some(&keys::STAKE) => {
                let s = u64::decode(&mut v.as_slice()).map_err(dec_err)?;
                let h: [u8; 32] = k
                    .get(1..33)
                    .and_then(|x| x.try_into().ok())
                    .ok_or("bad stake key")?;
                let c: [u8; 32] = k
                    .get(33..65)
                    .and_then(|x| x.try_into().ok())
                    .ok_or("bad stake key")?;
                let e = entries.entry(h).or_default();
                e.sum += u128::from(s);
                e.count += 1;
                e.coldkeys.push(c);
            }
            Some(&keys::HOTKEY) => {
                let h = HotkeyInfo::decode(&mut v.as_slice()).map_err(dec_err)?;
                let id: [u8; 32] = k
                    .get(1..33)
                    .and_then(|x| x.try_into().ok())
                    .ok_or("bad hotkey key")?;
                staked += u128::from(h.total_stake);
                records.insert(id, h);
            }
            Some(&keys::SUBNET) => {
                let s = SubnetInfo::decode(&mut v.as_slice()).map_err(dec_err)?;
                pending += u128::from(s.pending_server)
                    + u128::from(s.pending_validator)
                    + u128::from(s.pending_owner_cut);
                locked += u128::from(s.lock);
            }
            _ if k.as_slice() == keys::TOTALS => {
                totals = Some(Totals::decode(&mut v.as_slice()).map_err(dec_err)?)
            }
            _ => {}
        }
    }
    let t = totals.unwrap_or_default();
    for h in entries.keys() {
        if !records.contains_key(h) {
            return Err(format!("stake entries on unknown hotkey {}", AccountId(*h)));
        }
    }
    for (h, rec) in &records {
        let Entries {
            sum,
            count,
            coldkeys,
        } = entries.get(h).cloned().unwrap_or_default();
        if coldkeys.contains(&rec.owner.0) {
            return Err(format!(
                "hotkey {} has a stake entry of its owner (the owner's stake belongs in the record)",
                AccountId(*h)
            ));
        }
        if u128::from(rec.total_stake) != u128::from(rec.owner_stake) + sum {
            return Err(format!(
                "hotkey {} total_stake differs from its owner stake plus its stake entries",
                AccountId(*h)
            ));
        }
        if u64::from(rec.nominators) != count {
            return Err(format!(
                "hotkey {} counts {} nominators but has {count} stake entries",
                AccountId(*h),
                rec.nominators
            ));
        }
    }
    let scanned = (free, staked, pending, locked);
    let stored = (
        u128::from(t.free),
        u128::from(t.staked),
        u128::from(t.pending),
        u128::from(t.locked),
    );
    if scanned != stored {
        return Err(format!(
            "scanned (free, staked, pending, locked) = {scanned:?}, aggregates {stored:?}"
        ));
    }
    t.check()?;
    Ok(t)
}
