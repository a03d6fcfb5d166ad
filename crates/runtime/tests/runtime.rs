//! Integration tests of the runtime: every call's success path and rejection rules, the
//! commit-reveal cases, the 5-epoch scenario, and a proptest state machine with replay.

use proptest::prelude::*;
use std::collections::BTreeMap;
use tensornet_keys::Keypair;
use tensornet_primitives::{AccountId, Balance, Hash32, RAO_PER_TAO};
use tensornet_runtime::state::keys;
use tensornet_runtime::view::{self, audit_ledger};
use tensornet_runtime::*;

const FEE: Balance = 100_000;

fn kp(uri: &str) -> Keypair {
    Keypair::from_uri(uri).expect("valid uri")
}

struct T {
    chain: MemoryChain,
    ts: u64,
}

impl T {
    fn dev() -> T {
        let chain = MemoryChain::new(&dev_genesis().unwrap()).unwrap();
        let ts = chain.head().timestamp;
        T { chain, ts }
    }
    fn with(f: impl FnOnce(&mut GenesisConfig)) -> T {
        let mut g = dev_genesis().unwrap();
        f(&mut g);
        let chain = MemoryChain::new(&g).unwrap();
        let ts = chain.head().timestamp;
        T { chain, ts }
    }
    fn nonce(&self, a: &AccountId) -> u64 {
        view::account(self.chain.store(), a).unwrap().nonce
    }
    fn free(&self, a: &AccountId) -> Balance {
        view::account(self.chain.store(), a).unwrap().free
    }
    fn tx(&self, k: &Keypair, call: Call) -> SignedTransaction {
        SignedTransaction::sign(
            k,
            &self.chain.genesis_hash(),
            self.nonce(&k.account_id()),
            call,
        )
    }
    fn block(&mut self, txs: Vec<SignedTransaction>) -> Result<BlockOutcome, BlockError> {
        self.ts += 12_000;
        let r = self.chain.produce_block(self.ts, txs).map(|(_, o)| o);
        if r.is_ok() {
            audit_ledger(self.chain.store()).expect("ledger adds up");
        }
        r
    }
    fn empty_blocks(&mut self, n: usize) {
        for _ in 0..n {
            self.block(vec![]).unwrap();
        }
    }
    fn number(&self) -> u64 {
        self.chain.head().number
    }
    /// Runs `call`, asserting success; returns the receipt.
    fn ok(&mut self, k: &Keypair, call: Call) -> Receipt {
        let t = self.tx(k, call);
        let o = self.block(vec![t]).expect("block valid");
        let r = o.receipts.into_iter().next().unwrap();
        assert_eq!(r.error, None, "call should succeed");
        r
    }
    /// Runs a paying `call` that must fail; asserts that, compared with an empty block, only
    /// the signer's account (fee, nonce) and the ledger totals differ.
    fn err(&mut self, k: &Keypair, call: Call) -> CallError {
        assert!(!call.is_free());
        let mut other = self.chain.clone();
        other.produce_block(self.ts + 12_000, vec![]).unwrap();
        let before = self.free(&k.account_id());
        let t = self.tx(k, call);
        let o = self.block(vec![t]).expect("block valid");
        let r = o.receipts.into_iter().next().unwrap();
        assert_eq!(r.fee, FEE);
        assert!(r.events.is_empty());
        assert_eq!(self.free(&k.account_id()), before - FEE);
        let a: BTreeMap<_, _> = other.store().iter().collect();
        let b: BTreeMap<_, _> = self.chain.store().iter().collect();
        let acct = keys::account(&k.account_id());
        for key in a.keys().chain(b.keys()) {
            if a.get(key) != b.get(key) {
                assert!(
                    **key == acct || key.as_slice() == keys::TOTALS,
                    "rejected call changed key {key:02x?}"
                );
            }
        }
        r.error.expect("call should fail")
    }
    /// A free call that must fail: the block is invalid and the chain unchanged.
    fn free_err(&mut self, k: &Keypair, call: Call) -> CallError {
        assert!(call.is_free());
        let root = self.chain.state_root();
        let t = self.tx(k, call);
        let e = self.block(vec![t]).expect_err("block must be invalid");
        self.ts -= 12_000;
        assert_eq!(self.chain.state_root(), root);
        match e {
            BlockError::FreeCallFailed { error, .. } => error,
            other => panic!("unexpected {other:?}"),
        }
    }
    fn sudo(&mut self, call: SudoCall) {
        self.ok(&kp("//Alice"), Call::Sudo(call));
    }
    fn hyper(&mut self, netuid: u16, param: Hyperparameter) {
        self.sudo(SudoCall::SetHyperparameter { netuid, param });
    }
    fn subnet(&self, netuid: u16) -> SubnetInfo {
        view::subnets(self.chain.store())
            .unwrap()
            .into_iter()
            .find(|s| s.netuid == netuid)
            .unwrap()
    }
    fn mg(&self, netuid: u16) -> Metagraph {
        metagraph(self.chain.store(), netuid, true)
            .unwrap()
            .unwrap()
    }
    /// Alice creates subnet 1 with owner hotkey //Alice/owner; returns it.
    fn subnet1(&mut self) -> Keypair {
        let hk = kp("//Alice/owner");
        self.ok(
            &kp("//Alice"),
            Call::RegisterNetwork {
                hotkey: hk.account_id(),
            },
        );
        hk
    }
    fn register(&mut self, cold: &Keypair, hot: &Keypair, netuid: u16) -> u16 {
        self.ok(
            cold,
            Call::BurnedRegister {
                netuid,
                hotkey: hot.account_id(),
                max_price: None,
            },
        );
        view::metagraph(self.chain.store(), netuid, false)
            .unwrap()
            .unwrap()
            .neurons
            .iter()
            .find(|n| n.hotkey == hot.account_id())
            .unwrap()
            .uid
    }
}

fn weights(netuid: u16, uids: Vec<u16>, values: Vec<u16>) -> Call {
    Call::SetWeights {
        netuid,
        uids,
        values,
        version_key: 0,
    }
}

