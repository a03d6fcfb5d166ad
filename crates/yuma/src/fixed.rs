//! Fixed-point primitives with the reference chain's rounding (spec §3.2–§3.4).
//!
//! Every helper here is defined through the `substrate-fixed` types the chain uses. A few have a
//! faster integer shortcut; each shortcut is tested for bit-equality against the plain
//! `substrate-fixed` operation in this module's tests.

use substrate_fixed::types::{I32F32, I64F64, I96F32};

/// `I32F32`, the type of every epoch vector and matrix (spec §3.1).
pub type Q32 = I32F32;
/// `I64F64`, used for the stake normalisation and the bonds moving average (spec §3.1).
pub type Q64 = I64F64;

/// 0 as `Q32`.
pub const ZERO: Q32 = Q32::from_bits(0);
/// 1 as `Q32`.
pub const ONE: Q32 = Q32::from_bits(1 << 32);
/// 0.5 as `Q32`.
pub const HALF: Q32 = Q32::from_bits(1 << 31);

/// `Q32` holding the integer `x` exactly.
#[inline]
pub fn q32_int(x: u16) -> Q32 {
    Q32::from_bits(i64::from(x) << 32)
}

/// Saturating multiplication `⊗` (spec §3.2), bit-identical to `I32F32::saturating_mul`:
/// the exact 128-bit product shifted right by 32 (floor), clamped to the `i64` range. The
/// library computes the same through an overflow-checked 128×128-bit multiply; this is one
/// widening 64×64 multiply.
#[inline(always)]
pub fn mul(a: Q32, b: Q32) -> Q32 {
    let p = i128::from(a.to_bits()) * i128::from(b.to_bits());
    let r = p >> 32;
    let lo = r as i64;
    // One comparison for the common case: `r` fits in `i64` iff it survives the round trip.
    if i128::from(lo) == r {
        Q32::from_bits(lo)
    } else if r > 0 {
        Q32::max_value()
    } else {
        Q32::min_value()
    }
}

/// `a ⊗ b` on the bits of two values in `[0, 1]` (`0 ≤ a, b ≤ 2^32`): the product is at most
/// 1, so `⊗` never saturates and is the plain floor of the 128-bit product shifted by 32.
#[inline(always)]
pub fn mul_unit(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 32) as u64
}

/// [`mul_unit`] by a fixed left operand `a` in `[0, 1]`: with `a = ah·2^32 + al` (`ah` 0 or
/// 1, `al < 2^32`), `a·b / 2^32 = ah·b + al·b / 2^32` and `al·b < 2^64`, so the product is
/// one 64-bit multiply, a mask and a shift (no 128-bit multiply). Proptested against
/// [`mul_unit`].
#[derive(Clone, Copy, Debug)]
pub struct UnitMul {
    mask: u64,
    lo: u64,
}

impl UnitMul {
    /// Multiplier by `a` (`0 <= a <= 2^32`).
    #[inline(always)]
    pub fn new(a: u64) -> Self {
        debug_assert!(a <= 1 << 32);
        UnitMul {
            mask: 0u64.wrapping_sub(a >> 32),
            lo: a & 0xFFFF_FFFF,
        }
    }

    /// `mul_unit(a, b)` for `0 <= b <= 2^32`.
    #[inline(always)]
    pub fn mul(&self, b: u64) -> u64 {
        (b & self.mask) + ((self.lo * b) >> 32)
    }
}

/// True when every value lies in `[0, 1]`: the domain of [`mul_unit`].
#[inline]
pub fn all_unit(v: &[Q32]) -> bool {
    // As u64, negative values are above 2^32: one unsigned maximum (vectorises).
    v.iter().fold(0u64, |m, x| m.max(x.to_bits() as u64)) <= 1 << 32
}

/// Saturating addition `⊕` (spec §3.2) on the bits, identical to `I32F32::saturating_add`
/// (the library's version goes through a masked select; this is one `i64` saturating add).
#[inline(always)]
pub fn sadd(a: Q32, b: Q32) -> Q32 {
    Q32::from_bits(a.to_bits().saturating_add(b.to_bits()))
}

