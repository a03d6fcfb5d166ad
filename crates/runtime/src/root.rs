//! The state root: a BLAKE2b-256 Merkle commitment to every `(key, value)` of the state,
//! updated incrementally from each block's changed keys.
//!
//! Scheme (version 3):
//! - Each entry is a leaf `kh ‖ d` with `kh = BLAKE2b-256(key)` and `d` 65 bytes: a value of
//!   at most 64 bytes is inline, `d = len ‖ value ‖ zeros`; a longer one is hashed,
//!   `d = 0xFF ‖ BLAKE2b-256(value) ‖ 32 zeros`.
//! - Leaves fall into one of 2^16 buckets by the first two bytes of `kh` (big-endian). Inside a
//!   bucket the leaves are sorted by `kh`; the bucket hash is
//!   `BLAKE2b-256(0x00 ‖ kh₁ ‖ d₁ ‖ kh₂ ‖ d₂ ‖ …)` (1 + 97·m bytes), and an empty bucket
//!   hashes to 32 zero bytes.
//! - Above the buckets is a complete 4-ary tree of depth 8: node `i` of level `l + 1` is
//!   `BLAKE2b-256(c₀ ‖ c₁ ‖ c₂ ‖ c₃)` over its children `4i … 4i + 3` of level `l` (level 0 =
//!   the buckets), except that a node whose four children are all zero is zero. A node's
//!   preimage is exactly 128 bytes — one BLAKE2b block — and a bucket's is never 128 bytes
//!   long, so the two kinds cannot be confused. The root of that tree (level 8) is the state
//!   root (zero for the empty state).
//!
//! A proof of one value is the bucket's other leaves plus the 3 sibling hashes on each of the 8
//! levels of its path; the same data proves absence. The root depends only on the set of
//! entries, never on the order in which they were written. Updating `k` changed keys costs
//! `k` key hashes, the hashes of the changed values longer than 64 bytes, the touched
//! buckets' hashes (one BLAKE2b block for a bucket of one leaf) and at most `8·k`
//! node hashes (one BLAKE2b block each), shared near the top; all hashes of one step (keys,
//! values, buckets, each tree level) are independent and are computed together, several at a
//! time with SIMD ([`blake2b_simd::many`]).
//!
//! Earlier versions (until 2026-11-26): version 1 had a binary tree of depth 16 with nodes
//! `BLAKE2b-256(0x01 ‖ left ‖ right)` (two BLAKE2b blocks per two bits of path instead of
//! one); versions 1 and 2 hashed every value (leaf `kh ‖ BLAKE2b-256(value)`).

use crate::store::{StateChanges, StateStore, StoreError};
use blake2b_simd::many::{hash_many, HashManyJob};
use blake2b_simd::Params;
use std::ops::Range;
use tensornet_primitives::Hash32;

/// Bits of a key hash that choose its bucket.
const BUCKET_BITS: usize = 16;
const BUCKETS: usize = 1 << BUCKET_BITS;
/// Children per tree node.
const ARITY: usize = 4;
/// Tree levels above the buckets (`ARITY^DEPTH = BUCKETS`).
const DEPTH: usize = 8;
/// Bytes of a node's preimage (its four children).
const NODE_INPUT: usize = 32 * ARITY;

/// Bytes of a leaf's value part `d`.
const LEAF_DATA: usize = 65;
/// Longest value stored inline in its leaf.
const INLINE_MAX: usize = 64;
/// Tag of a hashed value.
const HASHED: u8 = 0xFF;

/// One entry: key hash, value part `d` (see the module docs).
type Leaf = ([u8; 32], [u8; LEAF_DATA]);

/// The value part of a leaf: the value inline, or its hash `vh` when longer than
/// [`INLINE_MAX`].
fn leaf_data(value: &[u8], vh: Option<&[u8; 32]>) -> [u8; LEAF_DATA] {
    let mut d = [0u8; LEAF_DATA];
    match vh {
        Some(h) => {
            d[0] = HASHED;
            d[1..33].copy_from_slice(h);
        }
        None => {
            let n = value.len().min(INLINE_MAX);
            d[0] = n as u8;
            d[1..1 + n].copy_from_slice(&value[..n]);
        }
    }
    d
}

/// The Merkle tree over the state, kept in memory (about 5 MiB plus 97 bytes per entry).
/// Rebuild it with [`StateRoot::from_store`] when opening a store; then keep it current with
/// [`StateRoot::preview`] and [`StateRoot::commit`] per block.
#[derive(Clone)]
pub struct StateRoot {
    /// `buckets[b]`: the leaves of bucket `b`, sorted by key hash.
    buckets: Vec<Vec<Leaf>>,
    /// Number of leaves.
    entries: usize,
    /// `levels[0]` = bucket hashes (2^16), `levels[l]` has `2^16 / 4^l` nodes,
    /// `levels[DEPTH]` = the root (1).
    levels: Vec<Vec<[u8; 32]>>,
}

