//! A small seeded pseudo-random generator with a fixed, documented algorithm, so that a scenario
//! and a seed give the same numbers on every platform and with every dependency version.
//!
//! Algorithm: xoshiro256++ (Blackman & Vigna), state seeded from the 64-bit seed through
//! SplitMix64; Gaussian samples by the 128-strip ziggurat of Marsaglia and Tsang.

/// Deterministic generator: xoshiro256++ seeded through SplitMix64.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator for `seed`; `stream` separates independent sequences under one seed
    /// (e.g. one stream per validator), so adding a participant does not shift the others' noise.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut sm = seed ^ stream.wrapping_mul(0xD605_BBB5_8C8A_BBE3);
        let mut s = [0u64; 4];
        for v in &mut s {
            *v = splitmix64(&mut sm);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal sample (mean 0, standard deviation 1), by the ziggurat method of Marsaglia
    /// and Tsang (2000) with 128 strips: about 99% of samples cost one 64-bit draw, a compare
    /// and a multiply. The strip index comes from the low 7 bits and the value from the high 32
    /// bits of the same draw, so the two are independent.
    pub fn normal(&mut self) -> f64 {
        let t = zig_tables();
        loop {
            let bits = self.next_u64();
            let iz = (bits & 127) as usize;
            let hz = (bits >> 32) as u32 as i32;
            let x = f64::from(hz) * t.w[iz];
            if u64::from(hz.unsigned_abs()) < t.k[iz] {
                return x;
            }
            if iz == 0 {
                // The tail beyond R, by Marsaglia's exponential-rejection method.
                loop {
                    let a = -(1.0 - self.uniform()).ln() / ZIG_R;
                    let b = -(1.0 - self.uniform()).ln();
                    if b + b >= a * a {
                        return if hz > 0 { ZIG_R + a } else { -ZIG_R - a };
                    }
                }
            }
            // Wedge: accept x under the density between the strip's edges.
            if t.f[iz] + self.uniform() * (t.f[iz - 1] - t.f[iz]) < (-0.5 * x * x).exp() {
                return x;
            }
        }
    }
}

/// Right edge of the base strip of the 128-strip normal ziggurat.
const ZIG_R: f64 = 3.442_619_855_899;
/// Area of each strip.
const ZIG_V: f64 = 9.912_563_035_262_17e-3;

struct ZigTables {
    k: [u64; 128],
    w: [f64; 128],
    f: [f64; 128],
}

fn zig_tables() -> &'static ZigTables {
    static TABLES: std::sync::OnceLock<ZigTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let m = 2_147_483_648.0f64; // 2^31: |hz| ranges over [0, 2^31]
        let mut t = ZigTables {
            k: [0; 128],
            w: [0.0; 128],
            f: [0.0; 128],
        };
        let mut d = ZIG_R;
        let mut prev = d;
        let q = ZIG_V / (-0.5 * d * d).exp();
        t.k[0] = ((d / q) * m) as u64;
        t.k[1] = 0;
        t.w[0] = q / m;
        t.w[127] = d / m;
        t.f[0] = 1.0;
        t.f[127] = (-0.5 * d * d).exp();
        for i in (1..=126).rev() {
            d = (-2.0 * (ZIG_V / d + (-0.5 * d * d).exp()).ln()).sqrt();
            t.k[i + 1] = ((d / prev) * m) as u64;
            prev = d;
            t.f[i] = (-0.5 * d * d).exp();
            t.w[i] = d / m;
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        let mut c = Rng::new(7, 2);
        let xa: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn known_first_output_is_stable() {
        // Pinned so that a change of algorithm (which would change every simulation) is noticed.
        let mut r = Rng::new(0, 0);
        let first = r.next_u64();
        let mut again = Rng::new(0, 0);
        assert_eq!(first, again.next_u64());
        assert_eq!(first, PINNED_FIRST);
    }
    const PINNED_FIRST: u64 = 5_987_356_902_031_041_503;

    #[test]
    fn splitmix_matches_its_published_first_value() {
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn normal_has_mean_zero_and_unit_variance() {
        let mut r = Rng::new(42, 0);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn normal_tails_have_the_gaussian_mass() {
        // P(|z| > 2) = 0.0455, P(|z| > 3) = 0.0027, P(|z| > 3.6) = 0.000318 (tail strip path).
        let mut r = Rng::new(5, 0);
        let n = 2_000_000;
        let (mut t2, mut t3, mut t36) = (0u32, 0u32, 0u32);
        for _ in 0..n {
            let z = r.normal().abs();
            t2 += u32::from(z > 2.0);
            t3 += u32::from(z > 3.0);
            t36 += u32::from(z > 3.6);
        }
        let p = |c: u32| f64::from(c) / n as f64;
        assert!((p(t2) - 0.0455).abs() < 0.001, "{}", p(t2));
        assert!((p(t3) - 0.0027).abs() < 0.0002, "{}", p(t3));
        assert!((p(t36) - 0.000318).abs() < 0.00006, "{}", p(t36));
    }

    #[test]
    fn uniform_in_unit_interval() {
        let mut r = Rng::new(3, 9);
        for _ in 0..10_000 {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
