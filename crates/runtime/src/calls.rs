//! The calls: each checks its rules in order and either changes the state or returns a
//! [`CallError`] (the block executor then rolls the call's writes back).

use crate::state::{keys, AxonInfo, HotkeyInfo, Neuron, State, SubnetInfo, WeightCommit};
use crate::types::{commit_hash, Call, CallError, Event, GlobalParam, Hyperparameter, SudoCall};
use tensornet_primitives::{AccountId, Balance, BlockNumber, Hash32, NetUid, Uid};

/// Most pending weight commits one hotkey may hold on one subnet.
pub const MAX_PENDING_COMMITS: usize = 10;
/// Largest `max_allowed_uids` root may set.
pub const MAX_UIDS_LIMIT: u16 = 4096;
/// Owner `set_tempo` range.
pub const OWNER_TEMPO_RANGE: (u16, u16) = (360, 50_400);
/// Owner bound of `bonds_moving_average`.
pub const OWNER_MAX_BONDS_MOVING_AVERAGE: u64 = 975_000;
/// Lower bound of liquid alpha values (⌊65535/40⌋).
pub const ALPHA_MIN: u16 = 1638;

/// Executes one call for `signer` at block `now`, pushing its events.
pub fn dispatch(
    st: &mut State<'_>,
    signer: &AccountId,
    call: &Call,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    match call {
        Call::Transfer { dest, amount } => {
            if *amount == 0 {
                return Err(CallError::ZeroAmount);
            }
            st.transfer(signer, dest, *amount)?;
            ev.push(Event::Transfer {
                from: *signer,
                to: *dest,
                amount: *amount,
            });
            Ok(())
        }
        Call::RegisterNetwork { hotkey } => register_network(st, signer, hotkey, now, ev),
        Call::BurnedRegister {
            netuid,
            hotkey,
            max_price,
        } => burned_register(st, signer, *netuid, hotkey, *max_price, now, ev),
        Call::ServeAxon {
            netuid,
            ip,
            port,
            ip_type,
            protocol,
            version,
        } => {
            let axon = AxonInfo {
                block: now,
                version: *version,
                ip: *ip,
                port: *port,
                ip_type: *ip_type,
                protocol: *protocol,
            };
            serve_axon(st, signer, *netuid, axon, now, ev)
        }
        Call::SetWeights {
            netuid,
            uids,
            values,
            version_key,
        } => {
            let uid = set_weights(st, signer, *netuid, uids, values, *version_key, false, now)?;
            ev.push(Event::WeightsSet {
                netuid: *netuid,
                uid,
            });
            Ok(())
        }
        Call::CommitWeights { netuid, hash } => commit_weights(st, signer, *netuid, *hash, now, ev),
        Call::RevealWeights {
            netuid,
            uids,
            values,
            salt,
            version_key,
        } => reveal_weights(
            st,
            signer,
            *netuid,
            uids,
            values,
            salt,
            *version_key,
            now,
            ev,
        ),
        Call::AddStake { hotkey, amount } => {
            if *amount == 0 {
                return Err(CallError::ZeroAmount);
            }
            if st.hotkey(hotkey).is_none() {
                return Err(CallError::HotkeyNotFound);
            }
            st.stake_from_free(signer, hotkey, *amount)?;
            ev.push(Event::StakeAdded {
                coldkey: *signer,
                hotkey: *hotkey,
                amount: *amount,
            });
            Ok(())
        }
        Call::RemoveStake { hotkey, amount } => {
            if *amount == 0 {
                return Err(CallError::ZeroAmount);
            }
            if st.hotkey(hotkey).is_none() {
                return Err(CallError::HotkeyNotFound);
            }
            st.unstake_to_free(signer, hotkey, *amount)?;
            ev.push(Event::StakeRemoved {
                coldkey: *signer,
                hotkey: *hotkey,
                amount: *amount,
            });
            Ok(())
        }
        Call::IncreaseTake { hotkey, take } => set_take(st, signer, hotkey, *take, true, now, ev),
        Call::DecreaseTake { hotkey, take } => set_take(st, signer, hotkey, *take, false, now, ev),
        Call::SetHyperparameter { netuid, param } => {
            let mut sub = st.subnet(*netuid).ok_or(CallError::SubnetNotFound)?;
            if sub.owner != *signer {
                return Err(CallError::NotSubnetOwner);
            }
            apply_hyperparameter(&mut sub, param, true, now)?;
            st.set_subnet(&sub);
            ev.push(Event::HyperparameterSet {
                netuid: *netuid,
                param: param.clone(),
            });
            Ok(())
        }
        Call::Sudo(inner) => {
            let mut cfg = st.config();
            if cfg.root != *signer {
                return Err(CallError::NotRoot);
            }
            match inner {
                SudoCall::SetHyperparameter { netuid, param } => {
                    let mut sub = st.subnet(*netuid).ok_or(CallError::SubnetNotFound)?;
                    apply_hyperparameter(&mut sub, param, false, now)?;
                    st.set_subnet(&sub);
                    ev.push(Event::HyperparameterSet {
                        netuid: *netuid,
                        param: param.clone(),
                    });
                }
                SudoCall::SetGlobal(p) => {
                    match p {
                        GlobalParam::BlockEmission(v) => cfg.block_emission = *v,
                        GlobalParam::TxFee(v) => cfg.tx_fee = *v,
                        GlobalParam::StakeThreshold(v) => cfg.stake_threshold = *v,
                        GlobalParam::NetworkMinLock(v) => cfg.network_min_lock = *v,
                        GlobalParam::NetworkLockReductionInterval(v) => {
                            if *v == 0 {
                                return Err(CallError::OutOfRange);
                            }
                            cfg.network_lock_reduction_interval = *v
                        }
                        GlobalParam::MaxTake(v) => cfg.max_take = *v,
                        GlobalParam::TakeRateLimit(v) => cfg.take_rate_limit = *v,
                        GlobalParam::AllowPrivateAxons(v) => cfg.allow_private_axons = *v,
                        GlobalParam::MaxEpochsPerBlock(v) => {
                            if *v == 0 {
                                return Err(CallError::OutOfRange);
                            }
                            cfg.max_epochs_per_block = *v
                        }
                        GlobalParam::Root(r) => cfg.root = *r,
                    }
                    st.put(keys::CONFIG.to_vec(), &cfg);
                    ev.push(Event::GlobalParamSet(p.clone()));
                }
            }
            Ok(())
        }
    }
}