#[test]
fn dev_genesis_is_fixed_and_funded() {
    let a = dev_genesis().unwrap().build().unwrap();
    let b = dev_genesis().unwrap().build().unwrap();
    assert_eq!(a.hash, b.hash);
    // Pinned (state-root scheme version 3 since 2026-11-26): any change of the genesis state,
    // its encoding or the root scheme changes it (and then every signed transaction of the dev
    // chain); update deliberately.
    assert_eq!(
        a.hash.to_hex(),
        "0x835a39b467007f15d8fc4b71fc720b7ec13c8e73660d16bb582a30c4c96575b5"
    );
    let t = T::dev();
    assert_eq!(t.chain.genesis_hash(), a.hash);
    for uri in tensornet_runtime::genesis::DEV_ACCOUNTS {
        assert_eq!(t.free(&kp(uri).account_id()), 1_000_000 * RAO_PER_TAO);
    }
    let cfg = view::config(t.chain.store()).unwrap();
    assert_eq!(cfg.root, kp("//Alice").account_id());
    assert_eq!(cfg.new_subnet.tempo, 20);
    assert!(!cfg.new_subnet.commit_reveal_enabled);
    assert_eq!(cfg.tx_fee, FEE);
    let totals = view::totals(t.chain.store()).unwrap();
    assert_eq!(totals.minted, 6_000_000 * RAO_PER_TAO);
    assert_eq!(totals.total_issuance(), totals.minted);
}

#[test]
fn genesis_json_parses_and_rejects_bad_input() {
    let alice = kp("//Alice");
    let bob = kp("//Bob");
    let json = format!(
        r#"{{"timestamp": 5, "root": "{}", "balances": [{{"account": "{}", "rao": 7}}],
            "subnets": [{{"owner": "{}", "hotkey": "{}", "hyperparameters": {{"tempo": 7}}}}],
            "new_subnet": {{"kappa": 100}}, "params": {{"tx_fee": 3}}}}"#,
        alice.ss58(),
        bob.account_id().to_hex(),
        alice.ss58(),
        bob.ss58()
    );
    let g = GenesisConfig::from_json(&json).unwrap();
    let chain = MemoryChain::new(&g).unwrap();
    let s = &view::subnets(chain.store()).unwrap()[0];
    assert_eq!((s.netuid, s.params.tempo, s.params.kappa), (1, 7, 100));
    assert_eq!(view::config(chain.store()).unwrap().tx_fee, 3);
    assert_eq!(
        view::account(chain.store(), &bob.account_id())
            .unwrap()
            .free,
        7
    );
    let bad = json.replace("\"tx_fee\"", "\"tx_feee\"");
    assert!(matches!(
        GenesisConfig::from_json(&bad).unwrap().build(),
        Err(GenesisError::Field(..))
    ));
    let bad = json.replace(&alice.ss58(), "5notanaddress");
    assert!(matches!(
        GenesisConfig::from_json(&bad).unwrap().build(),
        Err(GenesisError::Account(..))
    ));
    assert!(GenesisConfig::from_json("{").is_err());
}

#[test]
fn transfer_rules_and_block_validity() {
    let mut t = T::dev();
    let (alice, bob) = (kp("//Alice"), kp("//Bob"));
    let r = t.ok(
        &alice,
        Call::Transfer {
            dest: bob.account_id(),
            amount: 5,
        },
    );
    assert_eq!(r.fee, FEE);
    assert_eq!(t.free(&bob.account_id()), 1_000_000 * RAO_PER_TAO + 5);
    assert_eq!(
        t.free(&alice.account_id()),
        1_000_000 * RAO_PER_TAO - 5 - FEE
    );
    assert_eq!(
        t.err(
            &alice,
            Call::Transfer {
                dest: bob.account_id(),
                amount: 0
            }
        ),
        CallError::ZeroAmount
    );
    assert_eq!(
        t.err(
            &alice,
            Call::Transfer {
                dest: bob.account_id(),
                amount: u64::MAX
            }
        ),
        CallError::InsufficientBalance
    );
    // An account that cannot pay the fee makes the block invalid.
    let poor = kp("//Poor");
    let tx = t.tx(
        &poor,
        Call::Transfer {
            dest: bob.account_id(),
            amount: 1,
        },
    );
    assert!(matches!(
        t.block(vec![tx]),
        Err(BlockError::CannotPayFee { index: 0 })
    ));
    t.ts -= 12_000;
    // Wrong nonce, bad signature.
    let mut tx = t.tx(
        &alice,
        Call::Transfer {
            dest: bob.account_id(),
            amount: 1,
        },
    );
    tx.nonce += 1;
    assert!(matches!(
        t.block(vec![tx.clone()]),
        Err(BlockError::BadSignature { index: 0 })
    ));
    t.ts -= 12_000;
    let tx2 = SignedTransaction::sign(&alice, &t.chain.genesis_hash(), tx.nonce, tx.call.clone());
    assert!(matches!(
        t.block(vec![tx2]),
        Err(BlockError::BadNonce { .. })
    ));
    t.ts -= 12_000;
    // Signed for another chain.
    let other = SignedTransaction::sign(
        &alice,
        &Hash32([9; 32]),
        t.nonce(&alice.account_id()),
        tx.call,
    );
    assert!(t.block(vec![other]).is_err());
    t.ts -= 12_000;
    // Two transactions of one signer in one block with consecutive nonces.
    let n = t.nonce(&alice.account_id());
    let g = t.chain.genesis_hash();
    let txs = (0..2)
        .map(|i| {
            SignedTransaction::sign(
                &alice,
                &g,
                n + i,
                Call::Transfer {
                    dest: bob.account_id(),
                    amount: 1,
                },
            )
        })
        .collect();
    let o = t.block(txs).unwrap();
    assert_eq!(o.receipts.len(), 2);
    assert_eq!(t.nonce(&alice.account_id()), n + 2);
}

#[test]
fn register_network_rules() {
    let mut t = T::dev();
    let alice = kp("//Alice");
    let owner_hk = t.subnet1();
    let s = t.subnet(1);
    assert_eq!(s.owner, alice.account_id());
    assert_eq!(s.lock, RAO_PER_TAO);
    assert_eq!(s.n, 1);
    let mg = t.mg(1);
    assert_eq!(mg.neurons[0].hotkey, owner_hk.account_id());
    assert_eq!(view::totals(t.chain.store()).unwrap().locked, RAO_PER_TAO);
    // Second network: the lock doubled (minus a little decay).
    let bob = kp("//Bob");
    t.ok(
        &bob,
        Call::RegisterNetwork {
            hotkey: kp("//Bob/hk").account_id(),
        },
    );
    let lock2 = t.subnet(2).lock;
    assert!(lock2 > RAO_PER_TAO && lock2 <= 2 * RAO_PER_TAO, "{lock2}");
    // Hotkey owned by another coldkey.
    assert_eq!(
        t.err(
            &bob,
            Call::RegisterNetwork {
                hotkey: owner_hk.account_id()
            }
        ),
        CallError::HotkeyOwnedByOther
    );
    // Not enough free balance for the lock.
    let poor = kp("//Poor");
    t.ok(
        &alice,
        Call::Transfer {
            dest: poor.account_id(),
            amount: 10 * FEE,
        },
    );
    assert_eq!(
        t.err(
            &poor,
            Call::RegisterNetwork {
                hotkey: poor.account_id()
            }
        ),
        CallError::InsufficientBalance
    );
}

