//! End-to-end checks of the supervised subnet: miners really learn, settings separate them,
//! memorising the held-out split does not pay, and a validator round over real axons on
//! 127.0.0.1 scores them in the right order.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};
use tensornet_axon::{AxonConfig, Dendrite};
use tensornet_keys::Keypair;
use tensornet_subnet::{
    miner_axon, run_round, AccessPolicy, Metagraph, Miner, NeuronView, RoundConfig, ScoreKeeper,
    Validator, ValidatorState,
};
use tensornet_subnet_supervised::{
    reward, Dataset, DatasetName, MemorisingMiner, MlpConfig, MlpMiner, SupervisedPredict,
    SupervisedValidator,
};

fn digits() -> Arc<Dataset> {
    static D: OnceLock<Arc<Dataset>> = OnceLock::new();
    D.get_or_init(|| Arc::new(Dataset::load(DatasetName::Digits)))
        .clone()
}

/// The four preset miners, trained once per test binary.
fn presets() -> &'static Vec<(&'static str, Arc<MlpMiner>, f64)> {
    static P: OnceLock<Vec<(&'static str, Arc<MlpMiner>, f64)>> = OnceLock::new();
    P.get_or_init(|| {
        let d = digits();
        MlpConfig::presets()
            .into_iter()
            .map(|(name, cfg)| {
                let t = Instant::now();
                let m = MlpMiner::train(&d, &cfg).unwrap();
                let secs = t.elapsed().as_secs_f64();
                eprintln!("trained {name}: {secs:.2} s");
                (name, Arc::new(m), secs)
            })
            .collect()
    })
}

fn held_out_accuracy(d: &Dataset, m: &impl Miner<Synapse = SupervisedPredict>) -> f64 {
    let req = SupervisedPredict {
        dataset: d.name.as_str().into(),
        features: d
            .held_out
            .x
            .iter()
            .map(|r| r.iter().map(|v| f64::from(*v)).collect())
            .collect(),
        outputs: None,
    };
    let out = m.answer(req).unwrap();
    reward(
        d.task,
        &d.held_out.y,
        out.outputs.as_deref(),
        d.target_variance,
    )
}

/// Mean reward over `rounds` secret challenges of one validator.
fn challenged_score(
    v: &mut SupervisedValidator,
    m: &impl Miner<Synapse = SupervisedPredict>,
    rounds: u64,
) -> f64 {
    let mut total = 0.0;
    for round in 0..rounds {
        let (syn, labels) = v.challenge(round);
        let out = m.answer(syn).ok();
        total += v.score(&labels, &[out])[0];
    }
    total / rounds as f64
}

#[test]
fn presets_are_clearly_different_and_full_is_good() {
    let d = digits();
    let mut v = SupervisedValidator::new(d.clone(), [7; 32], 100);
    let mut held = Vec::new();
    let mut secret = Vec::new();
    for (name, m, secs) in presets() {
        let a = held_out_accuracy(&d, m.as_ref());
        let s = challenged_score(&mut v, m.as_ref(), 5);
        eprintln!("{name:12} held-out accuracy {a:.4}  transformed {s:.4}  train {secs:.2} s");
        held.push(a);
        secret.push(s);
    }
    for i in 1..held.len() {
        assert!(
            held[i] >= held[i - 1] + 0.05,
            "held-out accuracies must rise by >= 5 points: {held:?}"
        );
        assert!(
            secret[i] > secret[i - 1],
            "transformed scores must keep the order: {secret:?}"
        );
    }
    assert!(held[3] >= 0.97, "full preset reaches 97 %: {}", held[3]);
}

#[test]
fn memorising_miner_loses_to_a_trained_mlp_under_the_secret_transform() {
    let d = digits();
    let memo = MemorisingMiner::new(&d);
    // it really memorised: perfect on the untransformed held-out split
    assert_eq!(held_out_accuracy(&d, &memo), 1.0);
    let mut v = SupervisedValidator::new(d.clone(), [9; 32], 100);
    let (syn, _) = v.challenge(0);
    assert_eq!(
        memo.hits(&syn.features),
        0,
        "no transformed sample is in the table"
    );
    let memo_score = challenged_score(&mut v, &memo, 5);
    let full = &presets()[3].1;
    let mlp_score = challenged_score(&mut v, full.as_ref(), 5);
    eprintln!("memoriser {memo_score:.4}  full MLP {mlp_score:.4}");
    assert!(memo_score < 0.2, "{memo_score}");
    assert!(mlp_score > memo_score + 0.5, "{mlp_score} vs {memo_score}");
}

#[test]
fn tabular_datasets_learn_and_memorising_fails() {
    let cfg = MlpConfig {
        hidden: 16,
        epochs: 30,
        batch_size: 32,
        learning_rate: 0.01,
        ..MlpConfig::full()
    };
    for name in [DatasetName::BreastCancer, DatasetName::Diabetes] {
        let d = Arc::new(Dataset::load(name));
        let m = MlpMiner::train(&d, &cfg).unwrap();
        let memo = MemorisingMiner::new(&d);
        let mut v = SupervisedValidator::new(d.clone(), [3; 32], 80);
        let a = held_out_accuracy(&d, &m);
        let s = challenged_score(&mut v, &m, 3);
        let ms = challenged_score(&mut v, &memo, 3);
        eprintln!("{name}: held-out {a:.4}  transformed {s:.4}  memoriser {ms:.4}");
        match name {
            DatasetName::BreastCancer => assert!(a > 0.9 && s > 0.85, "{a} {s}"),
            _ => assert!(a > 0.3 && s > 0.3, "{a} {s}"),
        }
        assert!(ms < s, "memoriser {ms} vs mlp {s}");
    }
}

#[test]
fn challenges_are_secret_and_reproducible() {
    let d = digits();
    let mut a = SupervisedValidator::new(d.clone(), [1; 32], 50);
    let mut b = SupervisedValidator::new(d.clone(), [2; 32], 50);
    let (a0, la0) = a.challenge(0);
    assert_eq!(
        a.challenge(0).0,
        a0,
        "same secret and round: same challenge"
    );
    assert_ne!(a.challenge(1).0, a0, "another round: another challenge");
    assert_ne!(b.challenge(0).0, a0, "another validator: another challenge");
    assert_eq!(a0.features.len(), 50);
    assert_eq!(la0.0.len(), 50);
    // a missing or malformed answer scores 0
    assert_eq!(a.score(&la0, &[None]), vec![0.0]);
    let mut bad = a0.clone();
    bad.outputs = Some(vec![vec![1.0; 3]; 50]);
    assert_eq!(a.score(&la0, &[Some(bad)]), vec![0.0]);
}

#[test]
fn miner_rejects_bad_requests() {
    let m = &presets()[0].1;
    let mut req = SupervisedPredict {
        dataset: "diabetes".into(),
        features: vec![vec![0.0; 64]],
        outputs: None,
    };
    assert!(m.answer(req.clone()).is_err());
    req.dataset = "digits".into();
    req.features = vec![vec![0.0; 63]];
    assert!(m.answer(req.clone()).is_err());
    req.features = vec![vec![f64::NAN; 64]];
    assert!(m.answer(req).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validator_round_over_axons_on_localhost() {
    let d = digits();
    let vali = Keypair::from_uri("//SupervisedVali").unwrap();
    let keys: Vec<Keypair> = (0..4)
        .map(|i| Keypair::from_uri(&format!("//SupervisedMiner{i}")).unwrap())
        .collect();
    let metagraph = Arc::new(RwLock::new(Metagraph {
        netuid: 1,
        block: 0,
        neurons: vec![NeuronView {
            uid: 0,
            hotkey: vali.ss58(),
            stake: 1_000_000,
            validator_permit: true,
            axon: None,
        }],
    }));
    let mut running = Vec::new();
    for (i, (_, m, _)) in presets().iter().enumerate() {
        let axon = miner_axon(
            m.clone(),
            keys[i].ss58(),
            AxonConfig::default(),
            metagraph.clone(),
            AccessPolicy::default(),
        );
        let r = axon.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        metagraph.write().unwrap().neurons.push(NeuronView {
            uid: i as u16 + 1,
            hotkey: keys[i].ss58(),
            stake: 0,
            validator_permit: false,
            axon: Some(r.addr),
        });
        running.push(r);
    }
    let snapshot = metagraph.read().unwrap().clone();
    let dendrite = Dendrite::new(vali.clone()).unwrap();
    let mut validator = SupervisedValidator::new(d.clone(), [5; 32], 100);
    let mut state = ValidatorState::new(1, vali.ss58(), ScoreKeeper::default());
    let cfg = RoundConfig {
        timeout: Duration::from_secs(10),
        sample_size: None,
    };
    for _ in 0..4 {
        let report = run_round(&dendrite, &mut validator, &snapshot, &mut state, &cfg).await;
        assert_eq!(report.results.len(), 4);
        assert!(report
            .results
            .iter()
            .all(|r| r.answered && r.status_code == 200));
    }
    let scores: Vec<f64> = (1..=4).map(|u| state.scores.score(u)).collect();
    eprintln!("scores after 4 rounds: {scores:?}");
    assert!(scores.windows(2).all(|w| w[0] < w[1]), "{scores:?}");

    // A stranger without a permit is blacklisted (403) and its query scores nothing.
    let stranger = Dendrite::new(Keypair::from_uri("//Stranger").unwrap()).unwrap();
    let mut other = ValidatorState::new(1, "stranger", ScoreKeeper::default());
    let report = run_round(&stranger, &mut validator, &snapshot, &mut other, &cfg).await;
    assert!(report
        .results
        .iter()
        .all(|r| r.status_code == 403 && !r.answered));

    // A miner that goes away (its axon now points at a closed port) fails its queries; after 3
    // in a row its weight score is 0 while the others keep theirs.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut gone = snapshot.clone();
    gone.neurons[4].axon = Some(closed);
    let short = RoundConfig {
        timeout: Duration::from_secs(2),
        sample_size: None,
    };
    for i in 0..3 {
        let report = run_round(&dendrite, &mut validator, &gone, &mut state, &short).await;
        assert!(!report.results[3].answered);
        if i < 2 {
            assert!(state.scores.weight_scores(5)[4] > 0.0);
        }
    }
    let w = state.scores.weight_scores(5);
    assert_eq!(w[4], 0.0);
    assert!(w[1..4].iter().all(|s| *s > 0.0));
    let weights = tensornet_subnet::compute_weights(&state, &gone, 65535, 1).unwrap();
    assert_eq!(weights.uids, vec![1, 2, 3]);
    for r in running {
        r.task.abort();
    }
}
