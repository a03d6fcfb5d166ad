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
//! time with SIMD ([`blake2b_simd::many`]). A big update also uses a second thread (scoped,
//! started per update): when the key and value hashes come to at least 4096 BLAKE2b blocks
//! (a key counting 3: short jobs cost more per block), the changed keys are split in two runs
//! of about the same hashing work, one per thread; with at least 512 changed keys, the two
//! halves of the tree (key hashes below / from `0x80…`) are merged and hashed one per thread
//! up to the root's children, and the root is hashed from those. Every hash lands in the same
//! place whichever thread computes it, so the result does not depend on the split (the tests
//! compare both ways with a naive rebuild).
//!
//! Earlier versions (until 2026-11-26): version 1 had a binary tree of depth 16 with nodes
//! `BLAKE2b-256(0x01 ‖ left ‖ right)` (two BLAKE2b blocks per two bits of path instead of
//! one); versions 1 and 2 hashed every value (leaf `kh ‖ BLAKE2b-256(value)`).

use crate::store::{StateChanges, StateStore, StoreError};
use blake2b_simd::many::{hash_many, HashManyJob};
use blake2b_simd::Params;
use std::cmp::Ordering;
use std::ops::Range;
use tensornet_primitives::Hash32;

/// Bits of a key hash that choose its bucket.
const BUCKET_BITS: usize = 16;
const BUCKETS: usize = 1 << BUCKET_BITS;
/// Children per tree node.
const ARITY: usize = 4;
/// Tree levels above the buckets (`ARITY^DEPTH = BUCKETS`).
const DEPTH: usize = 8;

/// Bytes of a leaf's value part `d`.
const LEAF_DATA: usize = 65;
/// Bytes of a leaf `kh ‖ d`.
const LEAF: usize = 32 + LEAF_DATA;
/// Longest value stored inline in its leaf.
const INLINE_MAX: usize = 64;
/// Tag of a hashed value.
const HASHED: u8 = 0xFF;

/// Short hash jobs handed to `hash_many` at a time (the job array stays in cache).
const CHUNK: usize = 128;

/// Cost of hashing a key block, in blocks of long values (a short job has more overhead per
/// block: its own setup, padding and output; measured on AVX2).
const KEY_COST: usize = 3;

/// How big a step must be to be split over two threads.
#[derive(Clone, Copy)]
struct Split {
    /// Key and value hashes: at least this much work, in BLAKE2b blocks of long values (a key
    /// block counts [`KEY_COST`]).
    leaf_blocks: usize,
    /// Merging, bucket and node hashes: at least this many changed keys.
    tree_keys: usize,
}

/// The thresholds of [`StateRoot::preview`].
const SPLIT: Split = Split {
    leaf_blocks: 4096,
    tree_keys: 512,
};

/// One changed key: its key hash and its new value part `d` (`None`: deleted).
#[derive(Clone, Copy)]
struct Change {
    kh: [u8; 32],
    d: Option<[u8; LEAF_DATA]>,
}

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
    /// `buckets[b]`: the preimage of bucket `b`'s hash, `0x00 ‖ kh₁ ‖ d₁ ‖ …` with the leaves
    /// sorted by key hash; empty for an empty bucket.
    buckets: Vec<Vec<u8>>,
    /// Number of leaves.
    entries: usize,
    /// `levels[0]` = bucket hashes (2^16), `levels[l]` has `2^16 / 4^l` nodes,
    /// `levels[DEPTH]` = the root (1).
    levels: Vec<Vec<[u8; 32]>>,
}

/// The update of the touched buckets and their ancestors, in the whole tree or in one half
/// of it (key hashes below / from `0x80…`, up to the root's children).
struct Part {
    /// Touched buckets and the range of their new preimage in `buf` (empty: now empty).
    buckets: Vec<(usize, Range<usize>)>,
    buf: Vec<u8>,
    /// Leaves of the touched buckets before and after.
    old_leaves: usize,
    new_leaves: usize,
    /// Dirty nodes of levels `0 ..= DEPTH` (a half: `0 .. DEPTH`), as sorted (index, hash)
    /// lists.
    nodes: Vec<Vec<(usize, [u8; 32])>>,
}