#[test]
fn burned_register_rules_and_pruning() {
    let mut t = T::dev();
    let owner_hk = t.subnet1();
    let bob = kp("//Bob");
    let burned0 = view::totals(t.chain.store()).unwrap().burned;
    let price0 = t.subnet(1).burn;
    assert_eq!(price0, RAO_PER_TAO, "a new subnet starts at 1 TAO");
    let r = t.ok(
        &bob,
        Call::BurnedRegister {
            netuid: 1,
            hotkey: kp("//Bob/m1").account_id(),
            max_price: None,
        },
    );
    let Event::NeuronRegistered { uid, price, .. } = r.events[0] else {
        panic!("{:?}", r.events)
    };
    assert_eq!(uid, 1);
    assert_eq!(
        price, 998_076_443,
        "1 TAO decayed for one block (half-life 360)"
    );
    let burned1 = view::totals(t.chain.store()).unwrap().burned;
    assert_eq!(burned1 - burned0, price + FEE);
    assert_eq!(
        t.subnet(1).burn,
        price * 126 / 100,
        "price rises after a registration"
    );
    let hk = view::hotkey(t.chain.store(), &kp("//Bob/m1").account_id())
        .unwrap()
        .unwrap();
    assert_eq!(hk.owner, bob.account_id());
    assert_eq!(hk.take, 11_796);
    let reg = |netuid, hotkey: &Keypair, max_price| Call::BurnedRegister {
        netuid,
        hotkey: hotkey.account_id(),
        max_price,
    };
    assert_eq!(
        t.err(&bob, reg(1, &kp("//Bob/m1"), None)),
        CallError::AlreadyRegistered
    );
    assert_eq!(
        t.err(&bob, reg(9, &kp("//Bob/m2"), None)),
        CallError::SubnetNotFound
    );
    assert_eq!(
        t.err(&bob, reg(1, &owner_hk, None)),
        CallError::HotkeyOwnedByOther
    );
    assert!(matches!(
        t.err(&bob, reg(1, &kp("//Bob/m2"), Some(1))),
        CallError::PriceTooHigh { .. }
    ));
    // The price decays per block toward the minimum.
    let p = t.subnet(1).burn;
    t.empty_blocks(3);
    assert!(t.subnet(1).burn < p);
    // Full subnet: the earliest-registered, lowest-emission non-owner UID is replaced.
    t.hyper(1, Hyperparameter::MaxAllowedUids(3));
    t.register(&bob, &kp("//Bob/m2"), 1);
    let o = {
        let tx = t.tx(&bob, reg(1, &kp("//Bob/m3"), None));
        t.block(vec![tx]).unwrap()
    };
    let ev = &o.receipts[0].events;
    assert!(ev.contains(&Event::NeuronPruned {
        netuid: 1,
        uid: 1,
        hotkey: kp("//Bob/m1").account_id()
    }));
    let mg = t.mg(1);
    assert_eq!(mg.neurons.len(), 3);
    assert_eq!(mg.neurons[1].hotkey, kp("//Bob/m3").account_id());
    assert_eq!(mg.neurons[1].block_at_registration, t.number());
    // Only the owner left: nothing can be pruned.
    t.hyper(1, Hyperparameter::MaxAllowedValidators(1));
    t.ok(
        &kp("//Alice"),
        Call::RegisterNetwork {
            hotkey: kp("//Alice/o2").account_id(),
        },
    );
    t.hyper(2, Hyperparameter::MaxAllowedUids(1));
    assert_eq!(
        t.err(&bob, reg(2, &kp("//Bob/m4"), None)),
        CallError::NoPrunableUid
    );
}

#[test]
fn pruning_prefers_non_immune_and_skips_owner_hotkeys() {
    let mut t = T::with(|g| {
        g.new_subnet.insert("immunity_period".into(), 3.into());
    });
    let alice = kp("//Alice");
    t.subnet1();
    t.sudo(SudoCall::SetHyperparameter {
        netuid: 1,
        param: Hyperparameter::MaxAllowedUids(4),
    });
    // uid1: an owner-coldkey hotkey (immortal, limit 1); uid2, uid3: Bob's.
    t.register(&alice, &kp("//Alice/extra"), 1);
    let bob = kp("//Bob");
    t.register(&bob, &kp("//Bob/a"), 1);
    t.register(&bob, &kp("//Bob/b"), 1);
    t.empty_blocks(4);
    let o = {
        let tx = t.tx(
            &bob,
            Call::BurnedRegister {
                netuid: 1,
                hotkey: kp("//Bob/c").account_id(),
                max_price: None,
            },
        );
        t.block(vec![tx]).unwrap()
    };
    assert!(o.receipts[0].events.contains(&Event::NeuronPruned {
        netuid: 1,
        uid: 2,
        hotkey: kp("//Bob/a").account_id()
    }));
}

#[test]
fn serve_axon_rules() {
    let mut t = T::dev();
    let hk = t.subnet1();
    let v4 = |a: u8, b: u8, c: u8, d: u8| u128::from(u32::from_be_bytes([a, b, c, d]));
    let serve = |ip, port| Call::ServeAxon {
        netuid: 1,
        ip,
        port,
        ip_type: 4,
        protocol: 4,
        version: 1,
    };
    let r = t.ok(&hk, serve(v4(127, 0, 0, 1), 8091));
    assert_eq!(r.fee, 0);
    let axon = t.mg(1).neurons[0].axon.clone().unwrap();
    assert_eq!((axon.ip, axon.port), (v4(127, 0, 0, 1), 8091));
    assert_eq!(
        t.free_err(&hk, serve(v4(8, 8, 8, 8), 8091)),
        CallError::RateLimited
    );
    assert_eq!(
        t.free_err(&kp("//Nobody"), serve(v4(8, 8, 8, 8), 1)),
        CallError::NotRegistered
    );
    t.empty_blocks(50);
    assert_eq!(
        t.free_err(&hk, serve(v4(8, 8, 8, 8), 0)),
        CallError::InvalidAxon
    );
    t.sudo(SudoCall::SetGlobal(GlobalParam::AllowPrivateAxons(false)));
    assert_eq!(
        t.free_err(&hk, serve(v4(10, 0, 0, 1), 80)),
        CallError::PrivateAddress
    );
    t.ok(&hk, serve(v4(8, 8, 8, 8), 80));
}

