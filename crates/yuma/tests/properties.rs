//! Property tests of the epoch on random subnets up to 300 UIDs (issue point 4): no panic on
//! any input, emission never above `rao_emission`, incentive and dividends each summing to 0
//! or about 65535, and outputs invariant under a relabelling of the UIDs.

use proptest::prelude::*;
use tensornet_yuma::{epoch, EpochError, EpochInputs, Hyperparameters, SparseRow};

fn arb_hyper() -> impl Strategy<Value = Hyperparameters> {
    (
        prop_oneof![3 => Just(32767u16), 1 => any::<u16>()],
        prop_oneof![
            Just(900_000u64),
            Just(975_000u64),
            0u64..2_000_000,
            Just(u64::MAX)
        ],
        prop_oneof![Just(0u16), Just(65535u16), any::<u16>()],
        any::<bool>(),
        any::<bool>(),
        any::<u16>(),
        any::<u16>(),
        prop_oneof![Just(1000i16), any::<i16>()],
        prop_oneof![Just(64u16), 0u16..400],
        prop_oneof![Just(0u64), 0u64..1_000_000_000_000],
    )
        .prop_map(
            |(kappa, bma, bp, y3, la, alo, ahi, st, k, th)| Hyperparameters {
                kappa,
                bonds_moving_average: bma,
                bonds_penalty: bp,
                yuma3_enabled: y3,
                liquid_alpha_enabled: la,
                alpha_low: alo,
                alpha_high: ahi,
                alpha_sigmoid_steepness: st,
                max_allowed_validators: k,
                stake_threshold: th,
            },
        )
}

fn arb_stake() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        1u64..1_000_000,
        0u64..10_000_000_000_000,
        any::<u64>(),
    ]
}

/// Rows with arbitrary columns (some `>= n`), arbitrary order, duplicates, some longer than n.
fn arb_rows(n: usize) -> impl Strategy<Value = Vec<SparseRow>> {
    let max_col = (n + 8).min(usize::from(u16::MAX)) as u16;
    let sparse = prop::collection::vec((0..max_col, any::<u16>()), 0..(n / 3 + 12));
    // Full rows (every column, small values so ties are common) give non-zero consensus.
    let full = prop::collection::vec(0u16..8, n).prop_map(|vals| {
        vals.into_iter()
            .enumerate()
            .map(|(j, v)| (j as u16, v * 8191))
            .collect::<SparseRow>()
    });
    prop::collection::vec(prop_oneof![sparse, full], n)
}

fn arb_inputs(max_n: usize) -> impl Strategy<Value = EpochInputs> {
    (0..=max_n).prop_flat_map(|n| {
        (
            (
                prop_oneof![3 => 19_000u64..20_000, 1 => 0u64..20_000],
                any::<u16>(),
                prop_oneof![Just(0u64), 0u64..20_000],
                prop_oneof![4 => Just(5000u64), 1 => 0u64..10_000, 1 => Just(u64::MAX)],
                prop_oneof![Just(1_000_000_000u64), any::<u64>(), Just(0u64)],
                arb_hyper(),
                prop::option::of(0..(n as u16).saturating_add(3)),
            ),
            prop::collection::vec(arb_stake(), n),
            prop::collection::vec(prop_oneof![3 => 15_000u64..20_000, 1 => 0u64..20_000], n),
            prop::collection::vec(prop_oneof![3 => 0u64..15_000, 1 => 0u64..20_000], n),
            prop::collection::vec(prop::bool::weighted(0.8), n),
            arb_rows(n),
            arb_rows(n),
        )
            .prop_map(
                move |(
                    (block, tempo, lms, cutoff, rao, hp, owner),
                    stake,
                    lu,
                    reg,
                    permit,
                    weights,
                    bonds,
                )| EpochInputs {
                    n: n as u16,
                    current_block: block,
                    tempo,
                    last_mechanism_step_block: lms,
                    activity_cutoff: cutoff,
                    rao_emission: rao,
                    hyperparameters: hp,
                    owner_uid: owner,
                    stake,
                    last_update: lu,
                    block_at_registration: reg,
                    validator_permit: permit,
                    weights,
                    bonds,
                },
            )
    })
}

fn sum_u16(v: &[u16]) -> u64 {
    v.iter().map(|x| u64::from(*x)).sum()
}

fn sum_u64(v: &[u64]) -> u128 {
    v.iter().map(|x| u128::from(*x)).sum()
}

/// Relabels UID `i` as `perm[i]` everywhere; rows are re-sorted by column.
fn permute(inp: &EpochInputs, perm: &[usize]) -> EpochInputs {
    let n = perm.len();
    let mut out = inp.clone();
    let move_vec = |dst: &mut Vec<u64>, src: &[u64]| {
        for i in 0..n {
            dst[perm[i]] = src[i];
        }
    };
    move_vec(&mut out.stake, &inp.stake);
    move_vec(&mut out.last_update, &inp.last_update);
    move_vec(&mut out.block_at_registration, &inp.block_at_registration);
    for i in 0..n {
        out.validator_permit[perm[i]] = inp.validator_permit[i];
        out.weights[perm[i]] = relabel_row(&inp.weights[i], perm);
        out.bonds[perm[i]] = relabel_row(&inp.bonds[i], perm);
    }
    out.owner_uid = inp.owner_uid.map(|o| perm[usize::from(o)] as u16);
    out
}

fn relabel_row(row: &SparseRow, perm: &[usize]) -> SparseRow {
    let mut r: SparseRow = row
        .iter()
        .map(|(j, v)| (perm[usize::from(*j)] as u16, *v))
        .collect();
    r.sort_unstable();
    r
}

