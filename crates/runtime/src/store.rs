//! The state behind a trait: byte keys to byte values, plus the write overlay a block is
//! executed in.
//!
//! A block never writes to its [`StateStore`] directly. It runs in an [`Overlay`] and yields a
//! [`StateChanges`] (every changed key, sorted, with its new value or a deletion). The caller
//! commits that set atomically ([`MemStore::commit`] here, one redb write transaction in the
//! node) and feeds the same set to the state-root tracker ([`crate::StateRoot`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;

/// A failure of the backing store (I/O or corrupt data). It aborts the block being executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

/// Key-value pairs in key order.
pub type KeyValues = Vec<(Vec<u8>, Vec<u8>)>;

/// Read access to the chain state. Keys and values are opaque bytes; the key layout is in
/// [`crate::state`].
pub trait StateStore {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Calls `f` on every `(key, value)` whose key starts with `prefix`, in ascending key
    /// order, lending the store's bytes (nothing is copied).
    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<(), StoreError>;
    /// Every `(key, value)` whose key starts with `prefix`, in ascending key order:
    /// [`StateStore::for_each_prefix`], collected.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<KeyValues, StoreError> {
        let mut out = Vec::new();
        self.for_each_prefix(prefix, &mut |k, v| out.push((k.to_vec(), v.to_vec())))?;
        Ok(out)
    }
    /// Calls `f` on the value stored under `key` (`None` if absent): [`StateStore::get`]
    /// without the copy, where a store can lend its bytes.
    fn read(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        let v = self.get(key)?;
        f(v.as_deref());
        Ok(())
    }
    /// True when `key` holds exactly `value` (`None`: the key is absent). A store may
    /// override this to compare without copying the stored value.
    fn holds(&self, key: &[u8], value: Option<&[u8]>) -> Result<bool, StoreError> {
        Ok(self.get(key)?.as_deref() == value)
    }
    /// Calls `f(i, value)` for every `keys[i]`, in order; `keys` must be in ascending order
    /// (equal neighbours allowed). The same as one [`StateStore::read`] per key; a store may
    /// override it to walk forward from one key to the next instead of searching afresh.
    fn read_sorted(
        &self,
        keys: &[&[u8]],
        f: &mut dyn FnMut(usize, Option<&[u8]>),
    ) -> Result<(), StoreError> {
        for (i, k) in keys.iter().enumerate() {
            self.read(k, &mut |v| f(i, v))?;
        }
        Ok(())
    }
}

/// Entries a sorted multi-read steps over before it searches for the next key afresh.
const GALLOP_STEPS: usize = 8;

/// The changes one block (or genesis) makes: key → new value, `None` for a deletion. Sorted
/// by key, so iterating it is deterministic.
pub type StateChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// An in-memory [`StateStore`] (tests, benches, simulator). Iteration order is key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemStore {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }
    /// Applies a change set (the in-memory equivalent of the node's atomic write).
    pub fn commit(&mut self, changes: &StateChanges) {
        for (k, v) in changes {
            match v {
                Some(v) => {
                    self.map.insert(k.clone(), v.clone());
                }
                None => {
                    self.map.remove(k);
                }
            }
        }
    }
    /// Number of keys stored.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// All entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.map.iter()
    }
}