#[test]
fn set_weights_rules_in_order() {
    let mut t = T::dev();
    let owner = t.subnet1();
    let bob = kp("//Bob");
    let m1 = kp("//Bob/m1");
    let m2 = kp("//Bob/m2");
    t.register(&bob, &m1, 1);
    t.register(&bob, &m2, 1);
    // A fresh registration counts as an update: wait out the rate limit.
    t.empty_blocks(5);
    // Owner may weight anyone (no permit needed); values are max-upscaled.
    let r = t.ok(&owner, weights(1, vec![1, 2], vec![43690, 21845]));
    assert!(r.events.contains(&Event::WeightsSet { netuid: 1, uid: 0 }));
    assert_eq!(
        t.mg(1).neurons[0].weights,
        Some(vec![(1, 65535), (2, 32768)])
    );
    assert_eq!(t.mg(1).neurons[0].last_update, t.number());
    // Rate limit (5 blocks in dev).
    assert_eq!(
        t.free_err(&owner, weights(1, vec![1], vec![1])),
        CallError::RateLimited
    );
    t.empty_blocks(5);
    assert_eq!(
        t.free_err(&owner, weights(1, vec![1, 2], vec![1])),
        CallError::WeightsLengthMismatch
    );
    assert_eq!(
        t.free_err(&kp("//X"), weights(1, vec![1], vec![1])),
        CallError::NotRegistered
    );
    assert_eq!(
        t.free_err(&owner, weights(7, vec![1], vec![1])),
        CallError::SubnetNotFound
    );
    // No permit: only a self-weight is allowed.
    assert_eq!(
        t.free_err(&m1, weights(1, vec![2], vec![1])),
        CallError::NoValidatorPermit
    );
    t.ok(&m1, weights(1, vec![1], vec![1]));
    t.empty_blocks(5);
    assert_eq!(
        t.free_err(&owner, weights(1, vec![1, 1], vec![1, 1])),
        CallError::DuplicateUids
    );
    assert_eq!(
        t.free_err(&owner, weights(1, vec![1, 9], vec![1, 1])),
        CallError::UidNotFound
    );
    t.hyper(1, Hyperparameter::MaxWeightLimit(40_000));
    assert_eq!(
        t.free_err(&owner, weights(1, vec![1, 2], vec![3, 1])),
        CallError::MaxWeightExceeded
    );
    t.ok(&owner, weights(1, vec![1, 2], vec![1, 1]));
    t.empty_blocks(5);
    t.ok(
        &kp("//Alice"),
        Call::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::MinAllowedWeights(2),
        },
    );
    assert_eq!(
        t.free_err(&owner, weights(1, vec![1], vec![1])),
        CallError::TooFewWeights
    );
    t.ok(
        &kp("//Alice"),
        Call::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::WeightsVersionKey(5),
        },
    );
    let v = |k| Call::SetWeights {
        netuid: 1,
        uids: vec![1, 2],
        values: vec![1, 1],
        version_key: k,
    };
    assert_eq!(t.free_err(&owner, v(4)), CallError::IncorrectVersionKey);
    // Stake threshold: the owner is exempt, others are not.
    t.sudo(SudoCall::SetGlobal(GlobalParam::StakeThreshold(1)));
    assert_eq!(
        t.free_err(&m1, weights(1, vec![1], vec![1])),
        CallError::StakeBelowThreshold
    );
    t.ok(&owner, v(5));
    // Commit-reveal on: plain set_weights is rejected.
    t.hyper(1, Hyperparameter::CommitRevealEnabled(true));
    t.empty_blocks(5);
    assert_eq!(t.free_err(&owner, v(5)), CallError::CommitRevealEnabled);
}

#[test]
fn stake_and_take_rules() {
    let mut t = T::dev();
    let hk = t.subnet1();
    let (alice, bob) = (kp("//Alice"), kp("//Bob"));
    let r = t.ok(
        &bob,
        Call::AddStake {
            hotkey: hk.account_id(),
            amount: 1000,
        },
    );
    assert!(r.events.contains(&Event::StakeAdded {
        coldkey: bob.account_id(),
        hotkey: hk.account_id(),
        amount: 1000
    }));
    assert_eq!(
        view::stake(t.chain.store(), &hk.account_id(), &bob.account_id()).unwrap(),
        1000
    );
    assert_eq!(t.mg(1).neurons[0].stake, 1000);
    let add = |amount| Call::AddStake {
        hotkey: hk.account_id(),
        amount,
    };
    let remove = |amount| Call::RemoveStake {
        hotkey: hk.account_id(),
        amount,
    };
    assert_eq!(t.err(&bob, add(0)), CallError::ZeroAmount);
    assert_eq!(t.err(&bob, add(u64::MAX)), CallError::InsufficientBalance);
    assert_eq!(
        t.err(
            &bob,
            Call::AddStake {
                hotkey: kp("//Nope").account_id(),
                amount: 1
            }
        ),
        CallError::HotkeyNotFound
    );
    assert_eq!(t.err(&bob, remove(1001)), CallError::InsufficientStake);
    assert_eq!(
        t.err(&kp("//Charlie"), remove(1)),
        CallError::InsufficientStake
    );
    t.ok(&bob, remove(400));
    assert_eq!(
        view::stake(t.chain.store(), &hk.account_id(), &bob.account_id()).unwrap(),
        600
    );
    // The owner's own stake is kept in the hotkey record, a nominator's under its own key;
    // both show in the views.
    let rec = |t: &T| {
        view::hotkey(t.chain.store(), &hk.account_id())
            .unwrap()
            .unwrap()
    };
    let before = rec(&t);
    assert_eq!(
        (before.nominators, before.total_stake),
        (1, before.owner_stake + 600)
    );
    t.ok(&alice, add(500));
    let after = rec(&t);
    assert_eq!(after.owner_stake, before.owner_stake + 500);
    assert_eq!(
        (after.nominators, after.total_stake),
        (1, after.owner_stake + 600)
    );
    assert_eq!(
        view::coldkey_stakes(t.chain.store(), &bob.account_id()).unwrap(),
        vec![(hk.account_id(), 600)]
    );
    assert!(view::coldkey_stakes(t.chain.store(), &alice.account_id())
        .unwrap()
        .contains(&(hk.account_id(), after.owner_stake)));
    t.ok(&bob, remove(600));
    let gone = rec(&t);
    assert_eq!((gone.nominators, gone.total_stake), (0, gone.owner_stake));
    assert!(view::coldkey_stakes(t.chain.store(), &bob.account_id())
        .unwrap()
        .is_empty());
    t.ok(&alice, remove(500));
    t.ok(&bob, add(600));
    // Take.
    let dec = |take| Call::DecreaseTake {
        hotkey: hk.account_id(),
        take,
    };
    let inc = |take| Call::IncreaseTake {
        hotkey: hk.account_id(),
        take,
    };
    assert_eq!(t.err(&bob, dec(100)), CallError::NotHotkeyOwner);
    assert_eq!(t.err(&alice, dec(11_796)), CallError::InvalidTake);
    t.ok(&alice, dec(1000));
    assert_eq!(t.mg(1).neurons[0].take, 1000);
    assert_eq!(t.err(&alice, inc(1000)), CallError::InvalidTake);
    assert_eq!(t.err(&alice, inc(20_000)), CallError::OutOfRange);
    assert_eq!(t.err(&alice, inc(2000)), CallError::RateLimited);
    t.sudo(SudoCall::SetGlobal(GlobalParam::TakeRateLimit(2)));
    t.empty_blocks(1);
    t.ok(&alice, inc(2000));
    assert_eq!(t.mg(1).neurons[0].take, 2000);
}