/// Checked multiplication giving 0 on overflow (`checked_mul(..).unwrap_or(0)`, spec §3.2).
#[inline]
pub fn mul_or_zero(a: Q32, b: Q32) -> Q32 {
    let r = (i128::from(a.to_bits()) * i128::from(b.to_bits())) >> 32;
    if r > i128::from(i64::MAX) || r < i128::from(i64::MIN) {
        ZERO
    } else {
        Q32::from_bits(r as i64)
    }
}

/// Safe division `⊘` (spec §3.2): truncation toward zero, 0 on a zero divisor or on overflow.
#[inline]
pub fn safe_div(a: Q32, b: Q32) -> Q32 {
    a.checked_div(b).unwrap_or(ZERO)
}

/// Safe division `⊘` for `Q64`.
#[inline]
pub fn safe_div64(a: Q64, b: Q64) -> Q64 {
    a.checked_div(b).unwrap_or(Q64::from_bits(0))
}

/// `Q64` → `Q32`, dropping the low 32 fraction bits (floor), saturating (spec §3.2).
#[inline]
pub fn q64_to_q32(x: Q64) -> Q32 {
    Q32::saturating_from_num(x)
}

/// `u16_proportion_to_fixed(x) = x ⊘ 65535` (spec §3.3).
#[inline]
pub fn u16_proportion(x: u16) -> Q32 {
    // (x·2^32·2^32) / (65535·2^32) truncated is floor(x·2^32 / 65535), and since
    // 2^32 = 65537·65535 + 1 that is x·65537 + floor(x / 65535): x·65537, plus 1 for
    // x = 65535 (giving exactly 2^32). Tested for every u16 against `safe_div`.
    let x = u64::from(x);
    Q32::from_bits((x * 65537 + u64::from(x == 65535)) as i64)
}

/// `fixed_proportion_to_u16(x) = clamp(floor(x ⊗ 65535), 0, 65535)` (spec §3.3).
///
/// Integer form: the product by the integer 65535 is exact (`bits · 65535`), its floor is
/// `(bits · 65535) >> 32`, and every `x ≥ 1` (or a saturated product) clamps to 65535, every
/// `x ≤ 0` to 0. Proptested against the `substrate-fixed` form.
#[inline]
pub fn proportion_to_u16(x: Q32) -> u16 {
    let b = x.to_bits();
    if b <= 0 {
        0
    } else if b >= 1 << 32 {
        u16::MAX
    } else {
        ((b as u64 * 65535) >> 32) as u16
    }
}

/// `proportion_to_u16` through the `substrate-fixed` operations (reference for tests).
#[cfg(test)]
pub fn proportion_to_u16_reference(x: Q32) -> u16 {
    x.saturating_mul(q32_int(u16::MAX))
        .saturating_to_num::<u16>()
}

/// `floor(x · rao)`, computed as `I96F32(x) ⊗ I96F32(rao)` and converted to `u64` with
/// saturation (spec §2.11).
#[inline]
pub fn share_of(x: Q32, rao: u64) -> u64 {
    // bits(x) · rao < 2^127, so the I96F32 product never overflows and equals
    // bits(x) · rao / 2^32; its floor, clamped to u64, is the result.
    let bits = x.to_bits();
    if bits <= 0 {
        return 0;
    }
    let q = (u128::from(bits as u64) * u128::from(rao)) >> 32;
    u64::try_from(q).unwrap_or(u64::MAX)
}

/// `I96F32(x) ⊗ I96F32(rao)` converted to `u64` with saturation: the library form of
/// [`share_of`], kept for its tests.
pub fn share_of_reference(x: Q32, rao: u64) -> u64 {
    I96F32::from_num(x)
        .saturating_mul(I96F32::from_num(rao))
        .saturating_to_num::<u64>()
}

/// `a ⊘ b` for one pair, bit-identical to [`safe_div`], with native 64-bit divisions for
/// `a >= 0` and `0 < b <= 1` (long division in base 2^32) or `0 <= a < 1` and `b > 0`; the
/// library division otherwise.
#[inline]
pub fn div_one(a: Q32, b: Q32) -> Q32 {
    let (x, y) = (a.to_bits(), b.to_bits());
    if x < 0 || y <= 0 {
        return safe_div(a, b);
    }
    let (x, y) = (x as u64, y as u64);
    let q = if y <= 1 << 32 {
        let hi = x / y;
        if hi >= 1 << 31 {
            return ZERO; // quotient >= 2^63 overflows
        }
        // r < y <= 2^32, so r·2^32 fits in 64 bits.
        (hi << 32) + (((x % y) << 32) / y)
    } else if x < 1 << 32 {
        (x << 32) / y
    } else {
        return safe_div(a, b);
    };
    if q > i64::MAX as u64 {
        ZERO
    } else {
        Q32::from_bits(q as i64)
    }
}