impl StateStore for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map.get(key).cloned())
    }
    fn holds(&self, key: &[u8], value: Option<&[u8]>) -> Result<bool, StoreError> {
        Ok(self.map.get(key).map(|v| v.as_slice()) == value)
    }
    fn read(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        f(self.map.get(key).map(|v| v.as_slice()));
        Ok(())
    }
    fn read_sorted(
        &self,
        keys: &[&[u8]],
        f: &mut dyn FnMut(usize, Option<&[u8]>),
    ) -> Result<(), StoreError> {
        // A cursor at the first entry not below the previous key: the next key is usually a
        // few entries further (a subnet's hotkeys among the chain's), so stepping is cheaper
        // than a search from the root; after GALLOP_STEPS steps the cursor is re-seeked.
        let seek = |k: &[u8]| {
            self.map
                .range::<[u8], _>((Bound::Included(k), Bound::Unbounded))
                .peekable()
        };
        let Some(first) = keys.first() else {
            return Ok(());
        };
        let mut cur = seek(first);
        for (i, k) in keys.iter().enumerate() {
            let mut steps = 0;
            while cur.peek().is_some_and(|(ck, _)| ck.as_slice() < *k) {
                if steps == GALLOP_STEPS {
                    cur = seek(k);
                    break;
                }
                cur.next();
                steps += 1;
            }
            match cur.peek() {
                Some((ck, v)) if ck.as_slice() == *k => f(i, Some(v.as_slice())),
                _ => f(i, None),
            }
        }
        Ok(())
    }
    fn for_each_prefix(
        &self,
        prefix: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Result<(), StoreError> {
        for (k, v) in self
            .map
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
        {
            f(k, v);
        }
        Ok(())
    }
}

/// The first 8 bytes of a key (zero-padded) as a big-endian integer: ordering by it, then by
/// the whole key, is the keys' lexicographic order.
fn key_head(k: &[u8]) -> u64 {
    let mut h = [0u8; 8];
    let n = k.len().min(8);
    h[..n].copy_from_slice(&k[..n]);
    u64::from_be_bytes(h)
}

/// A pending write.
#[derive(Clone, Debug)]
struct Pending {
    /// The new value (`None`: deleted).
    value: Option<Vec<u8>>,
    /// Known to differ from the base store's value (see [`Overlay::put_changed`]).
    differs: bool,
}

/// A key and its pending entry before a write (`None`: no pending entry).
type UndoEntry = (Vec<u8>, Option<Pending>);

/// Pending writes over a base store, with an undo log for the current transaction: a
/// transaction's writes are kept by [`Overlay::commit_tx`] or undone by
/// [`Overlay::rollback_tx`].
///
/// Read failures of the base store do not propagate through every call site: the first one is
/// recorded ([`Overlay::take_error`]) and the block executor aborts the block when it sees it.
pub struct Overlay<'a> {
    base: &'a dyn StateStore,
    writes: BTreeMap<Vec<u8>, Pending>,
    /// `(key, previous pending entry)` for every write of the open transaction.
    undo: Vec<UndoEntry>,
    /// Whether writes are logged for [`Overlay::rollback_tx`].
    undo_on: bool,
    error: RefCell<Option<StoreError>>,
}