/// The network lock cost at block `now` (reference `get_network_lock_cost`): twice the last
/// lock, minus `last/interval` per block since the last registration, at least the minimum.
pub fn network_lock_cost(cfg: &crate::state::ChainConfig, now: BlockNumber) -> Balance {
    let last = cfg.network_last_lock;
    let mult = if cfg.network_last_lock_block == 0 {
        1
    } else {
        2
    };
    let decay = (last / cfg.network_lock_reduction_interval.max(1))
        .saturating_mul(now.saturating_sub(cfg.network_last_lock_block));
    last.saturating_mul(mult)
        .saturating_sub(decay)
        .max(cfg.network_min_lock)
}

fn ensure_hotkey(
    st: &mut State<'_>,
    coldkey: &AccountId,
    hotkey: &AccountId,
) -> Result<(), CallError> {
    match st.hotkey(hotkey) {
        Some(h) if h.owner != *coldkey => Err(CallError::HotkeyOwnedByOther),
        Some(_) => Ok(()),
        None => {
            let take = st.config().default_take;
            st.put(keys::hotkey(hotkey), &HotkeyInfo::new(*coldkey, take));
            Ok(())
        }
    }
}

/// Creates a subnet (used by `register_network` and genesis); the owner hotkey gets UID 0.
pub fn create_subnet(
    st: &mut State<'_>,
    netuid: NetUid,
    owner: &AccountId,
    hotkey: &AccountId,
    lock: Balance,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    ensure_hotkey(st, owner, hotkey)?;
    let cfg = st.config();
    let params = cfg.new_subnet.clone();
    let stagger = if params.tempo == 0 {
        0
    } else {
        u64::from(netuid % params.tempo)
    };
    let sub = SubnetInfo {
        netuid,
        owner: *owner,
        owner_hotkey: *hotkey,
        lock,
        registered_at: now,
        n: 1,
        burn: cfg.burn_initial,
        pending_server: 0,
        pending_validator: 0,
        pending_owner_cut: 0,
        // Stagger (spec §5.1): the first epoch is due `tempo − netuid mod tempo` blocks from
        // now; before block `stagger` that cannot be expressed as a past epoch block, so it is
        // scheduled through `pending_epoch_at` instead.
        last_epoch_block: now.saturating_sub(stagger),
        pending_epoch_at: if now < stagger && stagger > 0 {
            now + u64::from(params.tempo) - stagger
        } else {
            0
        },
        blocks_since_last_step: 0,
        epoch_index: 0,
        last_mechanism_step_block: 0,
        params,
    };
    st.set_subnet(&sub);
    st.set_neuron(netuid, 0, &Neuron::new(*hotkey, now));
    st.put(keys::uid(netuid, hotkey), &0u16);
    ev.push(Event::NetworkRegistered {
        netuid,
        owner: *owner,
        hotkey: *hotkey,
        lock,
    });
    ev.push(Event::NeuronRegistered {
        netuid,
        uid: 0,
        hotkey: *hotkey,
        price: 0,
    });
    Ok(())
}

