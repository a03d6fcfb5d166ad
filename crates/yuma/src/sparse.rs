//! Compressed sparse rows (CSR) of `Q32` values and the sparse helpers of spec §3.3.
//!
//! A matrix has `n` rows; row `i` is the slice `start[i]..start[i + 1]` of `cols`/`vals`, in
//! entry order (the order matters: spec §7.1). Column indices are always `< n` once a matrix
//! is built from untrusted rows (out-of-range entries are dropped on input).

use crate::fixed::{QDiv, Q32, ZERO};

/// A sparse matrix in compressed-row form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Csr {
    /// Row `i` spans `start[i]..start[i + 1]`; `start.len() == rows + 1`.
    pub start: Vec<usize>,
    /// Column of each entry.
    pub cols: Vec<u16>,
    /// Value of each entry.
    pub vals: Vec<Q32>,
}

impl Csr {
    /// An empty matrix with room for `nnz` entries.
    pub fn with_capacity(rows: usize, nnz: usize) -> Self {
        let mut start = Vec::with_capacity(rows + 1);
        start.push(0);
        Csr {
            start,
            cols: Vec::with_capacity(nnz),
            vals: Vec::with_capacity(nnz),
        }
    }

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.start.len() - 1
    }

    /// Appends one entry to the row being built.
    #[inline]
    pub fn push(&mut self, col: u16, val: Q32) {
        self.cols.push(col);
        self.vals.push(val);
    }

    /// Closes the row being built.
    #[inline]
    pub fn end_row(&mut self) {
        self.start.push(self.cols.len());
    }

    /// Range of row `i` in `cols`/`vals`.
    #[inline]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.start[i]..self.start[i + 1]
    }

    /// Columns of row `i`.
    #[inline]
    pub fn row_cols(&self, i: usize) -> &[u16] {
        &self.cols[self.range(i)]
    }

    /// Values of row `i`.
    #[inline]
    pub fn row_vals(&self, i: usize) -> &[Q32] {
        &self.vals[self.range(i)]
    }

    /// True when the columns of row `i` are strictly increasing (sorted, no duplicate).
    #[inline]
    pub fn row_is_sorted(&self, i: usize) -> bool {
        self.row_cols(i).windows(2).all(|w| w[0] < w[1])
    }

    /// Per-column divisors for the column normalisation: the column sums (with `⊕`), `None`
    /// where a sum is 0 (that column is left unchanged).
    pub fn col_sum_divs(&self, n: usize) -> Vec<Option<QDiv>> {
        let mut colsum = vec![ZERO; n];
        for (c, v) in self.cols.iter().zip(&self.vals) {
            let s = &mut colsum[usize::from(*c)];
            *s = crate::fixed::sadd(*s, *v);
        }
        colsum
            .iter()
            .map(|s| (*s != ZERO).then(|| QDiv::new(*s)))
            .collect()
    }

    /// Sparse column normalisation (spec §2.9.a): column sums with `⊕`, entries `⊘` the sum
    /// where it is non-zero.
    pub fn col_normalize(&mut self, n: usize) {
        let divs = self.col_sum_divs(n);
        for (c, v) in self.cols.iter().zip(self.vals.iter_mut()) {
            if let Some(d) = &divs[usize::from(*c)] {
                *v = d.div(*v);
            }
        }
    }
}

/// Dense scratch row with a list of touched columns, reused across rows so that no
/// full-width row is ever stored.
pub struct Scratch {
    /// Value per column.
    pub val: Vec<Q32>,
    /// Whether the column was touched.
    pub seen: Vec<bool>,
    /// Touched columns, in first-touch order.
    pub touched: Vec<u16>,
}

impl Scratch {
    /// A scratch row of width `n`.
    pub fn new(n: usize) -> Self {
        Scratch {
            val: vec![ZERO; n],
            seen: vec![false; n],
            touched: Vec::new(),
        }
    }

    /// Marks column `c` as touched (value left as is).
    #[inline]
    pub fn touch(&mut self, c: u16) {
        let cu = usize::from(c);
        if !self.seen[cu] {
            self.seen[cu] = true;
            self.touched.push(c);
        }
    }

    /// Sorts the touched columns ascending.
    pub fn sort_touched(&mut self) {
        self.touched.sort_unstable();
    }

    /// Resets every touched column to 0 / untouched.
    pub fn clear(&mut self) {
        for c in self.touched.drain(..) {
            let cu = usize::from(c);
            self.val[cu] = ZERO;
            self.seen[cu] = false;
        }
    }
}