impl<'a> Overlay<'a> {
    /// An overlay with no pending writes.
    pub fn new(base: &'a dyn StateStore) -> Overlay<'a> {
        Overlay {
            base,
            writes: BTreeMap::new(),
            undo: Vec::new(),
            undo_on: true,
            error: RefCell::new(None),
        }
    }

    /// Records a store failure (the first one wins).
    pub fn fail(&self, err: StoreError) {
        let mut e = self.error.borrow_mut();
        if e.is_none() {
            *e = Some(err);
        }
    }

    /// The first store failure seen, if any.
    pub fn take_error(&self) -> Option<StoreError> {
        self.error.borrow_mut().take()
    }

    /// Reads a key through the pending writes.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(p) = self.writes.get(key) {
            return p.value.clone();
        }
        match self.base.get(key) {
            Ok(v) => v,
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// `f` of the value under `key` through the pending writes (`None`: absent, or a store
    /// failure, which is recorded): [`Overlay::get`] without copying the value.
    pub fn read<R>(&self, key: &[u8], mut f: impl FnMut(Option<&[u8]>) -> R) -> R {
        if let Some(p) = self.writes.get(key) {
            return f(p.value.as_deref());
        }
        let mut out = None;
        if let Err(e) = self.base.read(key, &mut |v| out = Some(f(v))) {
            self.fail(e);
        }
        match out {
            Some(r) => r,
            None => f(None),
        }
    }

    /// [`Overlay::read`] of every key of an ascending list (equal neighbours allowed):
    /// `f(i, value)` once for each `keys[i]` — those with a pending write first, then the
    /// others as the base store reads them in one [`StateStore::read_sorted`] pass.
    pub fn read_sorted(&self, keys: &[&[u8]], f: &mut dyn FnMut(usize, Option<&[u8]>)) {
        debug_assert!(keys.windows(2).all(|w| w[0] <= w[1]), "keys not ascending");
        let (Some(lo), Some(hi)) = (keys.first(), keys.last()) else {
            return;
        };
        let mut pending = self
            .writes
            .range::<[u8], _>((Bound::Included(*lo), Bound::Included(*hi)))
            .peekable();
        let r = if pending.peek().is_none() {
            self.base.read_sorted(keys, f)
        } else {
            // Answer the keys with a pending write (one merge of two sorted lists), then read
            // the others from the base.
            let mut from_base: Vec<usize> = Vec::with_capacity(keys.len());
            for (i, k) in keys.iter().enumerate() {
                while pending.peek().is_some_and(|(pk, _)| pk.as_slice() < *k) {
                    pending.next();
                }
                match pending.peek() {
                    Some((pk, p)) if pk.as_slice() == *k => f(i, p.value.as_deref()),
                    _ => from_base.push(i),
                }
            }
            let base_keys: Vec<&[u8]> = from_base.iter().map(|i| keys[*i]).collect();
            self.base
                .read_sorted(&base_keys, &mut |j, v| f(from_base[j], v))
        };
        if let Err(e) = r {
            self.fail(e);
        }
    }

    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let value = Pending {
            value,
            differs: false,
        };
        if self.undo_on {
            let prev = self.writes.insert(key.clone(), value);
            self.undo.push((key, prev));
        } else {
            self.writes.insert(key, value);
        }
    }

    /// Commits the open transaction and stops (`false`) or resumes (`true`) logging writes
    /// for rollback. While off, [`Overlay::rollback_tx`] undoes nothing: turn it off only
    /// around steps whose failure aborts the whole block (the block-start steps).
    pub fn set_undo(&mut self, on: bool) {
        self.undo.clear();
        self.undo_on = on;
    }

