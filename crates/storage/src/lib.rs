//! # tensornet-storage
//!
//! The node's persistent chain on [redb]: blocks, their receipts and events, a transaction
//! index, the state (the runtime's opaque key → value pairs) and the head, in one file.
//!
//! ## Invariants
//! - **One atomic write per block.** [`ChainStore::commit_block`] writes the block, its
//!   outcome, its transaction index entries, every state change and the new head in one redb
//!   write transaction, committed with `Durability::Immediate` (fsync before it returns). A
//!   crash at any moment leaves either the whole block or none of it; a reader never sees a
//!   half-applied block.
//! - **Snapshots are consistent.** A [`Snapshot`] is a redb read transaction: the head, the
//!   blocks and the state it shows all belong to the same committed block, whatever is
//!   written meanwhile. It implements the runtime's [`StateStore`], so the runtime executes the
//!   next block on it and the RPC reads views from it.
//! - **Versioned.** The file records [`FORMAT`]; opening a store of another format, or of
//!   another chain (genesis hash), fails with a clear error and changes nothing.
//! - **Engine-agnostic.** Only runtime types (headers, blocks, receipts, state changes) are
//!   stored; nothing here knows how a block was agreed on.
//!
//! The state root is not stored per key: the node rebuilds the runtime's
//! [`tensornet_runtime::StateRoot`] from the state on start-up and checks it against the head
//! header ([`Snapshot::head`]).

use parity_scale_codec::{Decode, Encode};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use tensornet_primitives::{BlockNumber, Hash32};
use tensornet_runtime::{
    Block, Event, Genesis, Header, Receipt, StateChanges, StateStore, StoreError,
};

/// The store format this build reads and writes. Format 2 (2026-11-26): the runtime's state
/// layout keeps an owner coldkey's stake inside its hotkey record (`HotkeyInfo` gained
/// `owner_stake` and `nominators`), so stores of format 1 cannot be read.
pub const FORMAT: &str = "tensornet-store/2";

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const HASHES: TableDefinition<&[u8], u64> = TableDefinition::new("block_hashes");
const OUTCOMES: TableDefinition<u64, &[u8]> = TableDefinition::new("outcomes");
const TXS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tx_index");
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");

const K_FORMAT: &str = "format";
const K_GENESIS: &str = "genesis_hash";
const K_HEAD: &str = "head";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The file could not be opened or created as a redb database.
    #[error("cannot open chain store {path}: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The store was written by an incompatible tensornet version.
    #[error(
        "chain store {path} has format {found:?}, this tensornet reads {FORMAT:?}; \
         use another --base-path or remove the old store"
    )]
    IncompatibleVersion {
        /// The file.
        path: PathBuf,
        /// Format found in the file.
        found: String,
    },
    /// The store holds another chain.
    #[error(
        "chain store {path} holds the chain with genesis {found}, not {expected}; \
         use another --base-path for this chain"
    )]
    GenesisMismatch {
        /// The file.
        path: PathBuf,
        /// Genesis hash in the store.
        found: Hash32,
        /// Genesis hash asked for.
        expected: Hash32,
    },
    /// A block does not extend the stored head.
    #[error("block {number} does not extend the stored head {head}")]
    NotNext {
        /// The block's number.
        number: BlockNumber,
        /// Stored head number.
        head: BlockNumber,
    },
    /// Stored bytes do not decode (corruption or a bug).
    #[error("chain store is corrupt: {0}")]
    Corrupt(String),
    /// A redb error.
    #[error("chain store: {0}")]
    Db(String),
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Db(e.to_string())
            }
        }
    )*};
}
db_err!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// What [`ChainStore::open`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened {
    /// A new store was initialised with the genesis.
    Created,
    /// An existing store of the same chain was opened.
    Resumed,
}

/// Where a transaction is in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TxLocation {
    /// Block number.
    pub block: BlockNumber,
    /// Position in the block body.
    pub index: u32,
}

/// A block's outcome as stored: receipts (one per transaction) and block-level events.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredOutcome {
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Block-level events.
    pub events: Vec<Event>,
}

/// The persistent chain.
pub struct ChainStore {
    db: Database,
    path: PathBuf,
    genesis_hash: Hash32,
}

impl std::fmt::Debug for ChainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainStore({})", self.path.display())
    }
}

fn decode<T: Decode>(bytes: &[u8], what: &str) -> Result<T, StorageError> {
    let mut input = bytes;
    let v = T::decode(&mut input).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))?;
    if !input.is_empty() {
        return Err(StorageError::Corrupt(format!("{what}: trailing bytes")));
    }
    Ok(v)
}