/// A computed but not yet applied root update (see [`StateRoot::preview`]).
pub struct RootUpdate {
    root: Hash32,
    entries: usize,
    /// Touched buckets and the range of their new leaves in `leaves`.
    buckets: Vec<(usize, Range<usize>)>,
    leaves: Vec<Leaf>,
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

/// BLAKE2b with a 32-byte output.
fn params() -> Params {
    let mut p = Params::new();
    p.hash_length(32);
    p
}

/// BLAKE2b-256 of every input, in order, several at a time where the CPU allows.
fn hash_all<T: AsRef<[u8]>>(params: &Params, inputs: &[T]) -> Vec<[u8; 32]> {
    let mut jobs: Vec<HashManyJob> = inputs
        .iter()
        .map(|i| HashManyJob::new(params, i.as_ref()))
        .collect();
    hash_many(jobs.iter_mut());
    jobs.iter()
        .map(|j| {
            let mut h = [0u8; 32];
            h.copy_from_slice(j.to_hash().as_bytes());
            h
        })
        .collect()
}

fn bucket_of(kh: &[u8; 32]) -> usize {
    usize::from(u16::from_be_bytes([kh[0], kh[1]]))
}

/// Appends `old` (sorted leaves) with `changes` (sorted by key hash; `None` deletes) applied
/// to `out`.
fn merge_bucket(
    old: &[Leaf],
    changes: &[([u8; 32], Option<[u8; LEAF_DATA]>)],
    out: &mut Vec<Leaf>,
) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < changes.len() {
        let take_change = match (old.get(i), changes.get(j)) {
            (Some(o), Some(c)) => {
                if o.0 == c.0 {
                    i += 1;
                    true
                } else {
                    c.0 < o.0
                }
            }
            (None, Some(_)) => true,
            _ => false,
        };
        if take_change {
            if let Some((kh, Some(vh))) = changes.get(j) {
                out.push((*kh, *vh));
            }
            j += 1;
        } else {
            if let Some(o) = old.get(i) {
                out.push(*o);
            }
            i += 1;
        }
    }
}

