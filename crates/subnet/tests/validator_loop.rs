//! The validator loop over a mock chain and real axons on 127.0.0.1: weights are set when due
//! and ordered by answer quality, commit-reveal commits then reveals, a dead miner drops to
//! weight 0 after 3 failed queries, and a restart keeps the scores.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tensornet_axon::{AxonConfig, Dendrite, Echo, HandlerError};
use tensornet_keys::Keypair;
use tensornet_subnet::*;

/// Echoes with a quality: 1.0 echoes exactly, 0.0 answers garbage.
struct EchoMiner(bool);

impl Miner for EchoMiner {
    type Synapse = Echo;
    fn answer(&self, mut e: Echo) -> Result<Echo, HandlerError> {
        e.response = Some(if self.0 { e.text.clone() } else { "?".into() });
        Ok(e)
    }
}

/// Sends 10 words, rewards the share echoed back; the "sloppy" miner gets half via its prefix.
struct EchoValidator;

impl Validator for EchoValidator {
    type Synapse = Echo;
    type Challenge = String;
    fn challenge(&mut self, round: u64) -> (Echo, String) {
        let text = format!("round {round}");
        (
            Echo {
                text: text.clone(),
                response: None,
            },
            text,
        )
    }
    fn score(&self, text: &String, responses: &[Option<Echo>]) -> Vec<f64> {
        responses
            .iter()
            .map(|r| match r.as_ref().and_then(|e| e.response.as_deref()) {
                Some(t) if t == text => 1.0,
                Some(_) => 0.2,
                None => 0.0,
            })
            .collect()
    }
}

#[derive(Default)]
struct MockChain {
    block: Mutex<u64>,
    metagraph: RwLock<Metagraph>,
    commit_reveal: bool,
    calls: Mutex<Vec<String>>,
    last_weights: Mutex<Option<WeightVector>>,
}

impl MockChain {
    fn info(&self) -> SubnetInfo {
        let mut b = self.block.lock().unwrap();
        *b += 5; // five blocks pass per step
        SubnetInfo {
            block: *b,
            epoch_index: *b / 20,
            tempo: 20,
            weights_rate_limit: 5,
            max_weight_limit: 65535,
            min_allowed_weights: 1,
            commit_reveal: self.commit_reveal,
            reveal_period: 1,
            weights_version_key: 0,
        }
    }
}

impl ChainClient for MockChain {
    async fn subnet_info(&self, _netuid: u16) -> Result<SubnetInfo, ChainError> {
        Ok(self.info())
    }
    async fn metagraph(&self, _netuid: u16) -> Result<Metagraph, ChainError> {
        Ok(self.metagraph.read().unwrap().clone())
    }
    async fn set_weights(&self, _n: u16, w: &WeightVector, _k: u64) -> Result<(), ChainError> {
        self.calls.lock().unwrap().push("set".into());
        *self.last_weights.lock().unwrap() = Some(w.clone());
        Ok(())
    }
    async fn commit_weights(
        &self,
        _n: u16,
        _w: &WeightVector,
        _s: &[u16],
        _k: u64,
    ) -> Result<(), ChainError> {
        self.calls.lock().unwrap().push("commit".into());
        Ok(())
    }
    async fn reveal_weights(
        &self,
        _n: u16,
        w: &WeightVector,
        _s: &[u16],
        _k: u64,
    ) -> Result<(), ChainError> {
        self.calls.lock().unwrap().push("reveal".into());
        *self.last_weights.lock().unwrap() = Some(w.clone());
        Ok(())
    }
    async fn ensure_registered(&self, _n: u16, max_price: u64) -> Result<u16, ChainError> {
        if max_price < 1000 {
            return Err(ChainError("registration costs 1000 rao".into()));
        }
        self.calls.lock().unwrap().push("register".into());
        let mut mg = self.metagraph.write().unwrap();
        let uid = mg.n();
        mg.neurons.push(NeuronView {
            uid,
            hotkey: "newminer".into(),
            stake: 0,
            validator_permit: false,
            axon: None,
        });
        Ok(uid)
    }
    async fn serve_axon(&self, _n: u16, addr: SocketAddr) -> Result<(), ChainError> {
        self.calls.lock().unwrap().push(format!("serve {addr}"));
        let mut mg = self.metagraph.write().unwrap();
        if let Some(n) = mg.neurons.iter_mut().find(|n| n.hotkey == "newminer") {
            n.axon = Some(addr);
        }
        Ok(())
    }
}

async fn setup(commit_reveal: bool) -> (Arc<MockChain>, Keypair, Vec<tensornet_axon::RunningAxon>) {
    let vali = Keypair::from_uri("//LoopVali").unwrap();
    let shared: SharedMetagraph = Arc::new(RwLock::new(Metagraph {
        netuid: 1,
        block: 0,
        neurons: vec![NeuronView {
            uid: 0,
            hotkey: vali.ss58(),
            stake: 100,
            validator_permit: true,
            axon: None,
        }],
    }));
    let mut running = Vec::new();
    for (i, good) in [true, false, true].into_iter().enumerate() {
        let key = Keypair::from_uri(&format!("//LoopMiner{i}")).unwrap();
        let axon = miner_axon(
            Arc::new(EchoMiner(good)),
            key.ss58(),
            AxonConfig::default(),
            shared.clone(),
            AccessPolicy::default(),
        );
        let r = axon.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        shared.write().unwrap().neurons.push(NeuronView {
            uid: i as u16 + 1,
            hotkey: key.ss58(),
            stake: 0,
            validator_permit: false,
            axon: Some(r.addr),
        });
        running.push(r);
    }
    let chain = Arc::new(MockChain {
        commit_reveal,
        metagraph: RwLock::new(shared.read().unwrap().clone()),
        ..MockChain::default()
    });
    (chain, vali, running)
}

