//! The validator's secret, label-preserving transformation of held-out samples.
//!
//! Digits: shift the 8×8 image by `(dx, dy)` with each drawn uniformly from {−1, 0, 1} (pixels
//! moved in from outside are 0), add Gaussian noise of standard deviation
//! [`DIGIT_NOISE_STD`] pixel units, clamp to `0..=pixel_max`. Tabular data: add Gaussian noise of
//! [`TABULAR_NOISE_FRACTION`] × the feature's standard deviation to every feature. Both keep
//! the label; the draws come from the validator's per-round random stream, so no miner can
//! precompute them and a table of held-out samples never matches.

use crate::data::Dataset;
use rand::Rng;

/// Noise added to digit pixels (values 0..=16), standard deviation.
pub const DIGIT_NOISE_STD: f32 = 1.0;
/// Noise added to tabular features, as a fraction of each feature's standard deviation.
pub const TABULAR_NOISE_FRACTION: f32 = 0.1;

/// A standard normal draw (Box–Muller).
pub fn gaussian<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Shifts a `h × w` image by `(dx, dy)` pixels (positive = right / down), filling with 0.
pub fn shift_image(x: &[f32], h: usize, w: usize, dx: i32, dy: i32) -> Vec<f32> {
    let mut out = vec![0.0; h * w];
    for r in 0..h as i32 {
        for c in 0..w as i32 {
            let (sr, sc) = (r - dy, c - dx);
            if (0..h as i32).contains(&sr) && (0..w as i32).contains(&sc) {
                out[(r as usize) * w + c as usize] = x[(sr as usize) * w + sc as usize];
            }
        }
    }
    out
}

/// Transforms one sample of `dataset` with randomness from `rng`.
pub fn transform<R: Rng + ?Sized>(dataset: &Dataset, x: &[f32], rng: &mut R) -> Vec<f32> {
    match dataset.image {
        Some((h, w)) if x.len() == h * w => {
            let dx = rng.gen_range(-1..=1);
            let dy = rng.gen_range(-1..=1);
            shift_image(x, h, w, dx, dy)
                .into_iter()
                .map(|p| (p + DIGIT_NOISE_STD * gaussian(rng)).clamp(0.0, dataset.pixel_max))
                .collect()
        }
        _ => x
            .iter()
            .enumerate()
            .map(|(j, v)| {
                let s = dataset.feature_std.get(j).copied().unwrap_or(0.0);
                v + TABULAR_NOISE_FRACTION * s * gaussian(rng)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatasetName;
    use rand::SeedableRng;

    #[test]
    fn shift_moves_pixels_and_fills_zero() {
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect(); // 3x3
        assert_eq!(
            shift_image(&x, 3, 3, 1, 0),
            vec![0.0, 1.0, 2.0, 0.0, 4.0, 5.0, 0.0, 7.0, 8.0]
        );
        assert_eq!(
            shift_image(&x, 3, 3, 0, -1),
            vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(shift_image(&x, 3, 3, 0, 0), x);
    }

    #[test]
    fn gaussian_has_unit_scale() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let v: Vec<f32> = (0..20_000).map(|_| gaussian(&mut rng)).collect();
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn transforms_stay_in_range_and_differ() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let d = Dataset::load(DatasetName::Digits);
        let x = &d.held_out.x[0];
        let t = transform(&d, x, &mut rng);
        assert_eq!(t.len(), 64);
        assert!(t.iter().all(|p| (0.0..=16.0).contains(p)));
        assert_ne!(&t, x);
        let b = Dataset::load(DatasetName::BreastCancer);
        let x = &b.held_out.x[0];
        let t = transform(&b, x, &mut rng);
        for j in 0..30 {
            assert!((t[j] - x[j]).abs() <= 0.6 * b.feature_std[j] + 1e-6);
        }
        assert_ne!(&t, x);
    }
}