    /// Writes a key.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.write(key, Some(value));
    }

    /// Deletes a key.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.write(key, None);
    }

    /// Writes a batch of keys whose new values are known to differ from the base store's
    /// (so [`Overlay::into_changes`] keeps them without comparing); a later key of the batch
    /// wins over an earlier equal one, and the batch wins over pending writes. While the undo
    /// log is off (block-start steps) the batch is merged into the pending writes in one
    /// pass, not key by key.
    pub fn put_changed(&mut self, mut batch: Vec<(Vec<u8>, Vec<u8>)>) {
        if !self.undo_on {
            // Key order, equal keys in batch order, comparing an integer head first; the map
            // below is then built from sorted input in one pass.
            let mut order: Vec<(u64, usize)> = batch
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (key_head(k), i))
                .collect();
            order.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| batch[a.1].0.cmp(&batch[b.1].0))
                    .then(a.1.cmp(&b.1))
            });
            let mut slots: Vec<Option<(Vec<u8>, Vec<u8>)>> = batch.into_iter().map(Some).collect();
            batch = order
                .iter()
                .filter_map(|(_, i)| slots.get_mut(*i).and_then(Option::take))
                .collect();
        }
        let entries = batch.into_iter().map(|(k, v)| {
            (
                k,
                Pending {
                    value: Some(v),
                    differs: true,
                },
            )
        });
        if self.undo_on {
            for (k, p) in entries {
                let prev = self.writes.insert(k.clone(), p);
                self.undo.push((k, prev));
            }
        } else {
            // Bulk-built (sorted, later duplicates win), then merged.
            let mut m: BTreeMap<Vec<u8>, Pending> = entries.collect();
            self.writes.append(&mut m);
        }
    }

    /// Every live `(key, value)` under `prefix`, in key order, through the pending writes.
    pub fn scan_prefix(&self, prefix: &[u8]) -> KeyValues {
        let base = match self.base.scan_prefix(prefix) {
            Ok(v) => v,
            Err(e) => {
                self.fail(e);
                Vec::new()
            }
        };
        let mut pending = self
            .writes
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .peekable();
        if pending.peek().is_none() {
            return base;
        }
        // Merge two sorted sequences; a pending entry wins over the base.
        let mut out = Vec::with_capacity(base.len());
        let mut base = base.into_iter().peekable();
        loop {
            let take_pending = match (base.peek(), pending.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((bk, _)), Some((pk, _))) => {
                    if bk.as_slice() == pk.as_slice() {
                        base.next();
                        true
                    } else {
                        pk.as_slice() < bk.as_slice()
                    }
                }
            };
            if take_pending {
                if let Some((k, Pending { value: Some(v), .. })) = pending.next() {
                    out.push((k.clone(), v.clone()));
                }
            } else if let Some(kv) = base.next() {
                out.push(kv);
            }
        }
        out
    }

    /// Calls `f` on every live `(key, value)` under `prefix`, in key order, through the
    /// pending writes ([`Overlay::scan_prefix`] without copying when nothing under the prefix
    /// is pending).
    pub fn for_each_prefix(&self, prefix: &[u8], f: &mut dyn FnMut(&[u8], &[u8])) {
        let pending = self
            .writes
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .next()
            .is_some();
        if pending {
            for (k, v) in self.scan_prefix(prefix) {
                f(&k, &v);
            }
        } else if let Err(e) = self.base.for_each_prefix(prefix, f) {
            self.fail(e);
        }
    }

    /// Keeps the current transaction's writes.
    pub fn commit_tx(&mut self) {
        self.undo.clear();
    }

    /// Undoes the current transaction's writes.
    pub fn rollback_tx(&mut self) {
        while let Some((k, prev)) = self.undo.pop() {
            match prev {
                Some(p) => {
                    self.writes.insert(k, p);
                }
                None => {
                    self.writes.remove(&k);
                }
            }
        }
    }

    /// Commits any open transaction and returns every change, dropping writes that leave a
    /// key as it is in the base store.
    pub fn into_changes(self) -> Result<StateChanges, StoreError> {
        if let Some(e) = self.take_error() {
            return Err(e);
        }
        let mut out = Vec::with_capacity(self.writes.len());
        for (k, p) in self.writes {
            if p.differs || !self.base.holds(&k, p.value.as_deref())? {
                out.push((k, p.value));
            }
        }
        // Already in key order: the map is built in bulk.
        Ok(out.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_layers_and_scan() {
        let mut base = MemStore::new();
        let mut c = StateChanges::new();
        c.insert(b"a1".to_vec(), Some(b"x".to_vec()));
        c.insert(b"a2".to_vec(), Some(b"y".to_vec()));
        c.insert(b"b1".to_vec(), Some(b"z".to_vec()));
        base.commit(&c);
        let keys = |p: &[u8]| -> Vec<Vec<u8>> {
            base.scan_prefix(p)
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert_eq!(keys(b"a"), vec![b"a1".to_vec(), b"a2".to_vec()]);
        assert_eq!(keys(b"").len(), 3);
        assert!(keys(b"c").is_empty());
        let mut o = Overlay::new(&base);
        o.put(b"a3".to_vec(), b"w".to_vec());
        o.delete(b"a1".to_vec());
        let scan: Vec<_> = o.scan_prefix(b"a").into_iter().map(|(k, _)| k).collect();
        assert_eq!(scan, vec![b"a2".to_vec(), b"a3".to_vec()]);
        for key in [b"a1".as_slice(), b"a2", b"a3", b"zz"] {
            assert_eq!(o.read(key, |v| v.map(|v| v.to_vec())), o.get(key));
        }
        for prefix in [b"a".as_slice(), b"b", b""] {
            let mut visited = Vec::new();
            o.for_each_prefix(prefix, &mut |k, v| visited.push((k.to_vec(), v.to_vec())));
            assert_eq!(visited, o.scan_prefix(prefix));
        }
        o.rollback_tx();
        assert_eq!(o.get(b"a1"), Some(b"x".to_vec()));
        o.put(b"a2".to_vec(), b"y".to_vec()); // same value: no change
        o.put(b"b1".to_vec(), b"q".to_vec());
        o.commit_tx();
        let ch = o.into_changes().unwrap();
        assert_eq!(ch.len(), 1);
        assert_eq!(ch.get(b"b1".as_slice()), Some(&Some(b"q".to_vec())));
    }

    proptest::proptest! {
        #[test]
        fn sorted_reads_equal_single_reads(
            base in proptest::collection::btree_map(0u16..400, 0u8..255, 0..200),
            pending in proptest::collection::btree_map(0u16..400, proptest::option::of(0u8..255), 0..20),
            mut wanted in proptest::collection::vec(0u16..400, 0..120),
        ) {
            // Keys spread so that some lookups step and some re-seek; pending writes and
            // deletions over the base; absent and repeated keys in the list.
            let key = |k: u16| vec![b'h', (k >> 8) as u8, k as u8];
            let mut store = MemStore::new();
            store.commit(&base.iter().map(|(k, v)| (key(*k), Some(vec![*v]))).collect());
            let mut o = Overlay::new(&store);
            for (k, v) in &pending {
                match v {
                    Some(v) => o.put(key(*k), vec![*v]),
                    None => o.delete(key(*k)),
                }
            }
            wanted.sort_unstable();
            let owned: Vec<Vec<u8>> = wanted.iter().map(|k| key(*k)).collect();
            let keys: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            let mut got: Vec<Option<Option<Vec<u8>>>> = vec![None; keys.len()];
            o.read_sorted(&keys, &mut |i, v| {
                assert!(got[i].is_none(), "index {i} answered twice");
                got[i] = Some(v.map(|v| v.to_vec()));
            });
            let expected: Vec<Option<Option<Vec<u8>>>> = keys.iter().map(|k| Some(o.get(k))).collect();
            proptest::prop_assert_eq!(got, expected);
            let mut in_order = Vec::new();
            store
                .read_sorted(&keys, &mut |i, v| in_order.push((i, v.map(|v| v.to_vec()))))
                .unwrap();
            let single: Vec<(usize, Option<Vec<u8>>)> =
                keys.iter().enumerate().map(|(i, k)| (i, store.get(k).unwrap())).collect();
            proptest::prop_assert_eq!(in_order, single);
        }
    }

    #[test]
    fn changed_batches() {
        let mut base = MemStore::new();
        let mut c = StateChanges::new();
        c.insert(b"a".to_vec(), Some(b"x".to_vec()));
        base.commit(&c);
        let mut o = Overlay::new(&base);
        o.put(b"b".to_vec(), b"w".to_vec());
        o.commit_tx();
        // Under the undo log: kept per key, undone by a rollback.
        o.put_changed(vec![
            (b"c".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"v".to_vec()),
            (b"c".to_vec(), b"2".to_vec()),
        ]);
        assert_eq!(o.get(b"c"), Some(b"2".to_vec()));
        assert_eq!(o.get(b"b"), Some(b"v".to_vec()));
        o.rollback_tx();
        assert_eq!(o.get(b"c"), None);
        assert_eq!(o.get(b"b"), Some(b"w".to_vec()));
        // Without it: merged in bulk, later duplicates and the batch win.
        o.set_undo(false);
        o.put_changed(vec![
            (b"c".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"u".to_vec()),
            (b"c".to_vec(), b"3".to_vec()),
        ]);
        o.set_undo(true);
        assert_eq!(o.get(b"c"), Some(b"3".to_vec()));
        assert_eq!(o.get(b"b"), Some(b"u".to_vec()));
        let ch = o.into_changes().unwrap();
        assert_eq!(ch.len(), 2);
        assert_eq!(ch.get(b"c".as_slice()), Some(&Some(b"3".to_vec())));
    }
}