#[test]
fn hyperparameter_and_sudo_rules() {
    let mut t = T::dev();
    t.subnet1();
    let (alice, bob) = (kp("//Alice"), kp("//Bob"));
    let set = |param| Call::SetHyperparameter { netuid: 1, param };
    let r = t.ok(&alice, set(Hyperparameter::Tempo(400)));
    assert!(r.events.contains(&Event::HyperparameterSet {
        netuid: 1,
        param: Hyperparameter::Tempo(400)
    }));
    assert_eq!(t.subnet(1).params.tempo, 400);
    assert_eq!(
        t.err(&bob, set(Hyperparameter::Tempo(400))),
        CallError::NotSubnetOwner
    );
    assert_eq!(
        t.err(&alice, set(Hyperparameter::Tempo(10))),
        CallError::OutOfRange
    );
    assert_eq!(
        t.err(&alice, set(Hyperparameter::Kappa(10))),
        CallError::RootOnlyParameter
    );
    assert_eq!(
        t.err(&alice, set(Hyperparameter::AlphaValues(2000, 3000))),
        CallError::LiquidAlphaDisabled
    );
    t.ok(&alice, set(Hyperparameter::LiquidAlphaEnabled(true)));
    assert_eq!(
        t.err(&alice, set(Hyperparameter::AlphaValues(3000, 2000))),
        CallError::OutOfRange
    );
    t.ok(&alice, set(Hyperparameter::AlphaValues(2000, 3000)));
    assert_eq!(
        t.err(&alice, set(Hyperparameter::BondsMovingAverage(980_000))),
        CallError::OutOfRange
    );
    assert_eq!(
        t.err(&alice, set(Hyperparameter::RevealPeriod(0))),
        CallError::OutOfRange
    );
    assert_eq!(
        t.err(&alice, set(Hyperparameter::AlphaSigmoidSteepness(-1))),
        CallError::OutOfRange
    );
    // Root: bounds of its own.
    t.hyper(1, Hyperparameter::Tempo(10));
    t.hyper(1, Hyperparameter::Kappa(10));
    t.hyper(1, Hyperparameter::MaxAllowedUids(4096));
    t.hyper(1, Hyperparameter::AlphaSigmoidSteepness(-1));
    let s = t.subnet(1).params;
    assert_eq!(
        (
            s.tempo,
            s.kappa,
            s.max_allowed_uids,
            s.alpha_sigmoid_steepness
        ),
        (10, 10, 4096, -1)
    );
    let sudo = |netuid, param| Call::Sudo(SudoCall::SetHyperparameter { netuid, param });
    assert_eq!(
        t.err(&alice, sudo(1, Hyperparameter::MaxAllowedUids(4097))),
        CallError::OutOfRange
    );
    assert_eq!(
        t.err(&alice, sudo(1, Hyperparameter::MaxAllowedUids(0))),
        CallError::OutOfRange
    );
    assert_eq!(
        t.err(&alice, sudo(5, Hyperparameter::Kappa(1))),
        CallError::SubnetNotFound
    );
    assert_eq!(
        t.err(&bob, sudo(1, Hyperparameter::Kappa(1))),
        CallError::NotRoot
    );
    t.sudo(SudoCall::SetGlobal(GlobalParam::TxFee(7)));
    assert_eq!(view::config(t.chain.store()).unwrap().tx_fee, 7);
    t.sudo(SudoCall::SetGlobal(GlobalParam::Root(bob.account_id())));
    assert_eq!(
        view::config(t.chain.store()).unwrap().root,
        bob.account_id()
    );
}

#[test]
fn emission_accumulates_and_epochs_are_scheduled() {
    let mut t = T::dev();
    let alice = kp("//Alice");
    t.subnet1();
    t.ok(
        &alice,
        Call::RegisterNetwork {
            hotkey: kp("//Alice/o2").account_id(),
        },
    );
    // Both subnets receive equal shares every block.
    let before = (t.subnet(1).pending_server, t.subnet(2).pending_server);
    let o = t.block(vec![]).unwrap();
    assert!(o.events.contains(&Event::Emission {
        minted: RAO_PER_TAO
    }));
    let after = (t.subnet(1).pending_server, t.subnet(2).pending_server);
    let share = RAO_PER_TAO / 2;
    let cut = share * 11_796 / 65_535;
    let server = (share - cut) / 2;
    assert!(after.0 == before.0 + server || t.subnet(1).epoch_index > 0);
    // Over 60 blocks at tempo 20 each subnet runs 3 epochs, staggered by netuid.
    let mut ran: BTreeMap<u16, Vec<u64>> = BTreeMap::new();
    for _ in 0..60 {
        let o = t.block(vec![]).unwrap();
        for e in o.events {
            if let Event::EpochRan { netuid, .. } = e {
                ran.entry(netuid).or_default().push(t.number());
            }
        }
    }
    assert_eq!(ran[&1].len(), 3, "{ran:?}");
    assert_eq!(ran[&2].len(), 3, "{ran:?}");
    assert_eq!(ran[&1][1] - ran[&1][0], 20);
    assert_eq!(ran[&2][2] - ran[&2][1], 20);
    // Emission weight: subnet 2 set to 0 gets nothing.
    t.hyper(2, Hyperparameter::EmissionWeight(0));
    let p2 = t.subnet(2).pending_server + t.subnet(2).pending_owner_cut;
    t.block(vec![]).unwrap();
    let p2b = t.subnet(2).pending_server + t.subnet(2).pending_owner_cut;
    assert!(p2b == p2 || p2b == 0);
}

#[test]
fn genesis_subnets_are_staggered_by_netuid() {
    let mut t = T::with(|g| {
        for i in 0..3 {
            g.subnets.push(tensornet_runtime::genesis::GenesisSubnet {
                owner: kp("//Alice").account_id().to_hex(),
                hotkey: kp(&format!("//Alice/g{i}")).account_id().to_hex(),
                hyperparameters: Default::default(),
            });
        }
    });
    let mut first: BTreeMap<u16, u64> = BTreeMap::new();
    for _ in 0..40 {
        let o = t.block(vec![]).unwrap();
        for e in o.events {
            if let Event::EpochRan { netuid, .. } = e {
                first.entry(netuid).or_insert(t.number());
            }
        }
    }
    // tempo 20: netuid k first runs at block 20 − k.
    assert_eq!(
        first.into_iter().collect::<Vec<_>>(),
        vec![(1, 19), (2, 18), (3, 17)]
    );
}