/// Exact unsigned division by an invariant divisor through a reciprocal multiplication
/// (one widening multiply and at most one correction instead of a hardware division).
#[derive(Clone, Copy, Debug)]
pub struct Divider {
    d: u64,
    m: u64,
}

impl Divider {
    /// Divider for `d >= 1`.
    #[inline]
    pub fn new(d: u64) -> Self {
        debug_assert!(d >= 1);
        Divider {
            d,
            // d = 1 (the divider of an empty column's zero sum, common) needs no division.
            m: if d <= 1 { u64::MAX } else { u64::MAX / d },
        }
    }

    /// The divisor `d`.
    #[inline(always)]
    pub fn divisor(&self) -> u64 {
        self.d
    }

    /// `floor(x / d)`, exactly.
    #[inline(always)]
    pub fn div(&self, x: u64) -> u64 {
        // m >= (2^64 − d)/d, so x·m/2^64 >= x/d − x/2^64 > x/d − 1: the estimate is
        // floor(x/d) or one less, and one correction step makes it exact.
        let q = ((u128::from(x) * u128::from(self.m)) >> 64) as u64;
        let r = x - q * self.d;
        q + u64::from(r >= self.d)
    }
}

/// `ceil(2^k / d)` for `d >= 1`, `k < 128`, without a 128-bit division where it can: by a
/// shift for a power of two `d` (e.g. the divisor 1 of an empty column), in 64 bits for
/// `k < 64`.
#[inline]
fn pow2_div_ceil(k: u32, d: u64) -> u128 {
    if d.is_power_of_two() {
        1u128 << (k - d.trailing_zeros())
    } else if k < 64 {
        u128::from((1u64 << k).div_ceil(d))
    } else {
        (1u128 << k).div_ceil(u128::from(d))
    }
}

/// `floor(v · 2^32 / b)` for a `u16` numerator `v` and an invariant divisor
/// `1 <= b < 2^31` in one widening multiply, without a correction step: `q32_int(v) ⊘
/// q32_int(b)` on integer values (e.g. a stored bond over its column's integer sum).
///
/// With `2^(L−1) <= b < 2^L`, `t = 48 − L` and `m = ceil(2^(48+L) / b)` (at most 2^49):
/// `(v·2^t)·m / 2^64 = v·2^32/b + v·2^t·ε/2^64` with `0 <= ε < 1`; the error is below
/// `v / 2^(16+L) < 1/b`, while the fractional part of `v·2^32/b` is a multiple of `1/b`
/// below 1, so the floor is unchanged. `v·2^t < 2^64`.
#[derive(Clone, Copy, Debug)]
pub struct U16Divider {
    shift: u32,
    m: u64,
}

impl U16Divider {
    /// Divider for `1 <= b < 2^31`.
    #[inline]
    pub fn new(b: u64) -> Self {
        debug_assert!((1..1 << 31).contains(&b));
        let l = 64 - b.leading_zeros();
        U16Divider {
            shift: 48 - l,
            m: pow2_div_ceil(48 + l, b) as u64,
        }
    }

    /// `floor(v · 2^32 / b)`.
    #[inline(always)]
    pub fn div(&self, v: u16) -> u64 {
        ((u128::from(u64::from(v) << self.shift) * u128::from(self.m)) >> 64) as u64
    }
}

/// `floor(v · 2^32 / d)` for `0 <= v <= d` (a value over a sum or maximum it is part of, so
/// the quotient is at most 1 as Q32 bits) and an invariant `d >= 1`: one widening multiply
/// when `d < 2^30`, the corrected reciprocal ([`Divider`]) otherwise.
///
/// With `2^(L−1) <= d < 2^L`, `t = 64 − 2L` and `m = ceil(2^(32+2L) / d)` (below 2^64 for
/// `L <= 30`): `(v·2^t)·m / 2^64 = v·2^32/d + v·2^t·ε/2^64` with `0 <= ε < 1`; the error is
/// below `d·2^t/2^64 = d/2^(2L) < 1/d`, while the fractional part of `v·2^32/d` is a multiple
/// of `1/d` below 1, so the floor is unchanged. `v·2^t < 2^(64−L)`.
#[derive(Clone, Copy, Debug)]
pub struct UnitDivider {
    /// 0: use `div`.
    m: u64,
    shift: u32,
    div: Divider,
}

