//! The state root: a BLAKE2b-256 Merkle commitment to every `(key, value)` of the state,
//! updated incrementally from each block's changed keys.
//!
//! Scheme (version 1):
//! - Each entry is a leaf `(kh, vh)` with `kh = BLAKE2b-256(key)` and `vh = BLAKE2b-256(value)`.
//! - Leaves fall into one of 2^16 buckets by the first two bytes of `kh` (big-endian). Inside a
//!   bucket the leaves are sorted by `kh`; the bucket hash is
//!   `BLAKE2b-256(0x00 ‖ kh₁ ‖ vh₁ ‖ kh₂ ‖ vh₂ ‖ …)`, and an empty bucket hashes to 32 zero bytes.
//! - Above the buckets is a complete binary tree of depth 16; a node is
//!   `BLAKE2b-256(0x01 ‖ left ‖ right)`, except that a node whose two children are both zero is
//!   zero. The root of that tree is the state root (zero for the empty state).
//!
//! A proof of one value is the bucket's other leaves plus the 16 sibling hashes of its path;
//! the same data proves absence. The root depends only on the set of entries, never on the
//! order in which they were written. Updating `k` changed keys costs the `k` bucket hashes plus
//! at most `16·k` node hashes, shared near the top.

use crate::hash::blake2b_256;
use crate::store::{StateChanges, StateStore, StoreError};
use std::collections::BTreeMap;
use tensornet_primitives::Hash32;

const DEPTH: usize = 16;

/// The leaves of one bucket: key hash → value hash.
type Bucket = BTreeMap<[u8; 32], [u8; 32]>;
const BUCKETS: usize = 1 << DEPTH;

/// The Merkle tree over the state, kept in memory (about 4 MiB plus 64 bytes per entry).
/// Rebuild it with [`StateRoot::from_store`] when opening a store; then keep it current with
/// [`StateRoot::preview`] and [`StateRoot::commit`] per block.
#[derive(Clone)]
pub struct StateRoot {
    buckets: BTreeMap<u16, Bucket>,
    /// `levels[0]` = bucket hashes (2^16), `levels[DEPTH]` = the root (1).
    levels: Vec<Vec<[u8; 32]>>,
}

/// A computed but not yet applied root update (see [`StateRoot::preview`]).
pub struct RootUpdate {
    root: Hash32,
    buckets: Vec<(u16, Bucket)>,
    nodes: Vec<Vec<(usize, [u8; 32])>>,
}

impl RootUpdate {
    /// The root after the update.
    pub fn root(&self) -> Hash32 {
        self.root
    }
}

impl std::fmt::Debug for StateRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateRoot({})", self.root())
    }
}

impl Default for StateRoot {
    fn default() -> Self {
        StateRoot::new()
    }
}

fn node_hash(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    if l == &[0; 32] && r == &[0; 32] {
        return [0; 32];
    }
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(l);
    buf[33..].copy_from_slice(r);
    blake2b_256(&buf).0
}

fn bucket_hash(leaves: &Bucket) -> [u8; 32] {
    if leaves.is_empty() {
        return [0; 32];
    }
    let mut buf = Vec::with_capacity(1 + 64 * leaves.len());
    buf.push(0u8);
    for (k, v) in leaves {
        buf.extend_from_slice(k);
        buf.extend_from_slice(v);
    }
    blake2b_256(&buf).0
}

fn bucket_of(kh: &[u8; 32]) -> u16 {
    u16::from_be_bytes([kh[0], kh[1]])
}

impl StateRoot {
    /// The tree of the empty state (root = zero).
    pub fn new() -> StateRoot {
        let levels = (0..=DEPTH).map(|l| vec![[0u8; 32]; BUCKETS >> l]).collect();
        StateRoot {
            buckets: BTreeMap::new(),
            levels,
        }
    }

    /// Builds the tree from every entry of a store.
    pub fn from_store(store: &dyn StateStore) -> Result<StateRoot, StoreError> {
        let mut changes = StateChanges::new();
        for (k, v) in store.scan_prefix(&[])? {
            changes.insert(k, Some(v));
        }
        let mut t = StateRoot::new();
        let up = t.preview(&changes);
        t.commit(up);
        Ok(t)
    }

    /// The current root.
    pub fn root(&self) -> Hash32 {
        Hash32(self.levels[DEPTH][0])
    }

    /// Number of entries committed to.
    pub fn len(&self) -> usize {
        self.buckets.values().map(|b| b.len()).sum()
    }