fn register_network(
    st: &mut State<'_>,
    signer: &AccountId,
    hotkey: &AccountId,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    if let Some(h) = st.hotkey(hotkey) {
        if h.owner != *signer {
            return Err(CallError::HotkeyOwnedByOther);
        }
    }
    let mut cfg = st.config();
    let used = st.netuids();
    let netuid = (1..=cfg.max_subnets)
        .find(|n| used.binary_search(n).is_err())
        .ok_or(CallError::TooManySubnets)?;
    let lock = network_lock_cost(&cfg, now);
    st.lock_free(signer, lock)?;
    cfg.network_last_lock = lock;
    cfg.network_last_lock_block = now;
    st.put(keys::CONFIG.to_vec(), &cfg);
    create_subnet(st, netuid, signer, hotkey, lock, now, ev)
}

/// The UID `burned_register` replaces on a full subnet (spec §5.3), if any.
pub fn uid_to_prune(st: &State<'_>, sub: &SubnetInfo, now: BlockNumber) -> Option<Uid> {
    let cfg = st.config();
    let neurons: Vec<(Uid, Neuron)> = st
        .neurons(sub.netuid, sub.n)
        .into_iter()
        .enumerate()
        .filter_map(|(u, n)| n.map(|n| (u as Uid, n)))
        .collect();
    // Owner-immortal: the owner hotkey plus the earliest-registered owner-coldkey hotkeys.
    let mut owned: Vec<(BlockNumber, Uid)> = neurons
        .iter()
        .filter(|(_, n)| n.hotkey != sub.owner_hotkey)
        .filter(|(_, n)| st.hotkey(&n.hotkey).map(|h| h.owner) == Some(sub.owner))
        .map(|(u, n)| (n.block_at_registration, *u))
        .collect();
    owned.sort();
    owned.truncate(usize::from(cfg.immune_owner_uids_limit));
    let immortal =
        |u: Uid, n: &Neuron| n.hotkey == sub.owner_hotkey || owned.iter().any(|(_, o)| *o == u);
    let mut immune = Vec::new();
    let mut mortal = Vec::new();
    for (u, n) in &neurons {
        if immortal(*u, n) {
            continue;
        }
        let key = (n.emission, n.block_at_registration, *u);
        if now.saturating_sub(n.block_at_registration) < u64::from(sub.params.immunity_period) {
            immune.push(key);
        } else {
            mortal.push(key);
        }
    }
    let best = |v: &Vec<(Balance, BlockNumber, Uid)>| v.iter().min().map(|k| k.2);
    if mortal.len() > usize::from(cfg.min_non_immune_uids) {
        best(&mortal)
    } else {
        best(&immune).or_else(|| best(&mortal))
    }
}