impl UnitDivider {
    /// Divider for `d >= 1`.
    #[inline]
    pub fn new(d: u64) -> Self {
        debug_assert!(d >= 1);
        let div = Divider::new(d);
        if d >= 1 << 30 {
            return UnitDivider {
                m: 0,
                shift: 0,
                div,
            };
        }
        let l = 64 - d.leading_zeros();
        UnitDivider {
            m: pow2_div_ceil(32 + 2 * l, d) as u64,
            shift: 64 - 2 * l,
            div,
        }
    }

    /// `floor(v · 2^32 / d)` for `v <= d`.
    #[inline(always)]
    pub fn div(&self, v: u64) -> u64 {
        debug_assert!(v <= self.div.divisor());
        if self.m != 0 {
            ((u128::from(v << self.shift) * u128::from(self.m)) >> 64) as u64
        } else if v < 1 << 32 {
            self.div.div(v << 32)
        } else {
            // The quotient is at most 1, but v·2^32 needs more than 64 bits.
            ((u128::from(v) << 32) / u128::from(self.div.divisor())) as u64
        }
    }
}

/// `floor(v · 2^32 / d)` for `0 <= v <= d` with `2^31 < d < 2^32` (a value over a column sum
/// close to 1, e.g. of a matrix whose columns were normalised), in one widening multiply; also
/// `d = 0` with `v = 0` (an empty column), giving 0.
///
/// With `m = ceil(2^96 / d)` (between 2^64 and 2^65): `v·m / 2^64 = v·2^32/d + v·ε/2^64`
/// with `0 <= ε < 1`; the error is below `d/2^64 < 1/d`, while the fractional part of
/// `v·2^32/d` is a multiple of `1/d` below 1, so the floor is unchanged. With
/// `m = 2^64 + m'` the floor is `v + floor(v·m' / 2^64)`.
#[derive(Clone, Copy, Debug)]
pub struct HighDivider {
    m: u64,
}

impl HighDivider {
    /// Divider for `d`, if `2^31 < d < 2^32` or `d = 0`.
    #[inline]
    pub fn new(d: u64) -> Option<Self> {
        if d == 0 {
            return Some(HighDivider { m: 0 });
        }
        ((1 << 31) < d && d < 1 << 32).then(|| HighDivider {
            m: (pow2_div_ceil(96, d) - (1u128 << 64)) as u64,
        })
    }

    /// `floor(v · 2^32 / d)` for `v <= d`.
    #[inline(always)]
    pub fn div(&self, v: u64) -> u64 {
        v + ((u128::from(v) * u128::from(self.m)) >> 64) as u64
    }
}

/// `a ⊘ b` for many `a` and one `b`, bit-identical to [`safe_div`], without a 128-bit
/// division in the common cases: `0 <= a < 1` (numerator `a·2^32` fits 64 bits), or `a`
/// and `b` both integers with `a < 2^32`. Other cases fall back to [`safe_div`].
#[derive(Clone, Copy, Debug)]
pub struct QDiv {
    b: Q32,
    full: Option<Divider>,
    int: Option<Divider>,
}

impl QDiv {
    /// Prepares division by `b`.
    #[inline]
    pub fn new(b: Q32) -> Self {
        let bits = b.to_bits();
        let full = (bits > 0).then(|| Divider::new(bits as u64));
        let int = (bits > 0 && bits & 0xFFFF_FFFF == 0).then(|| Divider::new((bits >> 32) as u64));
        QDiv { b, full, int }
    }

    /// `a ⊘ b`.
    #[inline(always)]
    pub fn div(&self, a: Q32) -> Q32 {
        let bits = a.to_bits();
        let q = if (0..1i64 << 32).contains(&bits) {
            match self.full {
                Some(d) => d.div((bits as u64) << 32),
                None => return safe_div(a, self.b),
            }
        } else if bits >= 0 && bits & 0xFFFF_FFFF == 0 {
            match self.int {
                Some(d) if (bits >> 32) < 1i64 << 32 => d.div(((bits >> 32) as u64) << 32),
                _ => return safe_div(a, self.b),
            }
        } else {
            return safe_div(a, self.b);
        };
        // Overflow of the quotient gives 0, like `safe_div`.
        if q > i64::MAX as u64 {
            ZERO
        } else {
            Q32::from_bits(q as i64)
        }
    }
}