/// Inputs for the permutation property: sorted unique in-range rows, distinct non-zero
/// stakes (so no top-k tie depends on UID order).
fn arb_sorted_inputs(max_n: usize) -> impl Strategy<Value = (EpochInputs, Vec<usize>)> {
    (arb_inputs(max_n), any::<u64>()).prop_flat_map(|(mut inp, seed)| {
        let n = usize::from(inp.n);
        let clean = |rows: &mut Vec<SparseRow>| {
            for row in rows.iter_mut() {
                row.retain(|(j, _)| usize::from(*j) < n);
                row.sort_unstable_by_key(|(j, _)| *j);
                row.dedup_by_key(|(j, _)| *j);
            }
        };
        clean(&mut inp.weights);
        clean(&mut inp.bonds);
        // Distinct stakes, or 0 (zero stakes never get a permit, whatever their order).
        let mut order: Vec<u64> = (0..n as u64).collect();
        let mut s = seed | 1;
        for i in (1..order.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            order.swap(i, (s % (i as u64 + 1)) as usize);
        }
        for (i, st) in inp.stake.iter_mut().enumerate() {
            *st = if *st % 5 == 0 {
                0
            } else {
                (order[i] + 1) * 1_000_000_000
            };
        }
        inp.hyperparameters.stake_threshold = 0;
        if let Some(o) = inp.owner_uid {
            if usize::from(o) >= n {
                inp.owner_uid = None;
            }
        }
        let perm = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (Just(inp), perm)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_input_runs_and_respects_the_budgets(inp in arb_inputs(300)) {
        let n = usize::from(inp.n);
        let out = epoch(&inp).expect("lengths are consistent");
        for len in [
            out.active.len(), out.validator_permit.len(), out.stake_weight.len(),
            out.consensus.len(), out.incentive.len(), out.dividends.len(),
            out.validator_trust.len(), out.server_emission.len(),
            out.validator_emission.len(), out.emission.len(), out.bonds.len(),
        ] {
            prop_assert_eq!(len, n);
        }
        let rao = u128::from(inp.rao_emission);
        prop_assert!(sum_u64(&out.emission) <= rao);
        prop_assert!(sum_u64(&out.server_emission) + sum_u64(&out.validator_emission) <= rao);
        let lower = 65535u64.saturating_sub(n as u64 + 1);
        for (name, v) in [("incentive", &out.incentive), ("dividends", &out.dividends)] {
            let s = sum_u16(v);
            prop_assert!(s == 0 || (lower..=65535).contains(&s), "{} sums to {}", name, s);
        }
        for (i, row) in out.bonds.iter().enumerate() {
            prop_assert!(out.validator_permit[i] || row.is_empty());
            prop_assert!(row.iter().all(|(j, _)| usize::from(*j) < n));
        }
    }

    #[test]
    fn outputs_follow_a_relabelling_of_the_uids((inp, perm) in arb_sorted_inputs(120)) {
        let a = epoch(&inp).expect("valid");
        let b = epoch(&permute(&inp, &perm)).expect("valid");
        for (i, p) in perm.iter().enumerate() {
            prop_assert_eq!(a.active[i], b.active[*p]);
            prop_assert_eq!(a.validator_permit[i], b.validator_permit[*p]);
            prop_assert_eq!(a.stake_weight[i], b.stake_weight[*p]);
            prop_assert_eq!(a.consensus[i], b.consensus[*p]);
            prop_assert_eq!(a.incentive[i], b.incentive[*p]);
            prop_assert_eq!(a.dividends[i], b.dividends[*p]);
            prop_assert_eq!(a.validator_trust[i], b.validator_trust[*p]);
            prop_assert_eq!(a.server_emission[i], b.server_emission[*p]);
            prop_assert_eq!(a.validator_emission[i], b.validator_emission[*p]);
            prop_assert_eq!(a.emission[i], b.emission[*p]);
            prop_assert_eq!(&relabel_row(&a.bonds[i], &perm), &b.bonds[*p]);
        }
    }

    #[test]
    fn mismatched_lengths_are_an_error(inp in arb_inputs(20), which in 0usize..6) {
        let mut inp = inp;
        match which {
            0 => inp.stake.push(1),
            1 => inp.last_update.push(1),
            2 => inp.block_at_registration.push(1),
            3 => inp.validator_permit.push(true),
            4 => inp.weights.push(Vec::new()),
            _ => inp.bonds.push(Vec::new()),
        }
        let is_length_error = matches!(epoch(&inp), Err(EpochError::Length { .. }));
        prop_assert!(is_length_error);
    }
}

#[test]
fn empty_subnet_runs() {
    let inp = EpochInputs {
        n: 0,
        current_block: 1,
        tempo: 360,
        last_mechanism_step_block: 0,
        activity_cutoff: 5000,
        rao_emission: 1_000_000_000,
        hyperparameters: Hyperparameters {
            kappa: 32767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65535,
            yuma3_enabled: true,
            liquid_alpha_enabled: true,
            alpha_low: 45875,
            alpha_high: 58982,
            alpha_sigmoid_steepness: 1000,
            max_allowed_validators: 64,
            stake_threshold: 0,
        },
        owner_uid: Some(0),
        stake: vec![],
        last_update: vec![],
        block_at_registration: vec![],
        validator_permit: vec![],
        weights: vec![],
        bonds: vec![],
    };
    let out = epoch(&inp).expect("empty subnet is valid");
    assert!(out.emission.is_empty() && out.bonds.is_empty());
}