/// The registration price after one block of decay: `price × f` with `f^half_life = ½` in
/// Q32 (bisection), clamped to `[min, max]`.
pub fn decayed_burn(price: Balance, factor_q32: u64, min: Balance, max: Balance) -> Balance {
    let p = ((u128::from(price) * u128::from(factor_q32)) >> 32) as u64;
    p.clamp(min, max.max(min))
}

/// The Q32 per-block decay factor `f` with `f^half_life ≈ ½` (largest f with `f^h ≤ ½`).
pub fn burn_decay_factor(half_life: u64) -> u64 {
    if half_life == 0 {
        return 1 << 32;
    }
    let pow = |f: u64| -> u64 {
        // f^h in Q32 by square-and-multiply, flooring each product.
        let mut result: u128 = 1 << 32;
        let mut base: u128 = u128::from(f);
        let mut e = half_life;
        while e > 0 {
            if e & 1 == 1 {
                result = (result * base) >> 32;
            }
            base = (base * base) >> 32;
            e >>= 1;
        }
        result as u64
    };
    let (mut lo, mut hi) = (0u64, 1u64 << 32);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pow(mid) <= 1 << 31 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

fn burned_register(
    st: &mut State<'_>,
    signer: &AccountId,
    netuid: NetUid,
    hotkey: &AccountId,
    max_price: Option<Balance>,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    let mut sub = st.subnet(netuid).ok_or(CallError::SubnetNotFound)?;
    if let Some(h) = st.hotkey(hotkey) {
        if h.owner != *signer {
            return Err(CallError::HotkeyOwnedByOther);
        }
    }
    if st.uid_of(netuid, hotkey).is_some() {
        return Err(CallError::AlreadyRegistered);
    }
    let price = sub.burn;
    if let Some(m) = max_price {
        if price > m {
            return Err(CallError::PriceTooHigh { price });
        }
    }
    let uid = if sub.n < sub.params.max_allowed_uids {
        let uid = sub.n;
        sub.n += 1;
        uid
    } else {
        let uid = uid_to_prune(st, &sub, now).ok_or(CallError::NoPrunableUid)?;
        prune_uid(st, &sub, uid, ev);
        uid
    };
    st.burn_free(signer, price)?;
    ensure_hotkey(st, signer, hotkey)?;
    st.set_neuron(netuid, uid, &Neuron::new(*hotkey, now));
    st.put(keys::uid(netuid, hotkey), &uid);
    let cfg = st.config();
    let bumped = (u128::from(price) * u128::from(cfg.burn_increase_percent) / 100)
        .min(u128::from(u64::MAX)) as u64;
    sub.burn = bumped.clamp(cfg.burn_min, cfg.burn_max.max(cfg.burn_min));
    st.set_subnet(&sub);
    ev.push(Event::NeuronRegistered {
        netuid,
        uid,
        hotkey: *hotkey,
        price,
    });
    Ok(())
}

/// Clears a UID for its new hotkey (spec §5.3): the old hotkey's mapping, commits, own weights
/// and bonds rows; other rows' entries pointing at the UID are zeroed but kept.
fn prune_uid(st: &mut State<'_>, sub: &SubnetInfo, uid: Uid, ev: &mut Vec<Event>) {
    let netuid = sub.netuid;
    if let Some(old) = st.neuron(netuid, uid) {
        st.delete(keys::uid(netuid, &old.hotkey));
        st.delete(keys::commits(netuid, &old.hotkey));
        ev.push(Event::NeuronPruned {
            netuid,
            uid,
            hotkey: old.hotkey,
        });
    }
    st.delete(keys::weights(netuid, uid));
    st.delete(keys::bonds(netuid, uid));
    for other in 0..sub.n {
        if other == uid {
            continue;
        }
        let mut row = st.weights(netuid, other);
        let mut changed = false;
        for e in row.iter_mut() {
            if e.0 == uid && e.1 != 0 {
                e.1 = 0;
                changed = true;
            }
        }
        if changed {
            st.set_weights(netuid, other, &row);
        }
    }
}

/// Whether an axon address is acceptable (`allow_private` admits loopback/private ranges).
pub fn check_axon_address(
    ip: u128,
    ip_type: u8,
    port: u16,
    allow_private: bool,
) -> Result<(), CallError> {
    if port == 0 {
        return Err(CallError::InvalidAxon);
    }
    let private = match ip_type {
        4 => {
            if ip > u128::from(u32::MAX) {
                return Err(CallError::InvalidAxon);
            }
            let v = ip as u32;
            if v == 0 || v == u32::MAX {
                return Err(CallError::InvalidAxon);
            }
            let [a, b, _, _] = v.to_be_bytes();
            a == 127
                || a == 10
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 168)
                || (a == 169 && b == 254)
        }
        6 => {
            if ip == 0 || ip == u128::MAX {
                return Err(CallError::InvalidAxon);
            }
            let top = (ip >> 112) as u16;
            ip == 1 || (top & 0xfe00) == 0xfc00 || (top & 0xffc0) == 0xfe80
        }
        _ => return Err(CallError::InvalidAxon),
    };
    if private && !allow_private {
        return Err(CallError::PrivateAddress);
    }
    Ok(())
}