impl ChainStore {
    /// Opens the store at `path` (creating it if missing) for the chain of `genesis`. A new
    /// store is initialised with the genesis state and block 0 in one write. An existing one
    /// must have format [`FORMAT`] and the same genesis hash.
    pub fn open(path: &Path, genesis: &Genesis) -> Result<(ChainStore, Opened), StorageError> {
        let open_err = |reason: String| StorageError::Open {
            path: path.to_path_buf(),
            reason,
        };
        let db = Database::create(path).map_err(|e| open_err(e.to_string()))?;
        // Read the meta table (absent in a new file).
        let (format, stored_genesis) = {
            let r = db.begin_read()?;
            match r.open_table(META) {
                Ok(t) => {
                    let f = t
                        .get(K_FORMAT)?
                        .map(|v| String::from_utf8_lossy(v.value()).into_owned());
                    let g = t.get(K_GENESIS)?.map(|v| v.value().to_vec());
                    (f, g)
                }
                Err(redb::TableError::TableDoesNotExist(_)) => (None, None),
                Err(e) => return Err(e.into()),
            }
        };
        let store = |db| ChainStore {
            db,
            path: path.to_path_buf(),
            genesis_hash: genesis.hash,
        };
        match format {
            Some(f) if f != FORMAT => Err(StorageError::IncompatibleVersion {
                path: path.to_path_buf(),
                found: f,
            }),
            Some(_) => {
                let found = stored_genesis
                    .as_deref()
                    .and_then(|g| <[u8; 32]>::try_from(g).ok())
                    .map(Hash32)
                    .ok_or_else(|| StorageError::Corrupt("genesis hash missing".into()))?;
                if found != genesis.hash {
                    return Err(StorageError::GenesisMismatch {
                        path: path.to_path_buf(),
                        found,
                        expected: genesis.hash,
                    });
                }
                Ok((store(db), Opened::Resumed))
            }
            None => {
                {
                    let r = db.begin_read()?;
                    let non_empty = r.list_tables()?.next().is_some();
                    if non_empty {
                        return Err(StorageError::IncompatibleVersion {
                            path: path.to_path_buf(),
                            found: "(none: a redb file tensornet did not write)".into(),
                        });
                    }
                }
                let w = db.begin_write()?;
                {
                    let mut state = w.open_table(STATE)?;
                    for (k, v) in &genesis.changes {
                        if let Some(v) = v {
                            state.insert(k.as_slice(), v.as_slice())?;
                        }
                    }
                    let block = Block {
                        header: genesis.header.clone(),
                        body: Vec::new(),
                    };
                    w.open_table(BLOCKS)?
                        .insert(0u64, block.encode().as_slice())?;
                    w.open_table(HASHES)?
                        .insert(genesis.hash.0.as_slice(), 0u64)?;
                    let out = StoredOutcome {
                        receipts: Vec::new(),
                        events: Vec::new(),
                    };
                    w.open_table(OUTCOMES)?
                        .insert(0u64, out.encode().as_slice())?;
                    w.open_table(TXS)?;
                    let mut meta = w.open_table(META)?;
                    meta.insert(K_GENESIS, genesis.hash.0.as_slice())?;
                    meta.insert(K_HEAD, 0u64.to_le_bytes().as_slice())?;
                    meta.insert(K_FORMAT, FORMAT.as_bytes())?;
                }
                w.commit()?;
                Ok((store(db), Opened::Created))
            }
        }
    }

    /// The genesis hash of the stored chain.
    pub fn genesis_hash(&self) -> Hash32 {
        self.genesis_hash
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A consistent read view of the last committed block.
    pub fn snapshot(&self) -> Result<Snapshot, StorageError> {
        let r = self.db.begin_read()?;
        let meta = r.open_table(META)?;
        let head_no = meta
            .get(K_HEAD)?
            .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| StorageError::Corrupt("head missing".into()))?;
        let blocks = r.open_table(BLOCKS)?;
        let head_block: Block = match blocks.get(head_no)? {
            Some(v) => decode(v.value(), "head block")?,
            None => {
                return Err(StorageError::Corrupt(format!(
                    "head block {head_no} missing"
                )))
            }
        };
        Ok(Snapshot {
            head: head_block.header,
            state: r.open_table(STATE)?,
            blocks,
            hashes: r.open_table(HASHES)?,
            outcomes: r.open_table(OUTCOMES)?,
            txs: r.open_table(TXS)?,
        })
    }