/// Sum with saturating addition. The reference sums with plain `+`; both agree wherever the
/// reference does not overflow (spec §3.2), and this one cannot panic.
#[inline]
pub fn sum(v: &[Q32]) -> Q32 {
    v.iter().fold(ZERO, |acc, x| sadd(acc, *x))
}

/// `normalize(v)` in place (spec §3.3): each element `⊘` the sum, unless the sum is 0.
pub fn normalize(v: &mut [Q32]) {
    let s = sum(v);
    if s != ZERO {
        let d = QDiv::new(s);
        for x in v.iter_mut() {
            *x = d.div(*x);
        }
    }
}

/// `exp_safe` (spec §3.4): clamp to [−20, 20], then the `substrate-fixed` Taylor series.
///
/// This is the plain library call; [`exp_fast`] is the bit-identical fast version used by the
/// epoch.
pub fn exp_safe_reference(x: Q32) -> Q32 {
    let x = x.clamp(Q32::from_num(-20), Q32::from_num(20));
    match substrate_fixed::transcendental::exp::<Q32, Q32>(x) {
        Ok(r) => r,
        Err(()) => {
            if x <= ZERO {
                ZERO
            } else {
                Q32::max_value()
            }
        }
    }
}

/// Exact `floor(a / d)` for `a >= 0` and a small constant divisor (lets the compiler replace
/// the division with a multiplication when unrolled).
macro_rules! series_step {
    ($term:ident, $y:ident, $result:ident, $i:literal) => {
        // term ⊗ y, floor; both non-negative and bounded (see `exp_fast`), no overflow.
        $term = ((($term as u128) * ($y as u128)) >> 32) as u64;
        // term ⊘ i: ((term << 32) / (i << 32)) truncates exactly like term / i.
        $term /= $i;
        if $term == 0 {
            // Every later term is 0 as well: 0 ⊗ y = 0 and 0 ⊘ i = 0.
            return Some($result);
        }
        $result += $term;
    };
}

/// The Taylor-series part of `substrate_fixed::transcendental::exp` for `y = |x|` in
/// `[0, 20]` (as `Q32` bits), without the reciprocal for negative arguments. Returns `None`
/// where the library would overflow (never inside [0, 20]).
#[inline]
fn exp_series(y: u64) -> Option<u64> {
    // y <= 20 · 2^32 < 2^37. Every term is at most y^i / i! · 2^32 <= e^20 · 2^32 < 2^62, and
    // the sum at most e^20 · 2^32 < 2^62, so the u128 products and u64 sums cannot overflow.
    let mut result: u64 = y + (1u64 << 32);
    let mut term: u64 = y;
    series_step!(term, y, result, 2);
    series_step!(term, y, result, 3);
    series_step!(term, y, result, 4);
    series_step!(term, y, result, 5);
    series_step!(term, y, result, 6);
    series_step!(term, y, result, 7);
    series_step!(term, y, result, 8);
    series_step!(term, y, result, 9);
    series_step!(term, y, result, 10);
    series_step!(term, y, result, 11);
    series_step!(term, y, result, 12);
    series_step!(term, y, result, 13);
    series_step!(term, y, result, 14);
    series_step!(term, y, result, 15);
    series_step!(term, y, result, 16);
    series_step!(term, y, result, 17);
    series_step!(term, y, result, 18);
    series_step!(term, y, result, 19);
    series_step!(term, y, result, 20);
    series_step!(term, y, result, 21);
    series_step!(term, y, result, 22);
    series_step!(term, y, result, 23);
    series_step!(term, y, result, 24);
    series_step!(term, y, result, 25);
    series_step!(term, y, result, 26);
    series_step!(term, y, result, 27);
    series_step!(term, y, result, 28);
    series_step!(term, y, result, 29);
    series_step!(term, y, result, 30);
    series_step!(term, y, result, 31);
    Some(result)
}