fn serve_axon(
    st: &mut State<'_>,
    signer: &AccountId,
    netuid: NetUid,
    axon: AxonInfo,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    let sub = st.subnet(netuid).ok_or(CallError::SubnetNotFound)?;
    let uid = st.uid_of(netuid, signer).ok_or(CallError::NotRegistered)?;
    let cfg = st.config();
    check_axon_address(axon.ip, axon.ip_type, axon.port, cfg.allow_private_axons)?;
    let mut n = st.neuron(netuid, uid).ok_or(CallError::NotRegistered)?;
    if let Some(prev) = &n.axon {
        if now.saturating_sub(prev.block) < sub.params.serving_rate_limit {
            return Err(CallError::RateLimited);
        }
    }
    n.axon = Some(axon);
    st.set_neuron(netuid, uid, &n);
    ev.push(Event::AxonServed {
        netuid,
        hotkey: *signer,
    });
    Ok(())
}

/// Max-upscales weights to u16 in Q32 (spec §3.6).
pub fn max_upscale_u16(values: &[u16]) -> Vec<u16> {
    let m = values.iter().copied().max().unwrap_or(0);
    if m == 0 {
        return values.to_vec();
    }
    let m = u64::from(m);
    let round = |bits: u128| -> u16 { ((bits + (1 << 31)) >> 32).min(65535) as u16 };
    if m > 32768 {
        let f: u128 = (u128::from(65535u64) << 32) / u128::from(m);
        values.iter().map(|&e| round(u128::from(e) * f)).collect()
    } else {
        values
            .iter()
            .map(|&e| round(((u128::from(e) * 65535) << 32) / u128::from(m)))
            .collect()
    }
}

