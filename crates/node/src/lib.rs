//! # tensornet-node
//!
//! A running chain: the redb store ([`tensornet_storage`]), the transaction pool
//! ([`pool`]), a block producer driven by an [`engine::Engine`] (today
//! [`engine::SingleAuthority`]), and the JSON-RPC server ([`rpc`], API in
//! [`tensornet_rpc_api`], docs in `docs/rpc.md`). `tensornet node run` is a thin wrapper over
//! [`Node::start`].
//!
//! ## Invariants
//! - A block is reported (head, subscriptions, transaction status) only after
//!   [`tensornet_storage::ChainStore::commit_block`] returned, i.e. after its one atomic,
//!   fsynced write: every RPC read goes through a store snapshot, so a head never goes
//!   backwards across a crash.
//! - On start the state root is rebuilt from the stored state and must equal the stored
//!   head's `state_root`; otherwise the node refuses to start.
//! - The producer runs on its own thread; RPC handlers never block on block execution (they
//!   only take the pool lock briefly).
//! - Shutdown (SIGINT/SIGTERM in the CLI, or [`Node::shutdown`]) stops the RPC server, lets
//!   the producer finish the block it is writing, and closes the store.

pub mod engine;
pub mod pool;
pub mod rpc;

use engine::Engine;
use pool::{Pool, PoolLimits, Refusal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tensornet_primitives::Hash32;
use tensornet_rpc_api::{EpochNotice, ErrorCode, HeadInfo};
use tensornet_runtime::{
    execute_block_unchecked, tx_root, Block, BlockError, Genesis, GenesisConfig, Header,
    SignedTransaction, StateRoot,
};
use tensornet_storage::{ChainStore, Opened, StorageError, StoredOutcome};
use tokio::sync::broadcast;

/// Why the node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failure (including incompatible or foreign stores).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The genesis is invalid.
    #[error(transparent)]
    Genesis(#[from] tensornet_runtime::GenesisError),
    /// The stored state does not match the stored head.
    #[error(
        "stored state root {computed} differs from head #{number}'s {header}; the store is damaged"
    )]
    RootMismatch {
        /// Head number.
        number: u64,
        /// Root in the head header.
        header: Hash32,
        /// Root of the stored state.
        computed: Hash32,
    },
    /// Filesystem failure.
    #[error("{0}")]
    Io(String),
    /// The RPC server could not start.
    #[error("cannot start RPC server on {addr}: {reason}")]
    Rpc {
        /// Address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A replayed chain differs from the stored one.
    #[error("verification failed: {0}")]
    Verify(String),
}

/// How to run a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The chain.
    pub genesis: GenesisConfig,
    /// Data directory (the store is `<base>/tensornet/chain.redb`). `None`: a fresh temporary
    /// directory, removed on shutdown.
    pub base_path: Option<PathBuf>,
    /// RPC listen address (port 0 picks a free port).
    pub rpc_addr: SocketAddr,
    /// Block time.
    pub block_time: Duration,
    /// Pool bounds.
    pub pool: PoolLimits,
    /// Most transactions per block.
    pub max_block_txs: usize,
}

impl NodeConfig {
    /// Defaults for a chain: 127.0.0.1:9944, the genesis' block time, default pool bounds.
    pub fn new(genesis: GenesisConfig) -> Result<NodeConfig, NodeError> {
        let block_ms = genesis.chain_config()?.block_time_ms.max(1);
        Ok(NodeConfig {
            genesis,
            base_path: None,
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 9944)),
            block_time: Duration::from_millis(block_ms),
            pool: PoolLimits::default(),
            max_block_txs: 8_192,
        })
    }
}

/// The store file under a base path.
pub fn store_path(base: &Path) -> PathBuf {
    base.join("tensornet").join("chain.redb")
}

/// State shared by the producer and the RPC handlers.
pub struct Shared {
    store: ChainStore,
    pool: Mutex<Pool>,
    heads: broadcast::Sender<HeadInfo>,
    epochs: broadcast::Sender<EpochNotice>,
    stopping: AtomicBool,
    genesis_hash: Hash32,
}

impl Shared {
    fn pool(&self) -> MutexGuard<'_, Pool> {
        match self.pool.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The chain store (in-process benches and tests).
    pub fn store(&self) -> &ChainStore {
        &self.store
    }

    /// Number of pending transactions.
    pub fn pool_len(&self) -> usize {
        self.pool().len()
    }

    /// Number of the durable head block.
    pub fn head_number(&self) -> u64 {
        self.store.snapshot().map(|s| s.head().number).unwrap_or(0)
    }