    /// True when the state is empty.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Computes the root after applying `changes`, without changing `self`.
    pub fn preview(&self, changes: &StateChanges) -> RootUpdate {
        // Leaf hashes, sorted by key hash (hence by bucket).
        let mut leaves: Vec<([u8; 32], Option<[u8; 32]>)> = changes
            .iter()
            .map(|(k, v)| (blake2b_256(k).0, v.as_ref().map(|v| blake2b_256(v).0)))
            .collect();
        leaves.sort_unstable_by_key(|a| a.0);
        let mut touched: Vec<(u16, Bucket)> = Vec::new();
        for (kh, vh) in leaves {
            let b = bucket_of(&kh);
            if touched.last().map(|t| t.0) != Some(b) {
                touched.push((b, self.buckets.get(&b).cloned().unwrap_or_default()));
            }
            if let Some((_, bucket)) = touched.last_mut() {
                match vh {
                    Some(vh) => {
                        bucket.insert(kh, vh);
                    }
                    None => {
                        bucket.remove(&kh);
                    }
                }
            }
        }
        // Dirty nodes per level, as sorted (index, hash) lists.
        let mut nodes: Vec<Vec<(usize, [u8; 32])>> = Vec::with_capacity(DEPTH + 1);
        nodes.push(
            touched
                .iter()
                .map(|(b, leaves)| (usize::from(*b), bucket_hash(leaves)))
                .collect(),
        );
        for level in 1..=DEPTH {
            let below = &nodes[level - 1];
            let old = &self.levels[level - 1];
            let mut up: Vec<(usize, [u8; 32])> = Vec::with_capacity(below.len() / 2 + 1);
            let mut i = 0;
            while i < below.len() {
                let p = below[i].0 / 2;
                let (mut l, mut r) = (old[2 * p], old[2 * p + 1]);
                while i < below.len() && below[i].0 / 2 == p {
                    if below[i].0 & 1 == 0 {
                        l = below[i].1;
                    } else {
                        r = below[i].1;
                    }
                    i += 1;
                }
                up.push((p, node_hash(&l, &r)));
            }
            nodes.push(up);
        }
        let root = Hash32(
            nodes[DEPTH]
                .first()
                .map(|n| n.1)
                .unwrap_or(self.levels[DEPTH][0]),
        );
        RootUpdate {
            root,
            buckets: touched,
            nodes,
        }
    }

    /// Applies an update computed by [`StateRoot::preview`] on this same tree.
    pub fn commit(&mut self, update: RootUpdate) {
        for (b, leaves) in update.buckets {
            if leaves.is_empty() {
                self.buckets.remove(&b);
            } else {
                self.buckets.insert(b, leaves);
            }
        }
        for (level, m) in update.nodes.into_iter().enumerate() {
            for (i, h) in m {
                self.levels[level][i] = h;
            }
        }
    }

    /// `preview` then `commit`; returns the new root.
    pub fn apply(&mut self, changes: &StateChanges) -> Hash32 {
        let up = self.preview(changes);
        let r = up.root;
        self.commit(up);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;
    use proptest::prelude::*;

    fn ch(kvs: &[(&[u8], Option<&[u8]>)]) -> StateChanges {
        kvs.iter()
            .map(|(k, v)| (k.to_vec(), v.map(|v| v.to_vec())))
            .collect()
    }

    #[test]
    fn empty_and_delete_back_to_empty() {
        let mut t = StateRoot::new();
        assert_eq!(t.root(), Hash32([0; 32]));
        let r1 = t.apply(&ch(&[(b"a", Some(b"1"))]));
        assert_ne!(r1, Hash32([0; 32]));
        let r2 = t.apply(&ch(&[(b"a", Some(b"2"))]));
        assert_ne!(r1, r2);
        t.apply(&ch(&[(b"a", None)]));
        assert_eq!(t.root(), Hash32([0; 32]));
        assert!(t.is_empty());
    }

    proptest! {
        #[test]
        fn incremental_equals_rebuild_and_order_free(
            ops in proptest::collection::vec((0u8..40, proptest::option::of(0u8..4)), 1..80),
            split in 0usize..80,
        ) {
            // Apply in two blocks incrementally vs. rebuilding from the final store.
            let split = split.min(ops.len());
            let mut store = MemStore::new();
            let mut t = StateRoot::new();
            for part in [&ops[..split], &ops[split..]] {
                let mut c = StateChanges::new();
                for (k, v) in part {
                    c.insert(vec![*k], v.map(|v| vec![v]));
                }
                store.commit(&c);
                t.apply(&c);
            }
            let rebuilt = StateRoot::from_store(&store).unwrap();
            prop_assert_eq!(rebuilt.root(), t.root());
            prop_assert_eq!(rebuilt.len(), store.len());
        }

        #[test]
        fn any_value_change_changes_root(n in 1usize..50, which in 0usize..50, nv in 0u8..255) {
            let which = which % n;
            let mut c = StateChanges::new();
            for i in 0..n { c.insert(vec![i as u8, 7], Some(vec![i as u8])); }
            let mut t = StateRoot::new();
            let r = t.apply(&c);
            let old = vec![which as u8];
            prop_assume!(old != vec![nv]);
            let mut c2 = StateChanges::new();
            c2.insert(vec![which as u8, 7], Some(vec![nv]));
            prop_assert_ne!(t.apply(&c2), r);
        }
    }
}
