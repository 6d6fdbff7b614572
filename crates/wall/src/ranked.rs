//! An ordered set that also answers "the i-th" (the queue table looks rows up by
//! position, and shows some thirty of a million): sorted blocks of at most `2 * B` keys.
//! Insert and remove touch one block (a binary search over the blocks' last keys, then
//! one within the block); the i-th walks the blocks' lengths. A `BTreeSet` has no
//! position lookup, and a sorted `Vec` moves half a million keys per insert at a
//! province's size.

/// Half the largest block.
const B: usize = 512;

#[derive(Clone, Debug)]
pub struct Ranked<K> {
    blocks: Vec<Vec<K>>,
    len: usize,
}

impl<K> Default for Ranked<K> {
    fn default() -> Self {
        Ranked {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<K: Ord + Copy> Ranked<K> {
    /// From keys in any order (duplicates kept once).
    pub fn from_unsorted(mut keys: Vec<K>) -> Self {
        keys.sort_unstable();
        keys.dedup();
        let len = keys.len();
        Ranked {
            blocks: keys.chunks(B).map(|c| c.to_vec()).collect(),
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block that holds `k`, or would: the first whose last key is not below it.
    fn block_of(&self, k: &K) -> usize {
        self.blocks
            .partition_point(|b| b.last().is_some_and(|l| l < k))
            .min(self.blocks.len().saturating_sub(1))
    }

    /// Insert `k`; false if it was there.
    pub fn insert(&mut self, k: K) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(vec![k]);
            self.len = 1;
            return true;
        }
        let bi = self.block_of(&k);
        let b = &mut self.blocks[bi];
        match b.binary_search(&k) {
            Ok(_) => return false,
            Err(i) => b.insert(i, k),
        }
        if b.len() > 2 * B {
            let tail = b.split_off(B);
            self.blocks.insert(bi + 1, tail);
        }
        self.len += 1;
        true
    }

    /// Remove `k`; false if it was not there.
    pub fn remove(&mut self, k: &K) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let bi = self.block_of(k);
        let b = &mut self.blocks[bi];
        let Ok(i) = b.binary_search(k) else {
            return false;
        };
        b.remove(i);
        if b.is_empty() {
            self.blocks.remove(bi);
        }
        self.len -= 1;
        true
    }

    pub fn contains(&self, k: &K) -> bool {
        !self.blocks.is_empty() && self.blocks[self.block_of(k)].binary_search(k).is_ok()
    }

    /// The key at position `i` in order.
    pub fn get(&self, mut i: usize) -> Option<&K> {
        for b in &self.blocks {
            if i < b.len() {
                return b.get(i);
            }
            i -= b.len();
        }
        None
    }

    pub fn first(&self) -> Option<&K> {
        self.blocks.first().and_then(|b| b.first())
    }

    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.blocks.iter().flatten()
    }

    /// The keys from `from` (inclusive) to `to` (exclusive), in order.
    pub fn range(&self, from: K, to: K) -> impl Iterator<Item = &K> {
        let start = if self.blocks.is_empty() {
            0
        } else {
            self.block_of(&from)
        };
        self.blocks[start..]
            .iter()
            .flatten()
            .skip_while(move |k| **k < from)
            .take_while(move |k| **k < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Any run of inserts and removes leaves what a BTreeSet holds, in order, at every
        /// position, and ranges agree.
        #[test]
        fn agrees_with_a_btreeset(
            start in proptest::collection::vec(0u32..5000, 0..3000),
            ops in proptest::collection::vec((any::<bool>(), 0u32..5000), 0..3000),
            lo in 0u32..5000, span in 0u32..2000,
        ) {
            let mut r = Ranked::from_unsorted(start.clone());
            let mut s: BTreeSet<u32> = start.into_iter().collect();
            for (add, k) in ops {
                if add {
                    prop_assert_eq!(r.insert(k), s.insert(k));
                } else {
                    prop_assert_eq!(r.remove(&k), s.remove(&k));
                }
            }
            prop_assert_eq!(r.len(), s.len());
            let v: Vec<u32> = s.iter().copied().collect();
            prop_assert_eq!(r.iter().copied().collect::<Vec<_>>(), v.clone());
            for (i, k) in v.iter().enumerate().step_by(37) {
                prop_assert_eq!(r.get(i), Some(k));
                prop_assert!(r.contains(k));
            }
            prop_assert_eq!(r.get(v.len()), None);
            prop_assert_eq!(r.first(), v.first());
            let want: Vec<u32> = s.range(lo..lo + span).copied().collect();
            prop_assert_eq!(r.range(lo, lo + span).copied().collect::<Vec<_>>(), want);
        }
    }
}