    /// Appends a block: block, outcome, transaction index, state changes and head in one
    /// durable write. The block must be the stored head's child (number and parent hash);
    /// otherwise nothing is written.
    pub fn commit_block(
        &self,
        block: &Block,
        outcome: &StoredOutcome,
        changes: &StateChanges,
    ) -> Result<(), StorageError> {
        let number = block.header.number;
        let w = self.db.begin_write()?;
        {
            let mut meta = w.open_table(META)?;
            let head_no = meta
                .get(K_HEAD)?
                .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
                .map(u64::from_le_bytes)
                .ok_or_else(|| StorageError::Corrupt("head missing".into()))?;
            let mut blocks = w.open_table(BLOCKS)?;
            let parent: Block = match blocks.get(head_no)? {
                Some(v) => decode(v.value(), "head block")?,
                None => return Err(StorageError::Corrupt("head block missing".into())),
            };
            if number != head_no + 1 || block.header.parent_hash != parent.header.hash() {
                return Err(StorageError::NotNext {
                    number,
                    head: head_no,
                });
            }
            blocks.insert(number, block.encode().as_slice())?;
            w.open_table(HASHES)?
                .insert(block.header.hash().0.as_slice(), number)?;
            w.open_table(OUTCOMES)?
                .insert(number, outcome.encode().as_slice())?;
            let mut txs = w.open_table(TXS)?;
            for (i, tx) in block.body.iter().enumerate() {
                let loc = TxLocation {
                    block: number,
                    index: i as u32,
                };
                txs.insert(tx.hash().0.as_slice(), loc.encode().as_slice())?;
            }
            let mut state = w.open_table(STATE)?;
            for (k, v) in changes {
                match v {
                    Some(v) => {
                        state.insert(k.as_slice(), v.as_slice())?;
                    }
                    None => {
                        state.remove(k.as_slice())?;
                    }
                }
            }
            meta.insert(K_HEAD, number.to_le_bytes().as_slice())?;
        }
        w.commit()?;
        Ok(())
    }
}