/// The `set_weights` rules of spec §5.4, in order; stores the upscaled row. `via_reveal`
/// skips the commit-reveal-off check, the rate limit and the `last_update` write.
#[allow(clippy::too_many_arguments)]
fn set_weights(
    st: &mut State<'_>,
    signer: &AccountId,
    netuid: NetUid,
    uids: &[Uid],
    values: &[u16],
    version_key: u64,
    via_reveal: bool,
    now: BlockNumber,
) -> Result<Uid, CallError> {
    let sub = st.subnet(netuid).ok_or(CallError::SubnetNotFound)?;
    let p = &sub.params;
    if !via_reveal && p.commit_reveal_enabled {
        return Err(CallError::CommitRevealEnabled);
    }
    // 1. lengths, registration
    if uids.len() != values.len() || uids.len() > usize::from(sub.n) {
        return Err(CallError::WeightsLengthMismatch);
    }
    let uid = st.uid_of(netuid, signer).ok_or(CallError::NotRegistered)?;
    let mut neuron = st.neuron(netuid, uid).ok_or(CallError::NotRegistered)?;
    // 2. stake threshold (owner exempt)
    let is_owner = *signer == sub.owner_hotkey;
    let stake = st.hotkey(signer).map(|h| h.total_stake).unwrap_or(0);
    if !is_owner && stake < st.config().stake_threshold {
        return Err(CallError::StakeBelowThreshold);
    }
    // 3. version key
    if p.weights_version_key != 0 && version_key < p.weights_version_key {
        return Err(CallError::IncorrectVersionKey);
    }
    // 4. rate limit
    if !via_reveal
        && neuron.last_update != 0
        && now.saturating_sub(neuron.last_update) < p.weights_rate_limit
    {
        return Err(CallError::RateLimited);
    }
    // 5. permit, self-weight or owner
    let self_weight = uids.len() == 1 && uids[0] == uid;
    if !self_weight && !is_owner && !neuron.validator_permit {
        return Err(CallError::NoValidatorPermit);
    }
    // 6. unique, existing uids
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(CallError::DuplicateUids);
    }
    if uids.iter().any(|u| *u >= sub.n) {
        return Err(CallError::UidNotFound);
    }
    // 7. length
    if !self_weight && uids.len() < usize::from(p.min_allowed_weights.min(sub.n)) {
        return Err(CallError::TooFewWeights);
    }
    // 7b. max weight limit (65535 = off)
    if !self_weight && p.max_weight_limit < u16::MAX {
        let sum: u64 = values.iter().map(|v| u64::from(*v)).sum();
        let max = values.iter().copied().max().map(u64::from).unwrap_or(0);
        if sum > 0 && max * 65535 / sum > u64::from(p.max_weight_limit) {
            return Err(CallError::MaxWeightExceeded);
        }
    }
    // 8. upscale and store in submission order
    let up = max_upscale_u16(values);
    let row: Vec<(u16, u16)> = uids.iter().copied().zip(up).collect();
    st.set_weights(netuid, uid, &row);
    if !via_reveal {
        neuron.last_update = now;
        st.set_neuron(netuid, uid, &neuron);
    }
    Ok(uid)
}