/// `exp_safe` (spec §3.4), bit-identical to [`exp_safe_reference`] but cheaper: the series
/// stops once a term is 0 (every later term is then 0), and the divisions by the constant
/// term index are integer divisions the compiler turns into multiplications.
pub fn exp_fast(x: Q32) -> Q32 {
    let x = x.clamp(Q32::from_num(-20), Q32::from_num(20));
    let bits = x.to_bits();
    if bits == 0 {
        return ONE;
    }
    if bits == 1 << 32 {
        // The library returns its 23-fraction-bit constant e for exactly 1.
        return Q32::from_bits(22_802_600i64 << 9);
    }
    let y = bits.unsigned_abs();
    let Some(r) = exp_series(y) else {
        return exp_safe_reference(x);
    };
    let r = Q32::from_bits(r as i64);
    if bits < 0 {
        // 1 ⊘ result, checked (result >= 1, so it cannot fail).
        ONE.checked_div(r).unwrap_or(ZERO)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exp_fast_matches_library_on_a_dense_grid() {
        // Every 2^-12 step over [-20, 20] plus the boundaries.
        let lo = -20i64 << 32;
        let hi = 20i64 << 32;
        let mut b = lo - (1 << 12);
        while b <= hi + (1 << 12) {
            let x = Q32::from_bits(b);
            assert_eq!(exp_fast(x), exp_safe_reference(x), "x bits {b}");
            b += 1 << 20;
        }
        for b in [0i64, 1, -1, 1 << 32, -(1 << 32), i64::MAX, i64::MIN] {
            let x = Q32::from_bits(b);
            assert_eq!(exp_fast(x), exp_safe_reference(x), "x bits {b}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn exp_fast_matches_library(b in -(21i64 << 32)..(21i64 << 32)) {
            let x = Q32::from_bits(b);
            prop_assert_eq!(exp_fast(x), exp_safe_reference(x));
        }

        #[test]
        fn exp_fast_matches_library_near_zero(b in -(1i64 << 33)..(1i64 << 33)) {
            let x = Q32::from_bits(b);
            prop_assert_eq!(exp_fast(x), exp_safe_reference(x));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn mul_unit_matches_library(a in 0i64..=(1 << 32), b in 0i64..=(1 << 32)) {
            for (x, y) in [(a, b), (1 << 32, b), (a, 1 << 32), (a, 0)] {
                let want = mul(Q32::from_bits(x), Q32::from_bits(y)).to_bits();
                prop_assert_eq!(mul_unit(x as u64, y as u64) as i64, want);
                prop_assert_eq!(
                    Q32::from_bits(x).saturating_mul(Q32::from_bits(y)).to_bits(),
                    want
                );
            }
        }

        #[test]
        fn unit_mul_matches_mul_unit(a in 0u64..=(1 << 32), b in 0u64..=(1 << 32)) {
            for (x, y) in [(a, b), (1 << 32, b), (a, 1 << 32), (a, 0), (0, b), (1 << 32, 1 << 32)] {
                prop_assert_eq!(UnitMul::new(x).mul(y), mul_unit(x, y));
            }
        }

        #[test]
        fn sadd_matches_library(a in any::<i64>(), b in any::<i64>(), c in -(4i64 << 32)..(4i64 << 32)) {
            for (x, y) in [(a, b), (a, c), (c, b), (c, c), (i64::MAX, c), (i64::MIN, c)] {
                let (x, y) = (Q32::from_bits(x), Q32::from_bits(y));
                prop_assert_eq!(sadd(x, y), x.saturating_add(y));
            }
        }

        #[test]
        fn proportion_to_u16_matches_library(b in any::<i64>(), small in -(3i64 << 32)..(3i64 << 32)) {
            for x in [b, small, b >> 20, b >> 31] {
                let q = Q32::from_bits(x);
                prop_assert_eq!(proportion_to_u16(q), proportion_to_u16_reference(q), "{}", x);
            }
        }

        #[test]
        fn qdiv_matches_safe_div(
            a in prop_oneof![
                0i64..(1i64 << 32),
                (0i64..70_000).prop_map(|x| x << 32),
                any::<i64>(),
                Just(1i64 << 32),
            ],
            b in prop_oneof![
                1i64..(1i64 << 33),
                (1i64..70_000_000).prop_map(|x| x << 32),
                any::<i64>(),
                Just(0i64),
                Just(1i64),
            ],
        ) {
            let (a, b) = (Q32::from_bits(a), Q32::from_bits(b));
            prop_assert_eq!(QDiv::new(b).div(a), safe_div(a, b));
        }

        #[test]
        fn mul_matches_library(
            a in prop_oneof![any::<i64>(), -(1i64 << 40)..(1i64 << 40)],
            b in prop_oneof![any::<i64>(), -(1i64 << 40)..(1i64 << 40)],
        ) {
            let (a, b) = (Q32::from_bits(a), Q32::from_bits(b));
            prop_assert_eq!(mul(a, b), a.saturating_mul(b));
            prop_assert_eq!(mul_or_zero(a, b), a.checked_mul(b).unwrap_or(ZERO));
        }

        #[test]
        fn share_of_matches_library(x in any::<i64>(), rao in any::<u64>()) {
            let x = Q32::from_bits(x);
            prop_assert_eq!(share_of(x, rao), share_of_reference(x, rao));
        }

        #[test]
        fn div_one_matches_safe_div(
            a in prop_oneof![0i64..(1i64 << 32), 0i64..(1i64 << 50), any::<i64>()],
            b in prop_oneof![1i64..(1i64 << 34), 1i64..1000, any::<i64>(), Just(0i64), Just(1i64 << 32)],
        ) {
            let (a, b) = (Q32::from_bits(a), Q32::from_bits(b));
            prop_assert_eq!(div_one(a, b), safe_div(a, b));
        }

        #[test]
        fn divider_is_exact(x in any::<u64>(), d in prop_oneof![1u64..1000, any::<u64>().prop_map(|d| d.max(1)), Just(1u64 << 63), Just(u64::MAX)]) {
            prop_assert_eq!(Divider::new(d).div(x), x / d);
        }
    }

    proptest! {
        #[test]
        fn u16_divider_is_exact(v in any::<u16>(), b in prop_oneof![1u64..70000, 1u64..1 << 31, Just((1u64 << 31) - 1), (0u32..31).prop_map(|k| 1u64 << k), (1u32..31).prop_map(|k| (1u64 << k) - 1), (1u32..31).prop_map(|k| (1u64 << k) + 1)]) {
            prop_assert_eq!(U16Divider::new(b).div(v), (u64::from(v) << 32) / b);
        }
    }

    proptest! {
        #[test]
        fn unit_divider_is_exact(d in prop_oneof![1u64..70000, 1u64..1 << 30, (1u64 << 29)..(1u64 << 31), (1u64 << 30)..(1u64 << 40), any::<u64>().prop_map(|d| d.max(1)), (0u32..64).prop_map(|k| 1u64 << k), (1u32..64).prop_map(|k| (1u64 << k) - 1), (1u32..63).prop_map(|k| (1u64 << k) + 1)], f in any::<u64>()) {
            // v in [0, d], with the ends often.
            for v in [0, d, d - 1, ((u128::from(f) * u128::from(d)) >> 64) as u64] {
                prop_assert_eq!(u128::from(UnitDivider::new(d).div(v)), (u128::from(v) << 32) / u128::from(d), "v {} d {}", v, d);
            }
        }
    }

    #[test]
    fn unit_divider_is_exact_at_the_edges() {
        for l in 0..36u32 {
            for d in [
                (1u64 << l).saturating_sub(1).max(1),
                1 << l,
                (1 << l) + 1,
                (1 << l) + 3,
            ] {
                let div = UnitDivider::new(d);
                let mut vs = vec![0, 1, 2, d / 2, d / 3, d - 1, d];
                // Numerators just below and at multiples of d / 2^32 (quotient steps).
                for k in [1u64, 2, 3, 1 << 16, (1 << 32) - 1] {
                    let v = ((u128::from(k) * u128::from(d)) >> 32) as u64;
                    vs.extend([v, v.saturating_sub(1), v + 1]);
                }
                for v in vs.into_iter().filter(|v| *v <= d) {
                    assert_eq!(
                        u128::from(div.div(v)),
                        (u128::from(v) << 32) / u128::from(d),
                        "v {v} d {d}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn high_divider_is_exact(d in prop_oneof![((1u64 << 31) + 1)..(1u64 << 32), Just((1u64 << 31) + 1), Just((1u64 << 32) - 1), Just(3u64 << 30)], f in any::<u64>()) {
            let div = HighDivider::new(d).unwrap();
            // v in [0, d], with the ends and quotient steps often.
            let k = f >> 32;
            let step = ((u128::from(k) * u128::from(d)) >> 32) as u64;
            for v in [0, 1, d, d - 1, ((u128::from(f) * u128::from(d)) >> 64) as u64, step, step.saturating_sub(1), step + 1] {
                if v <= d {
                    prop_assert_eq!(div.div(v), (v << 32) / d, "v {} d {}", v, d);
                }
            }
        }
    }

    #[test]
    fn high_divider_domain() {
        assert_eq!(HighDivider::new(0).map(|d| d.div(0)), Some(0));
        for d in [1, 1 << 30, 1 << 31, 1 << 32, (1 << 32) + 1, u64::MAX] {
            assert!(HighDivider::new(d).is_none(), "{d}");
        }
    }

    #[test]
    fn pow2_div_ceil_is_exact() {
        for k in [0u32, 1, 31, 32, 47, 63, 64, 65, 96, 100] {
            for d in [
                1u64,
                2,
                3,
                5,
                1 << 20,
                (1 << 20) + 1,
                (1 << 31) - 1,
                1 << 31,
                (1 << 32) - 1,
            ] {
                if d.trailing_zeros() > k && d.is_power_of_two() {
                    continue;
                }
                assert_eq!(
                    pow2_div_ceil(k, d),
                    (1u128 << k).div_ceil(u128::from(d)),
                    "k {k} d {d}"
                );
            }
        }
    }

    #[test]
    fn u16_divider_is_exact_at_the_edges() {
        for l in 0..31u32 {
            for b in [
                (1u64 << l).saturating_sub(1).max(1),
                1 << l,
                (1 << l) + 1,
                (1 << l) + 3,
            ] {
                if b >= 1 << 31 {
                    continue;
                }
                let div = U16Divider::new(b);
                for v in [0u16, 1, 2, 3, 32767, 32768, 65533, 65534, 65535] {
                    assert_eq!(div.div(v), (u64::from(v) << 32) / b, "v {v} b {b}");
                }
            }
        }
        // Every numerator for a few divisors.
        for b in [3u64, 65535, 65537, 99991, (1 << 31) - 1] {
            let div = U16Divider::new(b);
            for v in 0..=u16::MAX {
                assert_eq!(div.div(v), (u64::from(v) << 32) / b, "v {v} b {b}");
            }
        }
    }

    #[test]
    fn divider_is_exact_at_the_edges() {
        let ds = [
            1u64,
            2,
            3,
            7,
            65535,
            1 << 31,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
            1 << 63,
            (1 << 63) + 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        for d in ds {
            let div = Divider::new(d);
            let q = u64::MAX / d;
            for k in [1, 2, q / 2 + 1, q.saturating_sub(1).max(1), q] {
                let m = d.saturating_mul(k);
                for x in [m - 1, m, m.saturating_add(1), u64::MAX, u64::MAX - d + 1] {
                    assert_eq!(div.div(x), x / d, "x {x} d {d}");
                }
            }
        }
    }

    #[test]
    fn u16_proportion_matches_safe_div_for_every_u16() {
        for x in 0..=u16::MAX {
            assert_eq!(
                u16_proportion(x),
                safe_div(q32_int(x), q32_int(u16::MAX)),
                "{x}"
            );
        }
    }

    #[test]
    fn proportions_round_trip() {
        for b in [
            i64::MIN,
            -1,
            0,
            1,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
            i64::MAX,
        ] {
            let q = Q32::from_bits(b);
            assert_eq!(proportion_to_u16(q), proportion_to_u16_reference(q), "{b}");
        }
        assert_eq!(proportion_to_u16(ONE), 65535);
        assert_eq!(proportion_to_u16(ZERO), 0);
        assert_eq!(proportion_to_u16(Q32::from_num(0.25)), 16383);
        assert_eq!(proportion_to_u16(Q32::from_num(-1)), 0);
        assert_eq!(proportion_to_u16(Q32::from_num(3)), 65535);
        assert_eq!(u16_proportion(65535), ONE);
        assert_eq!(safe_div(ONE, ZERO), ZERO);
        assert_eq!(safe_div(Q32::max_value(), Q32::from_bits(1)), ZERO);
    }
}