/// A computed but not yet applied root update (see [`StateRoot::preview`]).
pub struct RootUpdate {
    root: Hash32,
    entries: usize,
    /// The whole tree, or its two halves (key hashes below / from 0x80…).
    parts: Vec<Part>,
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

/// BLAKE2b-256 of every input, in order, handed to `put`; `chunk` inputs at a time, several
/// at once with SIMD where the CPU allows ([`hash_many`] keeps every lane busy until the
/// chunk runs out).
fn hash_each<'a>(
    params: &Params,
    inputs: impl IntoIterator<Item = &'a [u8]>,
    chunk: usize,
    mut put: impl FnMut([u8; 32]),
) {
    let mut inputs = inputs.into_iter();
    let mut jobs: Vec<HashManyJob<'a>> = Vec::new();
    loop {
        jobs.extend(
            inputs
                .by_ref()
                .take(chunk)
                .map(|i| HashManyJob::new(params, i)),
        );
        if jobs.is_empty() {
            return;
        }
        hash_many(jobs.iter_mut());
        for j in jobs.drain(..) {
            let mut h = [0u8; 32];
            h.copy_from_slice(j.to_hash().as_bytes());
            put(h);
        }
    }
}

/// `(a(), b())`, with `b` on a second thread when `split` (and one can be started).
fn join<A, B: Send>(split: bool, a: impl FnOnce() -> A, b: impl Fn() -> B + Sync) -> (A, B) {
    if !split {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let b = &b;
        match std::thread::Builder::new().spawn_scoped(s, b) {
            Ok(h) => {
                let ra = a();
                let rb = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                (ra, rb)
            }
            Err(_) => (a(), b()),
        }
    })
}

/// The key hashes and value parts of `items` (changed keys and their new values, in order).
fn hash_leaves(params: &Params, items: &[(&[u8], Option<&[u8]>)]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(items.len());
    // Inline values (and deletions) along with the key hashes; long values below.
    let mut values = items.iter().map(|(_, v)| *v);
    hash_each(params, items.iter().map(|(k, _)| *k), CHUNK, |kh| {
        let d = values
            .next()
            .flatten()
            .filter(|v| v.len() <= INLINE_MAX)
            .map(|v| leaf_data(v, None));
        out.push(Change { kh, d });
    });
    // The long values all in one batch: lanes stay busy across their different lengths.
    let long: Vec<(usize, &[u8])> = items
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.filter(|v| v.len() > INLINE_MAX).map(|v| (i, v)))
        .collect();
    let mut at = long.iter().map(|(i, _)| *i);
    hash_each(params, long.iter().map(|(_, v)| *v), usize::MAX, |vh| {
        if let Some(c) = at.next().and_then(|i| out.get_mut(i)) {
            c.d = Some(leaf_data(&[], Some(&vh)));
        }
    });
    out
}

/// The bucket of a key hash whose first 8 bytes (big-endian) are `head`.
fn bucket_of(head: u64) -> usize {
    (head >> (64 - BUCKET_BITS)) as usize
}

/// Appends to `out` the preimage of a bucket whose old preimage is `old` (empty or
/// `0x00 ‖ leaves`) with `changes` (sorted by key hash) applied; nothing when no leaf
/// remains. Returns the number of leaves written.
fn merge_bucket(old: &[u8], changes: &[(u64, &Change)], out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.push(0);
    let mut olds = old.get(1..).unwrap_or(&[]).chunks_exact(LEAF).peekable();
    let mut n = 0;
    for (_, c) in changes {
        while let Some(o) = olds.peek() {
            match o
                .first_chunk::<32>()
                .map_or(Ordering::Greater, |okh| okh.cmp(&c.kh))
            {
                Ordering::Less => {
                    out.extend_from_slice(o);
                    n += 1;
                    olds.next();
                }
                Ordering::Equal => {
                    olds.next();
                    break;
                }
                Ordering::Greater => break,
            }
        }
        if let Some(d) = &c.d {
            out.extend_from_slice(&c.kh);
            out.extend_from_slice(d);
            n += 1;
        }
    }
    for o in olds {
        out.extend_from_slice(o);
        n += 1;
    }
    if n == 0 {
        out.truncate(start);
    }
    n
}

/// Whether a hash is all zeros.
fn is_zero(h: &[u8; 32]) -> bool {
    h.iter().fold(0, |a, b| a | b) == 0
}