fn commit_weights(
    st: &mut State<'_>,
    signer: &AccountId,
    netuid: NetUid,
    hash: Hash32,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    let sub = st.subnet(netuid).ok_or(CallError::SubnetNotFound)?;
    if !sub.params.commit_reveal_enabled {
        return Err(CallError::CommitRevealDisabled);
    }
    let uid = st.uid_of(netuid, signer).ok_or(CallError::NotRegistered)?;
    let mut neuron = st.neuron(netuid, uid).ok_or(CallError::NotRegistered)?;
    if neuron.last_update != 0
        && now.saturating_sub(neuron.last_update) < sub.params.weights_rate_limit
    {
        return Err(CallError::RateLimited);
    }
    let cur = sub.epoch_index;
    let rp = sub.params.reveal_period;
    let mut commits = st.commits(netuid, signer);
    commits.retain(|c| cur <= c.epoch.saturating_add(rp));
    if commits.len() >= MAX_PENDING_COMMITS {
        return Err(CallError::TooManyUnrevealedCommits);
    }
    commits.push(WeightCommit {
        hash,
        epoch: cur,
        block: now,
    });
    st.set_commits(netuid, signer, &commits);
    neuron.last_update = now;
    st.set_neuron(netuid, uid, &neuron);
    ev.push(Event::WeightsCommitted {
        netuid,
        hotkey: *signer,
        hash,
    });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn reveal_weights(
    st: &mut State<'_>,
    signer: &AccountId,
    netuid: NetUid,
    uids: &[Uid],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    let sub = st.subnet(netuid).ok_or(CallError::SubnetNotFound)?;
    if !sub.params.commit_reveal_enabled {
        return Err(CallError::CommitRevealDisabled);
    }
    st.uid_of(netuid, signer).ok_or(CallError::NotRegistered)?;
    let hash = commit_hash(signer, netuid, uids, values, salt, version_key);
    let mut commits = st.commits(netuid, signer);
    let pos = commits
        .iter()
        .position(|c| c.hash == hash)
        .ok_or(CallError::InvalidReveal)?;
    let cur = sub.epoch_index;
    let rp = sub.params.reveal_period;
    let due = commits[pos].epoch.saturating_add(rp);
    if cur < due {
        return Err(CallError::RevealTooEarly);
    }
    if cur > due {
        return Err(CallError::ExpiredCommit);
    }
    set_weights(st, signer, netuid, uids, values, version_key, true, now)?;
    commits.remove(pos);
    commits.retain(|c| cur <= c.epoch.saturating_add(rp));
    st.set_commits(netuid, signer, &commits);
    ev.push(Event::WeightsRevealed {
        netuid,
        hotkey: *signer,
        hash,
    });
    Ok(())
}

fn set_take(
    st: &mut State<'_>,
    signer: &AccountId,
    hotkey: &AccountId,
    take: u16,
    increase: bool,
    now: BlockNumber,
    ev: &mut Vec<Event>,
) -> Result<(), CallError> {
    let mut hk = st.hotkey(hotkey).ok_or(CallError::HotkeyNotFound)?;
    if hk.owner != *signer {
        return Err(CallError::NotHotkeyOwner);
    }
    let cfg = st.config();
    if increase {
        if take <= hk.take {
            return Err(CallError::InvalidTake);
        }
        if take > cfg.max_take {
            return Err(CallError::OutOfRange);
        }
        if hk.last_take_change != 0 && now.saturating_sub(hk.last_take_change) < cfg.take_rate_limit
        {
            return Err(CallError::RateLimited);
        }
    } else if take >= hk.take {
        return Err(CallError::InvalidTake);
    }
    hk.take = take;
    hk.last_take_change = now;
    st.put(keys::hotkey(hotkey), &hk);
    ev.push(Event::TakeSet {
        hotkey: *hotkey,
        take,
    });
    Ok(())
}

/// Applies a hyperparameter with the owner's bounds (`by_owner`) or root's.
pub fn apply_hyperparameter(
    sub: &mut SubnetInfo,
    param: &Hyperparameter,
    by_owner: bool,
    now: BlockNumber,
) -> Result<(), CallError> {
    use Hyperparameter as H;
    let p = &mut sub.params;
    let root_only = matches!(
        param,
        H::Kappa(_)
            | H::MaxAllowedValidators(_)
            | H::WeightsRateLimit(_)
            | H::MaxAllowedUids(_)
            | H::EmissionWeight(_)
    );
    if by_owner && root_only {
        return Err(CallError::RootOnlyParameter);
    }
    let range = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(CallError::OutOfRange)
        }
    };
    match *param {
        H::Tempo(t) => {
            if by_owner {
                range((OWNER_TEMPO_RANGE.0..=OWNER_TEMPO_RANGE.1).contains(&t))?;
            }
            p.tempo = t;
            sub.last_epoch_block = now;
        }
        H::Kappa(v) => p.kappa = v,
        H::BondsMovingAverage(v) => {
            range(
                v <= if by_owner {
                    OWNER_MAX_BONDS_MOVING_AVERAGE
                } else {
                    1_000_000
                },
            )?;
            p.bonds_moving_average = v;
        }
        H::BondsPenalty(v) => p.bonds_penalty = v,
        H::Yuma3Enabled(v) => p.yuma3_enabled = v,
        H::LiquidAlphaEnabled(v) => p.liquid_alpha_enabled = v,
        H::AlphaValues(lo, hi) => {
            if !p.liquid_alpha_enabled {
                return Err(CallError::LiquidAlphaDisabled);
            }
            range(hi >= ALPHA_MIN && lo >= ALPHA_MIN && lo <= hi)?;
            p.alpha_low = lo;
            p.alpha_high = hi;
        }
        H::AlphaSigmoidSteepness(v) => {
            range(!by_owner || v >= 0)?;
            p.alpha_sigmoid_steepness = v;
        }
        H::MaxAllowedValidators(v) => {
            range(v <= p.max_allowed_uids)?;
            p.max_allowed_validators = v;
        }
        H::MinAllowedWeights(v) => p.min_allowed_weights = v,
        H::MaxWeightLimit(v) => p.max_weight_limit = v,
        H::ActivityCutoff(v) => {
            range(v >= 1)?;
            p.activity_cutoff = v;
        }
        H::CommitRevealEnabled(v) => p.commit_reveal_enabled = v,
        H::RevealPeriod(v) => {
            range((1..=100).contains(&v))?;
            p.reveal_period = v;
        }
        H::WeightsRateLimit(v) => p.weights_rate_limit = v,
        H::WeightsVersionKey(v) => p.weights_version_key = v,
        H::ImmunityPeriod(v) => p.immunity_period = v,
        H::MaxAllowedUids(v) => {
            range(v >= sub.n && (1..=MAX_UIDS_LIMIT).contains(&v))?;
            p.max_allowed_uids = v;
        }
        H::ServingRateLimit(v) => p.serving_rate_limit = v,
        H::EmissionWeight(v) => p.emission_weight = v,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upscale_matches_spec_example() {
        assert_eq!(max_upscale_u16(&[43690, 21845]), vec![65535, 32768]);
        assert_eq!(max_upscale_u16(&[0, 0]), vec![0, 0]);
        assert_eq!(max_upscale_u16(&[1, 2]), vec![32768, 65535]);
        assert_eq!(max_upscale_u16(&[7]), vec![65535]);
    }

    #[test]
    fn burn_decay_halves_over_half_life() {
        let f = burn_decay_factor(360);
        let mut p = 1_000_000_000u64;
        for _ in 0..360 {
            p = decayed_burn(p, f, 0, u64::MAX);
        }
        assert!((499_000_000..=500_000_000).contains(&p), "{p}");
        assert_eq!(decayed_burn(600_000, f, 500_000, 100), 500_000);
    }

    #[test]
    fn axon_addresses() {
        let v4 = |a: u8, b: u8, c: u8, d: u8| u128::from(u32::from_be_bytes([a, b, c, d]));
        assert_eq!(check_axon_address(v4(8, 8, 8, 8), 4, 80, false), Ok(()));
        assert_eq!(
            check_axon_address(v4(127, 0, 0, 1), 4, 80, false),
            Err(CallError::PrivateAddress)
        );
        assert_eq!(check_axon_address(v4(127, 0, 0, 1), 4, 80, true), Ok(()));
        assert_eq!(
            check_axon_address(v4(192, 168, 1, 1), 4, 80, false),
            Err(CallError::PrivateAddress)
        );
        assert_eq!(
            check_axon_address(0, 4, 80, true),
            Err(CallError::InvalidAxon)
        );
        assert_eq!(
            check_axon_address(v4(8, 8, 8, 8), 4, 0, true),
            Err(CallError::InvalidAxon)
        );
        assert_eq!(
            check_axon_address(1 << 40, 4, 80, true),
            Err(CallError::InvalidAxon)
        );
        assert_eq!(
            check_axon_address(1, 6, 80, false),
            Err(CallError::PrivateAddress)
        );
        assert_eq!(
            check_axon_address(1, 5, 80, true),
            Err(CallError::InvalidAxon)
        );
    }

    #[test]
    fn lock_cost_doubles_and_decays() {
        let mut cfg = crate::state::ChainConfig::with_root(AccountId([0; 32]));
        cfg.network_min_lock = 100;
        cfg.network_last_lock = 100;
        assert_eq!(network_lock_cost(&cfg, 10), 100);
        cfg.network_last_lock_block = 10;
        assert_eq!(network_lock_cost(&cfg, 10), 200);
        cfg.network_lock_reduction_interval = 10;
        assert_eq!(network_lock_cost(&cfg, 15), 150);
        assert_eq!(network_lock_cost(&cfg, 100), 100);
    }
}