    /// Validates and pools a transaction (signature checked outside the lock).
    pub fn submit(&self, tx: SignedTransaction) -> Result<Hash32, Refusal> {
        if self.stopping.load(Ordering::Relaxed) {
            return Err(Refusal {
                code: ErrorCode::Unavailable,
                reason: "node is shutting down".into(),
                data: None,
            });
        }
        Pool::verify_signature(&self.genesis_hash, &tx)?;
        let hash = tx.hash();
        let snap = self.store.snapshot().map_err(|e| Refusal {
            code: ErrorCode::Internal,
            reason: e.to_string(),
            data: None,
        })?;
        let included = snap
            .tx_location(&hash)
            .map_err(|e| Refusal {
                code: ErrorCode::Internal,
                reason: e.to_string(),
                data: None,
            })?
            .is_some();
        self.pool().admit(&snap, tx, hash, included)?;
        Ok(hash)
    }
}

/// A running node.
pub struct Node {
    shared: Arc<Shared>,
    rpc_addr: SocketAddr,
    rpc: jsonrpsee::server::ServerHandle,
    producer: Option<std::thread::JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
    opened: Opened,
}

impl Node {
    /// Opens (or creates) the store, checks it, starts the producer and the RPC server.
    /// Must be called inside a Tokio runtime.
    pub async fn start(cfg: NodeConfig, engine: Box<dyn Engine>) -> Result<Node, NodeError> {
        let genesis: Genesis = cfg.genesis.build()?;
        let (base, temp_dir) = match &cfg.base_path {
            Some(b) => (b.clone(), None),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let d = std::env::temp_dir()
                    .join(format!("tensornet-dev-{}-{nanos}", std::process::id()));
                (d.clone(), Some(d))
            }
        };
        let path = store_path(&base);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| NodeError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let (store, opened) = ChainStore::open(&path, &genesis)?;
        let snap = store.snapshot()?;
        let root =
            StateRoot::from_store(&snap).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let head = snap.head().clone();
        if root.root() != head.state_root {
            return Err(NodeError::RootMismatch {
                number: head.number,
                header: head.state_root,
                computed: root.root(),
            });
        }
        drop(snap);
        tracing::info!(
            head = head.number,
            path = %path.display(),
            resumed = matches!(opened, Opened::Resumed),
            "chain store open"
        );
        let (heads, _) = broadcast::channel(1024);
        let (epochs, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            store,
            pool: Mutex::new(Pool::new(genesis.hash, cfg.pool)),
            heads,
            epochs,
            stopping: AtomicBool::new(false),
            genesis_hash: genesis.hash,
        });
        let (rpc, rpc_addr) = rpc::serve(cfg.rpc_addr, shared.clone()).await?;
        let producer = {
            let shared = shared.clone();
            let max = cfg.max_block_txs;
            std::thread::Builder::new()
                .name("producer".into())
                .spawn(move || produce_loop(shared, engine, root, head, max))
                .map_err(|e| NodeError::Io(e.to_string()))?
        };
        Ok(Node {
            shared,
            rpc_addr,
            rpc,
            producer: Some(producer),
            temp_dir,
            opened,
        })
    }

    /// The bound RPC address.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc_addr
    }

    /// Whether the store was created or resumed.
    pub fn opened(&self) -> Opened {
        self.opened
    }

    /// The shared state (for in-process benches and tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the RPC server and the producer (after the block being written), then closes
    /// the store; removes the temporary directory of a dev node without `--base-path`.
    pub async fn shutdown(mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = self.rpc.stop();
        self.rpc.clone().stopped().await;
        if let Some(p) = self.producer.take() {
            let _ = tokio::task::spawn_blocking(move || p.join()).await;
        }
        if let Some(d) = self.temp_dir.take() {
            drop(self.shared);
            let _ = std::fs::remove_dir_all(&d);
        }
        tracing::info!("node stopped");
    }
}

fn refusal_of(err: &BlockError) -> Refusal {
    let (code, reason) = match err {
        BlockError::BadSignature { .. } => (ErrorCode::BadSignature, err.to_string()),
        BlockError::BadNonce { .. } => (ErrorCode::StaleNonce, err.to_string()),
        BlockError::CannotPayFee { .. } => (ErrorCode::CannotPayFee, err.to_string()),
        BlockError::FreeCallFailed { .. } => (ErrorCode::CallWouldFail, err.to_string()),
        _ => (ErrorCode::Internal, err.to_string()),
    };
    Refusal {
        code,
        reason: format!("dropped when building a block: {reason}"),
        data: None,
    }
}