fn settings(state_path: Option<std::path::PathBuf>) -> ValidatorSettings {
    ValidatorSettings {
        netuid: 1,
        round: RoundConfig {
            timeout: Duration::from_secs(3),
            sample_size: None,
        },
        sync_every_blocks: 10,
        state_path,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_weights_when_due_and_survives_restart_and_dead_miners() {
    let (chain, vali, running) = setup(false).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vali.json");
    let state =
        ValidatorState::load_or_new(&path, 1, &vali.ss58(), ScoreKeeper::default()).unwrap();
    let mut node = ValidatorNode::new(
        chain.clone(),
        Dendrite::new(vali.clone()).unwrap(),
        EchoValidator,
        state,
        settings(Some(path.clone())),
    );
    let mut actions = Vec::new();
    for _ in 0..6 {
        let r = node.step().await.unwrap();
        assert_eq!(r.round.results.len(), 3);
        actions.push(r.weights);
    }
    // block 5: first weights; then every 20 blocks (tempo > rate limit): block 25
    assert!(matches!(actions[0], WeightAction::Set(_)), "{actions:?}");
    assert_eq!(
        actions
            .iter()
            .filter(|a| matches!(a, WeightAction::Set(_)))
            .count(),
        2
    );
    let w = chain.last_weights.lock().unwrap().clone().unwrap();
    assert_eq!(w.uids, vec![1, 2, 3]);
    assert_eq!(w.values[0], 65535);
    assert_eq!(w.values[2], 65535);
    assert!(
        w.values[1] < 65535 / 4,
        "sloppy miner weighs less: {:?}",
        w.values
    );

    // Restart: a new node from the same file keeps the scores and the weight timing.
    let before = node.state().clone();
    drop(node);
    let restored =
        ValidatorState::load_or_new(&path, 1, &vali.ss58(), ScoreKeeper::default()).unwrap();
    assert_eq!(restored, before);
    let mut node = ValidatorNode::new(
        chain.clone(),
        Dendrite::new(vali.clone()).unwrap(),
        EchoValidator,
        restored,
        settings(Some(path.clone())),
    );

    // Miner uid 3 dies: its axon points at a closed port from the next sync on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    chain.metagraph.write().unwrap().neurons[3].axon = Some(closed);
    let mut failures = 0;
    for _ in 0..8 {
        let r = node.step().await.unwrap();
        if r.round.results.iter().any(|x| x.uid == 3 && !x.answered) {
            failures += 1;
        }
        if failures >= 3 {
            break;
        }
    }
    assert!(failures >= 3);
    assert!(node.state().scores.is_failing(3));
    // next due submission leaves uid 3 out
    let mut last = None;
    for _ in 0..5 {
        if let WeightAction::Set(w) = node.step().await.unwrap().weights {
            last = Some(w);
            break;
        }
    }
    let w = last.expect("weights set again");
    assert_eq!(w.uids, vec![1, 2]);
    for r in running {
        r.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_then_reveal_in_the_next_epoch() {
    let (chain, vali, running) = setup(true).await;
    let state = ValidatorState::new(1, vali.ss58(), ScoreKeeper::default());
    let mut node = ValidatorNode::new(
        chain.clone(),
        Dendrite::new(vali).unwrap(),
        EchoValidator,
        state,
        settings(None),
    );
    let mut seen = Vec::new();
    for _ in 0..8 {
        let r = node.step().await.unwrap();
        match r.weights {
            WeightAction::Committed(_) => seen.push(("commit", r.block)),
            WeightAction::Revealed(_) => seen.push(("reveal", r.block)),
            _ => {}
        }
    }
    // commit at block 5 (epoch 0), reveal at block 20 (epoch 1), commit again at block 25
    assert_eq!(seen[0], ("commit", 5));
    assert_eq!(seen[1], ("reveal", 20));
    assert_eq!(seen[2].0, "commit");
    assert_eq!(
        chain.calls.lock().unwrap()[..2],
        ["commit".to_string(), "reveal".to_string()]
    );
    for r in running {
        r.task.abort();
    }
}

#[tokio::test]
async fn miner_registers_publishes_and_republishes_on_address_change() {
    let chain = Arc::new(MockChain::default());
    let shared: SharedMetagraph = Arc::new(RwLock::new(Metagraph::default()));
    let cheap = MinerSettings {
        netuid: 1,
        hotkey: "newminer".into(),
        max_registration_price: 10,
    };
    let mut poor = MinerNode::new(chain.clone(), cheap.clone(), shared.clone());
    let a: SocketAddr = "127.0.0.1:4001".parse().unwrap();
    assert!(poor.step(a).await.is_err(), "price limit respected");
    let mut node = MinerNode::new(
        chain.clone(),
        MinerSettings {
            max_registration_price: 5000,
            ..cheap
        },
        shared.clone(),
    );
    let s1 = node.step(a).await.unwrap();
    assert_eq!((s1.uid, s1.registered, s1.published), (0, true, true));
    let s2 = node.step(a).await.unwrap();
    assert!(!s2.registered && !s2.published);
    let b: SocketAddr = "127.0.0.1:4002".parse().unwrap();
    assert!(node.step(b).await.unwrap().published);
    assert_eq!(
        *chain.calls.lock().unwrap(),
        vec!["register", "serve 127.0.0.1:4001", "serve 127.0.0.1:4002"]
    );
    // the axon's hooks see the metagraph as synced at the start of the last step
    assert_eq!(
        shared.read().unwrap().by_hotkey("newminer").unwrap().axon,
        Some(a)
    );
}