/// The dirty nodes of a level from the dirty nodes `below` of the level under it (sorted by
/// index) and that level's old hashes `old`.
fn level_up(
    params: &Params,
    old: &[[u8; 32]],
    below: &[(usize, [u8; 32])],
) -> Vec<(usize, [u8; 32])> {
    // (node, its four children, whether any is nonzero)
    let mut parents: Vec<(usize, [[u8; 32]; ARITY], bool)> = Vec::with_capacity(below.len());
    let mut i = 0;
    while let Some(&(first, _)) = below.get(i) {
        let p = first / ARITY;
        let mut input = [[0u8; 32]; ARITY];
        if let Some(children) = old.get(ARITY * p..ARITY * p + ARITY) {
            input.copy_from_slice(children);
        }
        // A new nonzero child makes the node nonzero; otherwise look at all four.
        let mut nonzero = false;
        while let Some((c, h)) = below.get(i).filter(|(c, _)| c / ARITY == p) {
            input[c % ARITY] = *h;
            nonzero |= !is_zero(h);
            i += 1;
        }
        if !nonzero {
            nonzero = !input.iter().all(is_zero);
        }
        parents.push((p, input, nonzero));
    }
    let mut hs = Vec::with_capacity(parents.len());
    hash_each(
        params,
        parents
            .iter()
            .filter(|(_, _, nz)| *nz)
            .map(|(_, input, _)| input.as_flattened()),
        CHUNK,
        |h| hs.push(h),
    );
    let mut hs = hs.into_iter();
    parents
        .iter()
        .map(|(p, _, nz)| {
            let h = if *nz {
                hs.next().unwrap_or([0; 32])
            } else {
                [0; 32]
            };
            (*p, h)
        })
        .collect()
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
        self.preview_split(changes, SPLIT)
    }

    /// [`StateRoot::preview`] with the given thresholds for using a second thread.
    fn preview_split(&self, changes: &StateChanges, split: Split) -> RootUpdate {
        let params = params();
        let items: Vec<(&[u8], Option<&[u8]>)> = changes
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
            .collect();
        // Key and value hashes: the items split in two runs of about the same hashing work.
        let cost = |(k, v): &(&[u8], Option<&[u8]>)| {
            KEY_COST * (k.len() / 128 + 1)
                + v.filter(|v| v.len() > INLINE_MAX)
                    .map_or(0, |v| v.len() / 128 + 1)
        };
        let total: usize = items.iter().map(cost).sum();
        let mut mid = 0;
        let mut acc = 0;
        while acc * 2 < total {
            if let Some(it) = items.get(mid) {
                acc += cost(it);
            }
            mid += 1;
        }
        let (lo, hi) = items.split_at(mid.min(items.len()));
        let (leaves, more) = join(
            total >= split.leaf_blocks,
            || hash_leaves(&params, lo),
            || hash_leaves(&params, hi),
        );
        // The two halves of the tree below the root are independent: on two threads, each up
        // to the root's children; else the whole tree at once (fuller SIMD batches).
        let (parts, root) = if changes.len() >= split.tree_keys {
            let (a, b) = join(
                true,
                || self.update_part(&params, [&leaves, &more], Some(false)),
                || self.update_part(&params, [&leaves, &more], Some(true)),
            );
            let below: Vec<(usize, [u8; 32])> = [&a, &b]
                .into_iter()
                .filter_map(|p| p.nodes.get(DEPTH - 1))
                .flatten()
                .copied()
                .collect();
            let top = level_up(&params, &self.levels[DEPTH - 1], &below);
            (vec![a, b], top.first().map(|n| n.1))
        } else {
            let all = self.update_part(&params, [&leaves, &more], None);
            let root = all.nodes.get(DEPTH).and_then(|l| l.first()).map(|n| n.1);
            (vec![all], root)
        };
        let root = Hash32(root.unwrap_or(self.levels[DEPTH][0]));
        let entries = self.entries + parts.iter().map(|p| p.new_leaves).sum::<usize>()
            - parts.iter().map(|p| p.old_leaves).sum::<usize>();
        RootUpdate {
            root,
            entries,
            parts,
        }
    }

    /// The new buckets of the changes (`leaves`) and their dirty ancestors: all of them up to
    /// the root (`half` = `None`), or those under the lower or upper (`Some(true)`) half of
    /// the root's children, up to level `DEPTH - 1`.
    fn update_part(&self, params: &Params, leaves: [&[Change]; 2], half: Option<bool>) -> Part {
        // Key-hash order, comparing the first 8 bytes as one integer first.
        let head =
            |h: &[u8; 32]| u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        let mut changes: Vec<(u64, &Change)> = leaves
            .into_iter()
            .flatten()
            .filter(|c| half.is_none_or(|upper| (c.kh[0] >= 0x80) == upper))
            .map(|c| (head(&c.kh), c))
            .collect();
        changes.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.kh.cmp(&b.1.kh)));
        // The touched buckets in bucket order: (bucket, end of its changes, old preimage).
        let mut groups: Vec<(usize, usize, &[u8])> = Vec::new();
        let mut i = 0;
        while let Some((h, _)) = changes.get(i) {
            let b = bucket_of(*h);
            let mut j = i + 1;
            while changes.get(j).is_some_and(|(h, _)| bucket_of(*h) == b) {
                j += 1;
            }
            groups.push((b, j, self.buckets.get(b).map_or(&[][..], |v| v.as_slice())));
            i = j;
        }
        let old_bytes: usize = groups.iter().map(|g| g.2.len()).sum();
        let mut buf = Vec::with_capacity(old_bytes + LEAF * changes.len() + groups.len());
        let mut buckets = Vec::with_capacity(groups.len());
        let (mut old_leaves, mut new_leaves) = (0, 0);
        let mut i = 0;
        for (b, j, old) in groups {
            let start = buf.len();
            new_leaves += merge_bucket(old, changes.get(i..j).unwrap_or(&[]), &mut buf);
            old_leaves += old.len() / LEAF;
            buckets.push((b, start..buf.len()));
            i = j;
        }
        let mut hashes = Vec::with_capacity(buckets.len());
        hash_each(
            params,
            buckets
                .iter()
                .filter(|(_, r)| !r.is_empty())
                .filter_map(|(_, r)| buf.get(r.clone())),
            CHUNK,
            |h| hashes.push(h),
        );
        let mut hs = hashes.into_iter();
        let top = if half.is_some() { DEPTH - 1 } else { DEPTH };
        let mut nodes: Vec<Vec<(usize, [u8; 32])>> = Vec::with_capacity(top + 1);
        nodes.push(
            buckets
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
        for level in 1..=top {
            let up = match nodes.last() {
                Some(below) => level_up(params, &self.levels[level - 1], below),
                None => Vec::new(),
            };
            nodes.push(up);
        }
        Part {
            buckets,
            buf,
            old_leaves,
            new_leaves,
            nodes,
        }
    }

    /// Applies an update computed by [`StateRoot::preview`] on this same tree.
    pub fn commit(&mut self, update: RootUpdate) {
        self.entries = update.entries;
        for part in update.parts {
            for (b, r) in part.buckets {
                if let (Some(bucket), Some(new)) = (self.buckets.get_mut(b), part.buf.get(r)) {
                    bucket.clear();
                    bucket.extend_from_slice(new);
                }
            }
            for (level, m) in part.nodes.into_iter().enumerate() {
                for (i, h) in m {
                    self.levels[level][i] = h;
                }
            }
        }
        self.levels[DEPTH][0] = update.root.0;
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

    /// Applies `c` with the second thread always (`split`) or never used.
    fn apply_split(t: &mut StateRoot, c: &StateChanges, split: bool) -> Hash32 {
        let n = if split { 0 } else { usize::MAX };
        let up = t.preview_split(
            c,
            Split {
                leaf_blocks: n,
                tree_keys: n,
            },
        );
        let r = up.root();
        t.commit(up);
        r
    }

    #[test]
    fn two_threads_and_one_follow_the_naive_scheme() {
        // Inline, one-block and many-block values; then updates, deletions, and back to empty.
        let mut store = MemStore::new();
        let (mut one, mut two) = (StateRoot::new(), StateRoot::new());
        let c: StateChanges = (0u32..5000)
            .map(|i| {
                let len = [1, 64, 65, 200, 3000][i as usize % 5];
                (i.to_be_bytes().to_vec(), Some(vec![i as u8; len]))
            })
            .collect();
        store.commit(&c);
        let r = naive_root(&store);
        assert_eq!(apply_split(&mut one, &c, false), r);
        assert_eq!(apply_split(&mut two, &c, true), r);
        let c2: StateChanges = (0u32..6000)
            .step_by(3)
            .map(|i| (i.to_be_bytes().to_vec(), (i % 2 == 0).then(|| vec![7; 90])))
            .collect();
        store.commit(&c2);
        let r = naive_root(&store);
        assert_eq!(apply_split(&mut one, &c2, true), r);
        assert_eq!(apply_split(&mut two, &c2, false), r);
        assert_eq!(one.len(), store.len());
        assert_eq!(two.len(), store.len());
        let all: StateChanges = store.iter().map(|(k, _)| (k.to_vec(), None)).collect();
        assert_eq!(apply_split(&mut one, &all, true), Hash32([0; 32]));
        assert_eq!(apply_split(&mut two, &all, false), Hash32([0; 32]));
        assert!(one.is_empty() && two.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn split_or_not_equals_naive(
            blocks in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        (0u16..3000, proptest::option::of(0usize..300)), 0..300),
                    any::<bool>(),
                ),
                1..4,
            ),
        ) {
            let mut store = MemStore::new();
            let mut t = StateRoot::new();
            for (ops, split) in blocks {
                let c: StateChanges = ops
                    .iter()
                    .map(|(k, v)| (k.to_le_bytes().to_vec(), v.map(|n| vec![*k as u8; n])))
                    .collect();
                store.commit(&c);
                prop_assert_eq!(apply_split(&mut t, &c, split), naive_root(&store));
                prop_assert_eq!(t.len(), store.len());
            }
        }
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