fn tx_index(err: &BlockError) -> Option<usize> {
    match err {
        BlockError::BadSignature { index }
        | BlockError::BadNonce { index, .. }
        | BlockError::CannotPayFee { index }
        | BlockError::FreeCallFailed { index, .. } => Some(*index),
        _ => None,
    }
}

fn produce_loop(
    shared: Arc<Shared>,
    mut engine: Box<dyn Engine>,
    mut root: StateRoot,
    mut head: Header,
    max_txs: usize,
) {
    while !shared.stopping.load(Ordering::SeqCst) {
        let Some(timestamp) =
            engine.wait_for_slot(&head, Instant::now() + Duration::from_millis(50))
        else {
            continue;
        };
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        match produce_one(
            &shared,
            engine.as_mut(),
            &mut root,
            &head,
            timestamp,
            max_txs,
        ) {
            Ok(h) => head = h,
            Err(e) => {
                tracing::error!(error = %e, "block production failed; retrying next slot");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn produce_one(
    shared: &Shared,
    engine: &mut dyn Engine,
    root: &mut StateRoot,
    head: &Header,
    timestamp: u64,
    max_txs: usize,
) -> Result<Header, NodeError> {
    let snap = shared.store.snapshot()?;
    let mut body: Vec<SignedTransaction> = shared
        .pool()
        .ready(max_txs)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let number = head.number + 1;
    // Signatures were verified on admission with this genesis hash.
    let outcome = loop {
        match execute_block_unchecked(&snap, number, timestamp, &body) {
            Ok(o) => break o,
            Err(e) => {
                let Some(i) = tx_index(&e) else {
                    return Err(NodeError::Verify(format!("block {number}: {e}")));
                };
                let bad = body.remove(i);
                tracing::debug!(tx = %bad.hash(), error = %e, "dropping transaction");
                // Drop the signer's later transactions from this block too (their nonces
                // no longer line up); they stay pending.
                body.retain(|t| t.signer != bad.signer || t.nonce < bad.nonce);
                shared.pool().reject(&bad, refusal_of(&e));
            }
        }
    };
    let update = root.preview(&outcome.changes);
    let header = Header {
        parent_hash: head.hash(),
        number,
        timestamp,
        state_root: update.root(),
        tx_root: tx_root(&body),
    };
    let block = Block { header, body };
    engine
        .finalize(&block)
        .map_err(|e| NodeError::Verify(e.to_string()))?;
    let stored = StoredOutcome {
        receipts: outcome.receipts,
        events: outcome.events,
    };
    shared
        .store
        .commit_block(&block, &stored, &outcome.changes)?;
    root.commit(update);
    // Durable from here on: report it.
    let after = shared.store.snapshot()?;
    shared.pool().on_block(&after, &block.body);
    let hash = block.header.hash();
    let info = HeadInfo::from_header(&block.header, block.body.len() as u32);
    let _ = shared.heads.send(info);
    for ev in &stored.events {
        if let Some(n) = EpochNotice::from_event(ev, number, hash) {
            let _ = shared.epochs.send(n);
        }
    }
    tracing::debug!(number, txs = block.body.len(), "block stored");
    Ok(block.header)
}

/// Replays every stored block from genesis in memory and checks each header and the final
/// state root against the store. Returns the head number and state root.
pub fn verify_store(base: &Path, genesis: &GenesisConfig) -> Result<(u64, Hash32), NodeError> {
    let g = genesis.build()?;
    let path = store_path(base);
    if !path.exists() {
        return Err(NodeError::Io(format!(
            "no chain store at {}",
            path.display()
        )));
    }
    let (store, _) = ChainStore::open(&path, &g)?;
    let snap = store.snapshot()?;
    let mut chain = tensornet_runtime::MemoryChain::from_genesis(g);
    let head = snap.head().number;
    for n in 1..=head {
        let b = snap
            .block(n)?
            .ok_or_else(|| NodeError::Verify(format!("block {n} missing")))?;
        let out = chain
            .import_block(&b)
            .map_err(|e| NodeError::Verify(format!("block {n}: {e}")))?;
        let stored = snap
            .outcome(n)?
            .ok_or_else(|| NodeError::Verify(format!("outcome {n} missing")))?;
        if stored.receipts != out.receipts || stored.events != out.events {
            return Err(NodeError::Verify(format!("block {n}: receipts differ")));
        }
    }
    let stored_root = StateRoot::from_store(&snap)
        .map_err(|e| StorageError::Corrupt(e.to_string()))?
        .root();
    if stored_root != chain.state_root() || snap.head() != chain.head() {
        return Err(NodeError::Verify(format!(
            "replayed state root {} differs from stored {}",
            chain.state_root(),
            stored_root
        )));
    }
    Ok((head, stored_root))
}