#[test]
fn epoch_cap_defers_to_next_block() {
    let mut t = T::dev();
    let alice = kp("//Alice");
    t.subnet1();
    t.ok(
        &alice,
        Call::RegisterNetwork {
            hotkey: kp("//Alice/o2").account_id(),
        },
    );
    t.ok(
        &alice,
        Call::RegisterNetwork {
            hotkey: kp("//Alice/o3").account_id(),
        },
    );
    for n in 1..=3 {
        t.hyper(n, Hyperparameter::Tempo(1));
    }
    let o = t.block(vec![]).unwrap();
    let ran = o
        .events
        .iter()
        .filter(|e| matches!(e, Event::EpochRan { .. }))
        .count();
    let deferred: Vec<_> = o
        .events
        .iter()
        .filter_map(|e| match e {
            Event::EpochDeferred { netuid } => Some(*netuid),
            _ => None,
        })
        .collect();
    assert_eq!(ran, 2);
    assert_eq!(deferred, vec![3]);
}

/// The 5-epoch scenario: one subnet, 2 validators with different stake, 6 miners of
/// increasing quality.
#[test]
fn scenario_five_epochs() {
    let mut t = T::dev();
    let (alice, bob, charlie, dave) = (kp("//Alice"), kp("//Bob"), kp("//Charlie"), kp("//Dave"));
    let owner_hk = t.subnet1();
    t.hyper(1, Hyperparameter::ImmunityPeriod(0));
    let v1 = kp("//Bob/v1");
    let v2 = kp("//Charlie/v2");
    let u_v1 = t.register(&bob, &v1, 1);
    let u_v2 = t.register(&charlie, &v2, 1);
    let miners: Vec<Keypair> = (0..6).map(|i| kp(&format!("//Dave/m{i}"))).collect();
    let mut muids = Vec::new();
    for m in &miners {
        muids.push(t.register(&dave, m, 1));
    }
    // Validators: own stake plus a nominator (Eve) on v1.
    t.ok(
        &bob,
        Call::AddStake {
            hotkey: v1.account_id(),
            amount: 3000 * RAO_PER_TAO,
        },
    );
    t.ok(
        &kp("//Eve"),
        Call::AddStake {
            hotkey: v1.account_id(),
            amount: 1000 * RAO_PER_TAO,
        },
    );
    t.ok(
        &charlie,
        Call::AddStake {
            hotkey: v2.account_id(),
            amount: 1000 * RAO_PER_TAO,
        },
    );
    // Wait for permits (one epoch), then both validators weight quality 1..6.
    let mut epochs = 0;
    let mut epoch_events = Vec::new();
    let quality: Vec<u16> = (1..=6).collect();
    let owner_stake0 =
        view::stake(t.chain.store(), &owner_hk.account_id(), &alice.account_id()).unwrap();
    let eve_stake0 =
        view::stake(t.chain.store(), &v1.account_id(), &kp("//Eve").account_id()).unwrap();
    let mut guard = 0;
    while epochs < 6 {
        guard += 1;
        assert!(guard < 200, "epochs did not run");
        let mut txs = Vec::new();
        let mg = t.mg(1);
        for (v, u) in [(&v1, u_v1), (&v2, u_v2)] {
            let n = &mg.neurons[usize::from(u)];
            if n.validator_permit && t.number() - n.last_update >= 5 {
                txs.push(t.tx(v, weights(1, muids.clone(), quality.clone())));
            }
        }
        let o = t.block(txs).unwrap();
        for r in &o.receipts {
            assert_eq!(r.error, None);
        }
        for e in o.events {
            if let Event::EpochFailed { error, .. } = &e {
                panic!("epoch failed: {error}");
            }
            if let Event::EpochRan { .. } = &e {
                epochs += 1;
                epoch_events.push(e);
            }
        }
    }
    let mg = t.mg(1);
    // Incentive follows quality.
    let inc: Vec<u16> = muids
        .iter()
        .map(|u| mg.neurons[usize::from(*u)].incentive)
        .collect();
    assert!(inc.windows(2).all(|w| w[0] < w[1]), "incentive {inc:?}");
    // Validators earn dividends; the larger stake earns more.
    let d1 = mg.neurons[usize::from(u_v1)].dividends;
    let d2 = mg.neurons[usize::from(u_v2)].dividends;
    assert!(d1 > d2 && d2 > 0, "dividends {d1} {d2}");
    // Miners' stake grew by their server emission; the nominator earned pro rata.
    for u in &muids {
        assert!(mg.neurons[usize::from(*u)].stake > 0);
    }
    let eve_stake =
        view::stake(t.chain.store(), &v1.account_id(), &kp("//Eve").account_id()).unwrap();
    assert!(eve_stake > eve_stake0);
    // The owner earned the owner cut.
    let owner_stake =
        view::stake(t.chain.store(), &owner_hk.account_id(), &alice.account_id()).unwrap();
    assert!(owner_stake > owner_stake0);
    // Every epoch's payouts add up: burned = rao_emission − Σ server − Σ validator (epoch
    // dust) + the owner hotkey's server emission + pro-rata rounding (a few rao).
    let mut owner_cuts = 0u64;
    for e in &epoch_events {
        if let Event::EpochRan {
            rao_emission,
            burned,
            emission,
            owner_cut,
            ..
        } = e
        {
            owner_cuts += owner_cut;
            let all: u64 = emission.iter().map(|x| x.server + x.validator).sum();
            let owner_se: u64 = emission
                .iter()
                .filter(|x| x.hotkey == owner_hk.account_id())
                .map(|x| x.server)
                .sum();
            let base = rao_emission - all + owner_se;
            assert!(
                *burned >= base && *burned <= base + 16,
                "burned {burned}, expected ≈ {base}"
            );
        }
    }
    assert!(owner_cuts > 0);
    assert!(owner_stake - owner_stake0 >= owner_cuts);
    // And the whole ledger balances to the last rao.
    let tot = audit_ledger(t.chain.store()).unwrap();
    assert_eq!(
        tot.minted,
        tot.free + tot.staked + tot.pending + tot.locked + tot.burned
    );
}

fn commit_of(hk: &Keypair, netuid: u16, uids: &[u16], values: &[u16], salt: &[u16]) -> Call {
    Call::CommitWeights {
        netuid,
        hash: commit_hash(&hk.account_id(), netuid, uids, values, salt, 0),
    }
}

