//! [`MemoryChain`]: a whole chain in memory (store + state root + head), the reference for how
//! the node drives the runtime: execute → check roots → commit changes → advance the root.

use crate::exec::{execute_block, BlockOutcome};
use crate::genesis::{Genesis, GenesisConfig, GenesisError};
use crate::root::StateRoot;
use crate::store::MemStore;
use crate::types::{tx_root, Block, BlockError, Header, SignedTransaction};
use tensornet_primitives::Hash32;

/// A chain held in memory.
#[derive(Clone, Debug)]
pub struct MemoryChain {
    store: MemStore,
    root: StateRoot,
    genesis_hash: Hash32,
    head: Header,
}

impl MemoryChain {
    /// Starts a chain from a genesis config.
    pub fn new(genesis: &GenesisConfig) -> Result<MemoryChain, GenesisError> {
        Ok(MemoryChain::from_genesis(genesis.build()?))
    }

    /// Starts a chain from a built genesis.
    pub fn from_genesis(g: Genesis) -> MemoryChain {
        let mut store = MemStore::new();
        store.commit(&g.changes);
        let mut root = StateRoot::new();
        root.apply(&g.changes);
        MemoryChain {
            store,
            root,
            genesis_hash: g.hash,
            head: g.header,
        }
    }

    /// The state.
    pub fn store(&self) -> &MemStore {
        &self.store
    }
    /// The genesis hash (signed by every transaction).
    pub fn genesis_hash(&self) -> Hash32 {
        self.genesis_hash
    }
    /// The head header.
    pub fn head(&self) -> &Header {
        &self.head
    }
    /// The current state root.
    pub fn state_root(&self) -> Hash32 {
        self.root.root()
    }

    /// Builds, executes and appends the next block. On error nothing changes.
    pub fn produce_block(
        &mut self,
        timestamp: u64,
        body: Vec<SignedTransaction>,
    ) -> Result<(Block, BlockOutcome), BlockError> {
        let number = self.head.number + 1;
        let outcome = execute_block(&self.store, &self.genesis_hash, number, timestamp, &body)?;
        let update = self.root.preview(&outcome.changes);
        let header = Header {
            parent_hash: self.head.hash(),
            number,
            timestamp,
            state_root: update.root(),
            tx_root: tx_root(&body),
        };
        self.store.commit(&outcome.changes);
        self.root.commit(update);
        self.head = header.clone();
        Ok((Block { header, body }, outcome))
    }

    /// Validates and appends a block made elsewhere. On error nothing changes.
    pub fn import_block(&mut self, block: &Block) -> Result<BlockOutcome, BlockError> {
        let h = &block.header;
        if h.parent_hash != self.head.hash() {
            return Err(BlockError::BadParent);
        }
        if h.tx_root != tx_root(&block.body) {
            return Err(BlockError::BadTxRoot);
        }
        let outcome = execute_block(
            &self.store,
            &self.genesis_hash,
            h.number,
            h.timestamp,
            &block.body,
        )?;
        let update = self.root.preview(&outcome.changes);
        if update.root() != h.state_root {
            return Err(BlockError::BadStateRoot {
                header: h.state_root,
                computed: update.root(),
            });
        }
        self.store.commit(&outcome.changes);
        self.root.commit(update);
        self.head = h.clone();
        Ok(outcome)
    }
}