impl StateRoot {
    /// The tree of the empty state (root = zero).
    pub fn new() -> StateRoot {
        let levels = (0..=DEPTH)
            .map(|l| vec![[0u8; 32]; BUCKETS >> (2 * l)])
            .collect();
        StateRoot {
            buckets: vec![Vec::new(); BUCKETS],
            entries: 0,
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
        self.entries
    }

    /// True when the state is empty.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Computes the root after applying `changes`, without changing `self`.
    pub fn preview(&self, changes: &StateChanges) -> RootUpdate {
        let params = params();
        // Key and value hashes, all in one batch each.
        let key_hashes = hash_all(
            &params,
            &changes.keys().map(|k| k.as_slice()).collect::<Vec<_>>(),
        );
        let value_hashes = hash_all(
            &params,
            &changes
                .values()
                .filter_map(|v| v.as_deref().filter(|v| v.len() > INLINE_MAX))
                .collect::<Vec<_>>(),
        );
        let mut vhs = value_hashes.iter();
        let mut leaves: Vec<([u8; 32], Option<[u8; LEAF_DATA]>)> = key_hashes
            .into_iter()
            .zip(changes.values())
            .map(|(kh, v)| {
                let d = v.as_deref().map(|v| {
                    let vh = if v.len() > INLINE_MAX {
                        vhs.next()
                    } else {
                        None
                    };
                    leaf_data(v, vh)
                });
                (kh, d)
            })
            .collect();
        // Key-hash order, comparing the first 8 bytes as one integer first.
        let head =
            |h: &[u8; 32]| u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        leaves.sort_unstable_by(|a, b| head(&a.0).cmp(&head(&b.0)).then_with(|| a.0.cmp(&b.0)));
        // The touched buckets, in bucket order: (bucket, leaves index j where its changes end).
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < leaves.len() {
            let b = bucket_of(&leaves[i].0);
            let mut j = i + 1;
            while j < leaves.len() && bucket_of(&leaves[j].0) == b {
                j += 1;
            }
            groups.push((b, j));
            i = j;
        }
        // The old sizes, read in one independent pass (the loads overlap).
        let old_len: usize = groups.iter().map(|(b, _)| self.buckets[*b].len()).sum();
        // The new leaves of every touched bucket in one vector, and the bucket preimages in
        // one buffer.
        let mut new_leaves: Vec<Leaf> = Vec::with_capacity(old_len + leaves.len());
        let mut touched: Vec<(usize, Range<usize>)> = Vec::with_capacity(groups.len());
        let mut buf =
            Vec::with_capacity((32 + LEAF_DATA) * (old_len + leaves.len()) + groups.len());
        let mut spans = Vec::with_capacity(groups.len());
        let mut entries = self.entries;
        let mut i = 0;
        for (b, j) in groups {
            let old = &self.buckets[b];
            let start = new_leaves.len();
            merge_bucket(old, &leaves[i..j], &mut new_leaves);
            i = j;
            let r = start..new_leaves.len();
            entries = entries + r.len() - old.len();
            if !r.is_empty() {
                let at = buf.len();
                buf.push(0u8);
                for (k, v) in &new_leaves[r.clone()] {
                    buf.extend_from_slice(k);
                    buf.extend_from_slice(v);
                }
                spans.push(at..buf.len());
            }
            touched.push((b, r));
        }
        let hashes = hash_all(
            &params,
            &spans.into_iter().map(|r| &buf[r]).collect::<Vec<_>>(),
        );
        let mut hs = hashes.into_iter();
        let mut nodes: Vec<Vec<(usize, [u8; 32])>> = Vec::with_capacity(DEPTH + 1);
        nodes.push(
            touched
                .iter()
                .map(|(b, r)| {
                    let h = if r.is_empty() {
                        [0; 32]
                    } else {
                        hs.next().unwrap_or([0; 32])
                    };
                    (*b, h)
                })
                .collect(),
        );
        // Dirty nodes level by level, as sorted (index, hash) lists.
        for level in 1..=DEPTH {
            let below = &nodes[level - 1];
            let old = &self.levels[level - 1];
            let mut parents: Vec<(usize, [u8; NODE_INPUT])> =
                Vec::with_capacity(below.len() / 2 + 1);
            let mut i = 0;
            while i < below.len() {
                let p = below[i].0 / ARITY;
                let mut input = [0u8; NODE_INPUT];
                for (c, chunk) in input.chunks_exact_mut(32).enumerate() {
                    chunk.copy_from_slice(&old[ARITY * p + c]);
                }
                while i < below.len() && below[i].0 / ARITY == p {
                    let c = below[i].0 % ARITY;
                    input[32 * c..32 * c + 32].copy_from_slice(&below[i].1);
                    i += 1;
                }
                parents.push((p, input));
            }
            let nonzero: Vec<&[u8]> = parents
                .iter()
                .filter(|(_, input)| input.iter().any(|b| *b != 0))
                .map(|(_, input)| input.as_slice())
                .collect();
            let mut hs = hash_all(&params, &nonzero).into_iter();
            let up = parents
                .iter()
                .map(|(p, input)| {
                    let h = if input.iter().any(|b| *b != 0) {
                        hs.next().unwrap_or([0; 32])
                    } else {
                        [0; 32]
                    };
                    (*p, h)
                })
                .collect();
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
            entries,
            buckets: touched,
            leaves: new_leaves,
            nodes,
        }
    }

    /// Applies an update computed by [`StateRoot::preview`] on this same tree.
    pub fn commit(&mut self, update: RootUpdate) {
        for (b, r) in update.buckets {
            let bucket = &mut self.buckets[b];
            bucket.clear();
            bucket.extend_from_slice(&update.leaves[r]);
        }
        self.entries = update.entries;
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
    use crate::hash::blake2b_256;
    use crate::store::MemStore;
    use proptest::prelude::*;

    /// The scheme of the module docs computed naively from the whole store, with the other
    /// BLAKE2b implementation, one hash at a time.
    fn naive_root(store: &MemStore) -> Hash32 {
        let mut buckets: Vec<Vec<([u8; 32], Vec<u8>)>> = vec![Vec::new(); 1 << 16];
        for (k, v) in store.iter() {
            let kh = blake2b_256(k).0;
            // d: 65 bytes, the value inline (length first) or 0xFF and its hash.
            let mut d = vec![0u8; 65];
            if v.len() <= 64 {
                d[0] = v.len() as u8;
                d[1..1 + v.len()].copy_from_slice(v);
            } else {
                d[0] = 0xFF;
                d[1..33].copy_from_slice(&blake2b_256(v).0);
            }
            buckets[usize::from(u16::from_be_bytes([kh[0], kh[1]]))].push((kh, d));
        }
        let mut level: Vec<[u8; 32]> = buckets
            .iter_mut()
            .map(|b| {
                if b.is_empty() {
                    return [0; 32];
                }
                b.sort();
                let mut pre = vec![0u8];
                for (k, v) in b.iter() {
                    pre.extend_from_slice(k);
                    pre.extend_from_slice(v);
                }
                blake2b_256(&pre).0
            })
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(4)
                .map(|c| {
                    if c.iter().all(|h| *h == [0; 32]) {
                        [0; 32]
                    } else {
                        blake2b_256(&c.concat()).0
                    }
                })
                .collect();
        }
        Hash32(level[0])
    }

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

    #[test]
    fn shared_buckets_follow_the_naive_scheme() {
        // 3000 keys: dozens of buckets hold two or more leaves.
        let mut store = MemStore::new();
        let mut t = StateRoot::new();
        let c: StateChanges = (0u32..3000)
            .map(|i| {
                (
                    i.to_le_bytes().to_vec(),
                    Some(vec![i as u8; 1 + (i % 300) as usize]),
                )
            })
            .collect();
        store.commit(&c);
        assert_eq!(t.apply(&c), naive_root(&store));
        assert_eq!(t.len(), 3000);
        let c2: StateChanges = (0u32..3000)
            .step_by(2)
            .map(|i| (i.to_le_bytes().to_vec(), (i % 4 == 0).then(|| vec![9])))
            .collect();
        store.commit(&c2);
        assert_eq!(t.apply(&c2), naive_root(&store));
        assert_eq!(t.len(), store.len());
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
            prop_assert_eq!(naive_root(&store), t.root());
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