/// A consistent read view of one committed block (a redb read transaction).
pub struct Snapshot {
    head: Header,
    state: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    blocks: redb::ReadOnlyTable<u64, &'static [u8]>,
    hashes: redb::ReadOnlyTable<&'static [u8], u64>,
    outcomes: redb::ReadOnlyTable<u64, &'static [u8]>,
    txs: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl Snapshot {
    /// The head header of this view.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// A block by number (`None` above the head).
    pub fn block(&self, number: BlockNumber) -> Result<Option<Block>, StorageError> {
        if number > self.head.number {
            return Ok(None);
        }
        match self.blocks.get(number)? {
            Some(v) => Ok(Some(decode(v.value(), "block")?)),
            None => Ok(None),
        }
    }

    /// The number of the block with this hash.
    pub fn block_number(&self, hash: &Hash32) -> Result<Option<BlockNumber>, StorageError> {
        Ok(self
            .hashes
            .get(hash.0.as_slice())?
            .map(|v| v.value())
            .filter(|n| *n <= self.head.number))
    }

    /// A block's receipts and events.
    pub fn outcome(&self, number: BlockNumber) -> Result<Option<StoredOutcome>, StorageError> {
        if number > self.head.number {
            return Ok(None);
        }
        match self.outcomes.get(number)? {
            Some(v) => Ok(Some(decode(v.value(), "outcome")?)),
            None => Ok(None),
        }
    }

    /// Where a transaction was included, if it was.
    pub fn tx_location(&self, hash: &Hash32) -> Result<Option<TxLocation>, StorageError> {
        match self.txs.get(hash.0.as_slice())? {
            Some(v) => Ok(Some(decode(v.value(), "tx index")?)),
            None => Ok(None),
        }
    }
}

impl StateStore for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.state
            .get(key)
            .map(|o| o.map(|v| v.value().to_vec()))
            .map_err(|e| StoreError(e.to_string()))
    }

    fn read(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        let v = self.state.get(key).map_err(|e| StoreError(e.to_string()))?;
        f(v.as_ref().map(|g| g.value()));
        Ok(())
    }

    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<(), StoreError> {
        let range = self
            .state
            .range::<&[u8]>(prefix..)
            .map_err(|e| StoreError(e.to_string()))?;
        for item in range {
            let (k, v) = item.map_err(|e| StoreError(e.to_string()))?;
            if !k.value().starts_with(prefix) {
                break;
            }
            f(k.value(), v.value());
        }
        Ok(())
    }

    fn read_sorted(
        &self,
        keys: &[&[u8]],
        f: &mut dyn FnMut(usize, Option<&[u8]>),
    ) -> Result<(), StoreError> {
        // A forward cursor from key to key, re-seeked after a few steps (see MemStore).
        const STEPS: usize = 8;
        let err = |e: redb::StorageError| StoreError(e.to_string());
        let seek = |k: &[u8]| {
            self.state
                .range::<&[u8]>(k..)
                .map(|r| r.peekable())
                .map_err(err)
        };
        let Some(first) = keys.first() else {
            return Ok(());
        };
        let mut cur = seek(first)?;
        for (i, k) in keys.iter().enumerate() {
            let mut steps = 0;
            loop {
                match cur.peek() {
                    Some(Ok((ck, _))) if ck.value() < *k => {}
                    Some(Err(_)) => {
                        if let Some(Err(e)) = cur.next() {
                            return Err(err(e));
                        }
                    }
                    _ => break,
                }
                if steps == STEPS {
                    cur = seek(k)?;
                    break;
                }
                cur.next();
                steps += 1;
            }
            match cur.peek() {
                Some(Ok((ck, v))) if ck.value() == *k => f(i, Some(v.value())),
                Some(Err(_)) => {
                    if let Some(Err(e)) = cur.next() {
                        return Err(err(e));
                    }
                }
                _ => f(i, None),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensornet_primitives::{AccountId, RAO_PER_TAO};
    use tensornet_runtime::{dev_genesis, Call, MemoryChain, SignedTransaction, StateRoot};

    fn genesis() -> Genesis {
        dev_genesis().unwrap().build().unwrap()
    }

    fn transfer(chain: &MemoryChain, nonce: u64) -> SignedTransaction {
        let alice = tensornet_keys::Keypair::from_uri("//Alice").unwrap();
        SignedTransaction::sign(
            &alice,
            &chain.genesis_hash(),
            nonce,
            Call::Transfer {
                dest: AccountId([9; 32]),
                amount: RAO_PER_TAO,
            },
        )
    }

    /// Produces `n` blocks in memory and in the store; returns the memory chain.
    fn grow(store: &ChainStore, chain: &mut MemoryChain, n: u64) {
        for _ in 0..n {
            let nonce = tensornet_runtime::view::account(
                chain.store(),
                &tensornet_keys::Keypair::from_uri("//Alice")
                    .unwrap()
                    .account_id(),
            )
            .unwrap()
            .nonce;
            let ts = chain.head().timestamp + 250;
            let (block, outcome) = chain
                .produce_block(ts, vec![transfer(chain, nonce)])
                .unwrap();
            let stored = StoredOutcome {
                receipts: outcome.receipts,
                events: outcome.events,
            };
            store
                .commit_block(&block, &stored, &outcome.changes)
                .unwrap();
        }
    }

    #[test]
    fn create_resume_and_state_matches_memory_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        let g = genesis();
        let mut chain = MemoryChain::from_genesis(g.clone());
        {
            let (store, opened) = ChainStore::open(&path, &g).unwrap();
            assert_eq!(opened, Opened::Created);
            grow(&store, &mut chain, 5);
        }
        let (store, opened) = ChainStore::open(&path, &g).unwrap();
        assert_eq!(opened, Opened::Resumed);
        let snap = store.snapshot().unwrap();
        assert_eq!(snap.head(), chain.head());
        let root = StateRoot::from_store(&snap).unwrap();
        assert_eq!(root.root(), chain.state_root());
        assert_eq!(snap.head().state_root, chain.state_root());
        // blocks, hashes, tx index
        let b3 = snap.block(3).unwrap().unwrap();
        assert_eq!(snap.block_number(&b3.header.hash()).unwrap(), Some(3));
        let loc = snap.tx_location(&b3.body[0].hash()).unwrap().unwrap();
        assert_eq!(loc, TxLocation { block: 3, index: 0 });
        assert_eq!(snap.outcome(3).unwrap().unwrap().receipts.len(), 1);
        assert!(snap.block(6).unwrap().is_none());
    }

    #[test]
    fn refuses_non_child_and_keeps_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        let g = genesis();
        let (store, _) = ChainStore::open(&path, &g).unwrap();
        let mut chain = MemoryChain::from_genesis(g.clone());
        grow(&store, &mut chain, 2);
        // Re-committing block 2 (not the head's child) is refused.
        let snap = store.snapshot().unwrap();
        let b2 = snap.block(2).unwrap().unwrap();
        let out = snap.outcome(2).unwrap().unwrap();
        let err = store
            .commit_block(&b2, &out, &StateChanges::new())
            .unwrap_err();
        assert!(matches!(err, StorageError::NotNext { number: 2, head: 2 }));
        assert_eq!(store.snapshot().unwrap().head().number, 2);
    }

    #[test]
    fn snapshot_is_isolated_from_later_commits() {
        let dir = tempfile::tempdir().unwrap();
        let g = genesis();
        let (store, _) = ChainStore::open(&dir.path().join("c.redb"), &g).unwrap();
        let mut chain = MemoryChain::from_genesis(g.clone());
        let before = store.snapshot().unwrap();
        let root_before = StateRoot::from_store(&before).unwrap().root();
        grow(&store, &mut chain, 1);
        assert_eq!(before.head().number, 0);
        assert_eq!(StateRoot::from_store(&before).unwrap().root(), root_before);
        assert_eq!(root_before, g.header.state_root);
        assert!(before.block(1).unwrap().is_none());
    }

    #[test]
    fn refuses_other_genesis_other_format_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.redb");
        let g = genesis();
        drop(ChainStore::open(&path, &g).unwrap());
        // Another chain.
        let mut cfg = dev_genesis().unwrap();
        cfg.timestamp += 1;
        let other = cfg.build().unwrap();
        let e = ChainStore::open(&path, &other).unwrap_err();
        assert!(matches!(e, StorageError::GenesisMismatch { .. }), "{e}");
        // Another format.
        {
            let db = Database::create(&path).unwrap();
            let w = db.begin_write().unwrap();
            w.open_table(META)
                .unwrap()
                .insert(K_FORMAT, b"tensornet-store/0".as_slice())
                .unwrap();
            w.commit().unwrap();
        }
        let e = ChainStore::open(&path, &g).unwrap_err();
        assert!(e.to_string().contains("tensornet-store/0"), "{e}");
        assert!(matches!(e, StorageError::IncompatibleVersion { .. }));
        // A file that is not redb at all.
        let junk = dir.path().join("junk.redb");
        std::fs::write(&junk, b"hello, this is not a database").unwrap();
        let e = ChainStore::open(&junk, &g).unwrap_err();
        assert!(matches!(e, StorageError::Open { .. }), "{e}");
        // A redb file with foreign tables.
        let foreign = dir.path().join("foreign.redb");
        {
            let db = Database::create(&foreign).unwrap();
            let w = db.begin_write().unwrap();
            const T: TableDefinition<u64, u64> = TableDefinition::new("theirs");
            w.open_table(T).unwrap().insert(1, 2).unwrap();
            w.commit().unwrap();
        }
        let e = ChainStore::open(&foreign, &g).unwrap_err();
        assert!(matches!(e, StorageError::IncompatibleVersion { .. }), "{e}");
    }

    #[test]
    fn scan_prefix_matches_memstore() {
        let dir = tempfile::tempdir().unwrap();
        // The dev genesis plus 100 funded accounts, so that sorted reads step and re-seek.
        let mut cfg = dev_genesis().unwrap();
        for i in 0..100u8 {
            cfg.balances
                .push(tensornet_runtime::genesis::GenesisBalance {
                    account: AccountId([i; 32]).to_hex(),
                    rao: 1 + u64::from(i),
                });
        }
        let g = cfg.build().unwrap();
        let (store, _) = ChainStore::open(&dir.path().join("c.redb"), &g).unwrap();
        let mut chain = MemoryChain::from_genesis(g.clone());
        grow(&store, &mut chain, 3);
        let snap = store.snapshot().unwrap();
        for prefix in [&b""[..], b"a", b"g", b"gblk", b"zz"] {
            assert_eq!(
                snap.scan_prefix(prefix).unwrap(),
                chain.store().scan_prefix(prefix).unwrap(),
                "prefix {prefix:?}"
            );
        }
        // Sorted multi-reads: present keys (some far apart, so the cursor re-seeks), absent
        // keys between them and past the end, a repeated key.
        let all: Vec<Vec<u8>> = snap
            .scan_prefix(b"")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert!(all.len() > 20, "{} keys", all.len());
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for (i, k) in all.iter().enumerate() {
            if i % 3 == 0 || i > all.len() - 4 {
                keys.push(k.clone());
            }
            if i % 5 == 0 {
                let mut absent = k.clone();
                absent.push(0);
                keys.push(absent);
            }
        }
        keys.push(b"zzzz".to_vec());
        keys.insert(1, keys[0].clone());
        keys.sort();
        let mut got = Vec::new();
        let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        snap.read_sorted(&key_refs, &mut |i, v| got.push((i, v.map(|v| v.to_vec()))))
            .unwrap();
        let expected: Vec<(usize, Option<Vec<u8>>)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (i, chain.store().get(k).unwrap()))
            .collect();
        assert_eq!(got, expected);
        for k in &keys {
            let mut one = None;
            snap.read(k, &mut |v| one = v.map(|v| v.to_vec())).unwrap();
            assert_eq!(one, chain.store().get(k).unwrap());
        }
    }
}