fn reveal(netuid: u16, uids: &[u16], values: &[u16], salt: &[u16]) -> Call {
    Call::RevealWeights {
        netuid,
        uids: uids.to_vec(),
        values: values.to_vec(),
        salt: salt.to_vec(),
        version_key: 0,
    }
}

/// Advances to the first block of the next epoch of subnet 1.
fn next_epoch(t: &mut T) {
    let e = t.subnet(1).epoch_index;
    while t.subnet(1).epoch_index == e {
        t.block(vec![]).unwrap();
    }
}

#[test]
fn commit_reveal_cases() {
    let mut t = T::dev();
    let owner = t.subnet1();
    let bob = kp("//Bob");
    t.register(&bob, &kp("//Bob/m1"), 1);
    t.register(&bob, &kp("//Bob/m2"), 1);
    let (uids, vals, salt) = ([1u16, 2], [10u16, 20], [7u16, 8, 9]);
    // Off: commit and reveal are rejected.
    assert_eq!(
        t.free_err(&owner, commit_of(&owner, 1, &uids, &vals, &salt)),
        CallError::CommitRevealDisabled
    );
    t.hyper(1, Hyperparameter::CommitRevealEnabled(true));
    t.empty_blocks(5);
    // Commit; rate limit and last_update apply at commit time.
    let r = t.ok(&owner, commit_of(&owner, 1, &uids, &vals, &salt));
    assert_eq!(r.fee, 0);
    assert_eq!(t.mg(1).neurons[0].last_update, t.number());
    assert_eq!(
        t.free_err(&owner, commit_of(&owner, 1, &uids, &vals, &[1])),
        CallError::RateLimited
    );
    // Too early (same epoch).
    assert_eq!(
        t.free_err(&owner, reveal(1, &uids, &vals, &salt)),
        CallError::RevealTooEarly
    );
    next_epoch(&mut t);
    // Wrong salt.
    assert_eq!(
        t.free_err(&owner, reveal(1, &uids, &vals, &[7, 8])),
        CallError::InvalidReveal
    );
    // In the window: weights stored (upscaled), commit consumed, last_update untouched.
    let lu = t.mg(1).neurons[0].last_update;
    let r = t.ok(&owner, reveal(1, &uids, &vals, &salt));
    assert!(matches!(r.events[0], Event::WeightsRevealed { .. }));
    let n0 = &t.mg(1).neurons[0];
    assert_eq!(n0.weights, Some(vec![(1, 32768), (2, 65535)]));
    assert_eq!(n0.last_update, lu);
    assert_eq!(
        t.free_err(&owner, reveal(1, &uids, &vals, &salt)),
        CallError::InvalidReveal
    );
    // Too late: a commit revealed two epochs later has expired.
    t.empty_blocks(5);
    t.ok(&owner, commit_of(&owner, 1, &uids, &vals, &[1]));
    next_epoch(&mut t);
    next_epoch(&mut t);
    assert_eq!(
        t.free_err(&owner, reveal(1, &uids, &vals, &[1])),
        CallError::ExpiredCommit
    );
    // 11th pending commit.
    t.hyper(1, Hyperparameter::WeightsRateLimit(0));
    for i in 0..10u16 {
        t.ok(&owner, commit_of(&owner, 1, &uids, &vals, &[100 + i]));
    }
    assert_eq!(
        t.free_err(&owner, commit_of(&owner, 1, &uids, &vals, &[200])),
        CallError::TooManyUnrevealedCommits
    );
}

#[test]
fn commit_reveal_masks_weights_to_uids_registered_after_a_pending_commit() {
    let mut t = T::dev();
    let owner = t.subnet1();
    let bob = kp("//Bob");
    t.register(&bob, &kp("//Bob/m1"), 1);
    t.register(&bob, &kp("//Bob/m2"), 1);
    t.empty_blocks(5);
    t.ok(&owner, weights(1, vec![1, 2], vec![1, 1]));
    t.hyper(1, Hyperparameter::CommitRevealEnabled(true));
    t.empty_blocks(5);
    t.ok(&owner, commit_of(&owner, 1, &[1], &[1], &[1]));
    // Re-register uid 2 (after the commit): the owner's weight to it is masked in the epoch.
    let s = t.subnet(1);
    let st = State::new(Overlay::new(t.chain.store()));
    let (inputs, _) = tensornet_runtime::exec::epoch_inputs(&st, &s, t.number() + 1);
    assert_eq!(inputs.weights[0], vec![(1, 65535), (2, 65535)]);
    drop(st);
    t.hyper(1, Hyperparameter::MaxAllowedUids(3));
    t.hyper(1, Hyperparameter::ImmunityPeriod(0));
    // Give m1 some emission so that m2 (lowest emission, later) is not... either way a
    // non-owner uid is replaced; find which.
    t.register(&bob, &kp("//Bob/m3"), 1);
    let mg = t.mg(1);
    let new_uid = mg
        .neurons
        .iter()
        .find(|n| n.hotkey == kp("//Bob/m3").account_id())
        .unwrap()
        .uid;
    let s = t.subnet(1);
    let st = State::new(Overlay::new(t.chain.store()));
    let (inputs, _) = tensornet_runtime::exec::epoch_inputs(&st, &s, t.number() + 1);
    assert!(
        inputs.weights[0].iter().all(|(j, _)| *j != new_uid),
        "{:?}",
        inputs.weights[0]
    );
    assert_eq!(inputs.weights[0].len(), 1);
}

#[test]
fn check_transaction_for_mempool() {
    let t = T::dev();
    let alice = kp("//Alice");
    let tx = t.tx(
        &alice,
        Call::Transfer {
            dest: alice.account_id(),
            amount: 1,
        },
    );
    let g = t.chain.genesis_hash();
    assert_eq!(check_transaction(t.chain.store(), &g, &tx), Ok(TxCheck::Ok));
    let tx = t.tx(
        &alice,
        Call::Transfer {
            dest: alice.account_id(),
            amount: 0,
        },
    );
    assert_eq!(
        check_transaction(t.chain.store(), &g, &tx),
        Ok(TxCheck::WouldFail(CallError::ZeroAmount))
    );
    let tx = t.tx(&alice, weights(1, vec![0], vec![1]));
    assert!(matches!(
        check_transaction(t.chain.store(), &g, &tx),
        Err(BlockError::FreeCallFailed { .. })
    ));
}

#[test]
fn import_checks_roots_and_replays() {
    let mut t = T::dev();
    let mut replica = t.chain.clone();
    t.subnet1();
    let alice = kp("//Alice");
    let (block, _) = {
        let tx = t.tx(
            &alice,
            Call::Transfer {
                dest: kp("//Bob").account_id(),
                amount: 3,
            },
        );
        t.ts += 12_000;
        t.chain.produce_block(t.ts, vec![tx]).unwrap()
    };
    // A replica built block by block from genesis reaches the same root.
    let mut r2 = MemoryChain::new(&dev_genesis().unwrap()).unwrap();
    assert!(r2.import_block(&block).is_err(), "wrong parent");
    let mut bad = block.clone();
    bad.header.state_root = Hash32([1; 32]);
    let _ = replica.produce_block(0, vec![]); // diverge: wrong parent afterwards
    assert!(replica.import_block(&bad).is_err());
    // Full replay through import.
    let mut t2 = T::dev();
    let mut blocks = Vec::new();
    for i in 0..5u64 {
        let tx = t2.tx(
            &alice,
            Call::Transfer {
                dest: kp("//Bob").account_id(),
                amount: i + 1,
            },
        );
        t2.ts += 12_000;
        blocks.push(t2.chain.produce_block(t2.ts, vec![tx]).unwrap().0);
    }
    let mut r3 = MemoryChain::new(&dev_genesis().unwrap()).unwrap();
    for b in &blocks {
        r3.import_block(b).unwrap();
    }
    assert_eq!(r3.state_root(), t2.chain.state_root());
    assert_eq!(
        StateRoot::from_store(r3.store()).unwrap().root(),
        r3.state_root()
    );
    let mut bad = blocks[0].clone();
    bad.header.state_root = Hash32([1; 32]);
    let mut r4 = MemoryChain::new(&dev_genesis().unwrap()).unwrap();
    assert!(matches!(
        r4.import_block(&bad),
        Err(BlockError::BadStateRoot { .. })
    ));
    let mut bad = blocks[0].clone();
    bad.body.clear();
    assert!(matches!(r4.import_block(&bad), Err(BlockError::BadTxRoot)));
}

// ---------------------------------------------------------------- state machine property

#[derive(Clone, Debug)]
enum Op {
    Transfer(usize, usize, u64),
    AddStake(usize, usize, u64),
    RemoveStake(usize, usize, u64),
    Register(usize, usize),
    Weights(usize, Vec<u16>),
    Serve(usize),
    Take(usize, u16),
    Hyper(u16),
    Empty,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4usize, 0..4usize, 0..3_000_000_000_000_000u64)
            .prop_map(|(a, b, x)| Op::Transfer(a, b, x)),
        (0..4usize, 0..4usize, 0..2_000_000_000_000u64).prop_map(|(a, b, x)| Op::AddStake(a, b, x)),
        (0..4usize, 0..4usize, 0..2_000_000_000_000u64)
            .prop_map(|(a, b, x)| Op::RemoveStake(a, b, x)),
        (0..4usize, 0..4usize).prop_map(|(a, b)| Op::Register(a, b)),
        (0..4usize, proptest::collection::vec(0u16..6, 0..4)).prop_map(|(h, u)| Op::Weights(h, u)),
        (0..4usize).prop_map(Op::Serve),
        (0..4usize, any::<u16>()).prop_map(|(h, x)| Op::Take(h, x)),
        (0u16..400).prop_map(Op::Hyper),
        Just(Op::Empty),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn state_machine_ledger_and_replay(blocks in proptest::collection::vec(proptest::collection::vec(op(), 0..4), 1..25)) {
        let colds: Vec<Keypair> = ["//Alice", "//Bob", "//Charlie", "//Poor"].iter().map(|u| kp(u)).collect();
        let hots: Vec<Keypair> = (0..4).map(|i| kp(&format!("//Alice/h{i}"))).collect();
        let mut t = T::dev();
        let mut produced = Vec::new();
        {
            let tx = t.tx(&colds[0], Call::RegisterNetwork { hotkey: kp("//Alice/owner").account_id() });
            t.ts += 12_000;
            produced.push(t.chain.produce_block(t.ts, vec![tx]).unwrap().0);
        }
        for ops in blocks {
            let mut txs: Vec<SignedTransaction> = Vec::new();
            let mut nonces: BTreeMap<AccountId, u64> = BTreeMap::new();
            let g = t.chain.genesis_hash();
            for o in ops {
                let (signer, call) = match o {
                    Op::Transfer(a, b, x) => (&colds[a], Call::Transfer { dest: colds[b].account_id(), amount: x }),
                    Op::AddStake(a, h, x) => (&colds[a], Call::AddStake { hotkey: hots[h].account_id(), amount: x }),
                    Op::RemoveStake(a, h, x) => (&colds[a], Call::RemoveStake { hotkey: hots[h].account_id(), amount: x }),
                    Op::Register(a, h) => (&colds[a], Call::BurnedRegister { netuid: 1, hotkey: hots[h].account_id(), max_price: None }),
                    Op::Take(h, x) => (&colds[0], Call::DecreaseTake { hotkey: hots[h].account_id(), take: x }),
                    Op::Hyper(v) => (&colds[0], Call::SetHyperparameter { netuid: 1, param: Hyperparameter::Tempo(v) }),
                    Op::Weights(h, u) => (&hots[h], Call::SetWeights { netuid: 1, uids: u.clone(), values: u.iter().map(|x| x + 1).collect(), version_key: 0 }),
                    Op::Serve(h) => (&hots[h], Call::ServeAxon { netuid: 1, ip: 0x7f00_0001, port: 8091, ip_type: 4, protocol: 4, version: 1 }),
                    Op::Empty => continue,
                };
                let id = signer.account_id();
                let n = *nonces.entry(id).or_insert_with(|| t.nonce(&id));
                let tx = SignedTransaction::sign(signer, &g, n, call);
                // Offer the transaction the way a block producer would: keep it only if the
                // block stays valid with it.
                let mut trial = txs.clone();
                trial.push(tx.clone());
                let ok = {
                    let mut c = t.chain.clone();
                    c.produce_block(t.ts + 12_000, trial).is_ok()
                };
                if ok {
                    txs.push(tx);
                    nonces.insert(id, n + 1);
                }
            }
            t.ts += 12_000;
            let (b, o) = t.chain.produce_block(t.ts, txs).unwrap();
            prop_assert_eq!(o.receipts.len(), b.body.len());
            let tot = audit_ledger(t.chain.store()).map_err(TestCaseError::fail)?;
            prop_assert_eq!(tot.total_issuance(), tot.minted - tot.burned);
            produced.push(b);
        }
        // Replaying the same blocks from genesis gives the same state root, and the
        // incremental root equals a full rebuild.
        let mut replay = MemoryChain::new(&dev_genesis().unwrap()).unwrap();
        for b in &produced {
            replay.import_block(b).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        prop_assert_eq!(replay.state_root(), t.chain.state_root());
        prop_assert_eq!(replay.store(), t.chain.store());
        prop_assert_eq!(StateRoot::from_store(replay.store()).unwrap().root(), t.chain.state_root());
    }
}
