//! Plots of a run, drawn with `plotters` as PNG and SVG. Text uses DejaVu Sans embedded in the
//! binary (`assets/DejaVuSans.ttf`, Bitstream Vera licence in `assets/DejaVuSans-LICENSE.txt`),
//! so no system font is needed.

use crate::engine::{Role, SimResult, RAO_PER_TAO};
use crate::report::miner_quality_incentive;
use crate::SimError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();
const SIZE: (u32, u32) = (1000, 760);

fn register_font() -> Result<(), SimError> {
    let mut ok = true;
    REGISTER.call_once(|| {
        ok = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
    });
    if ok {
        Ok(())
    } else {
        Err(SimError::Plot(
            "the embedded font could not be loaded".into(),
        ))
    }
}

/// Colour of a behaviour label.
pub fn colour(label: &str) -> RGBColor {
    match label {
        "honest" => RGBColor(31, 119, 180),
        "copier" => RGBColor(214, 39, 40),
        "cabal" => RGBColor(148, 103, 189),
        "lazy" => RGBColor(127, 127, 127),
        "late" => RGBColor(44, 160, 44),
        _ => RGBColor(255, 127, 14),
    }
}

fn err<E: std::fmt::Debug>(e: E) -> SimError {
    SimError::Plot(format!("{e:?}"))
}

/// Draws one plot function into `DIR/STEM.png` and `DIR/STEM.svg`; evaluates to both paths.
macro_rules! plot_both {
    ($dir:expr, $stem:expr, $f:ident, $($arg:expr),*) => {{
        register_font()?;
        let png = $dir.join(format!("{}.png", $stem));
        let svg = $dir.join(format!("{}.svg", $stem));
        {
            let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            $f(&root, $($arg),*)?;
            root.present().map_err(err)?;
        }
        {
            let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            $f(&root, $($arg),*)?;
            root.present().map_err(err)?;
        }
        Ok::<Vec<PathBuf>, SimError>(vec![png, svg])
    }};
}

fn draw_dividends<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    result: &SimResult,
) -> Result<(), SimError> {
    let epochs = result.epochs.len() as u32;
    let vals: Vec<_> = result
        .participants
        .iter()
        .filter(|p| p.role == Role::Validator)
        .collect();
    let (top, bottom) = root.split_vertically(SIZE.1 * 3 / 5);
    let y_max = result
        .epochs
        .last()
        .map(|r| {
            vals.iter()
                .map(|p| r.cumulative[p.uid as usize] as f64 / RAO_PER_TAO)
                .fold(0.0, f64::max)
        })
        .unwrap_or(0.0)
        .max(1e-9)
        * 1.05;
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!(
                "{}: cumulative earnings per validator",
                result.scenario.name
            ),
            ("sans-serif", 24),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(80)
        .build_cartesian_2d(0u32..epochs.max(1), 0f64..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .y_desc("earned (TAO)")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    let mut seen: Vec<&str> = Vec::new();
    for p in &vals {
        let label = p.label();
        let c = colour(label);
        let series = LineSeries::new(
            result
                .epochs
                .iter()
                .map(|r| (r.epoch, r.cumulative[p.uid as usize] as f64 / RAO_PER_TAO)),
            c.stroke_width(2),
        );
        let drawn = chart.draw_series(series).map_err(err)?;
        if !seen.contains(&label) {
            seen.push(label);
            drawn.label(label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
            });
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(err)?;

    // Lower panel: cumulative earnings per unit of stake, relative to the mean honest validator
    // (or to the mean validator when there is no honest one).
    let reference: Vec<_> = {
        let honest: Vec<_> = vals
            .iter()
            .filter(|p| p.label() == "honest" && p.stake > 0)
            .copied()
            .collect();
        if honest.is_empty() {
            vals.iter().filter(|p| p.stake > 0).copied().collect()
        } else {
            honest
        }
    };
    let rel = |p: &crate::Participant, r: &crate::EpochRecord| -> Option<f64> {
        let per = |q: &crate::Participant| r.cumulative[q.uid as usize] as f64 / q.stake as f64;
        let mean = reference.iter().map(|q| per(q)).sum::<f64>() / reference.len().max(1) as f64;
        (p.stake > 0 && mean > 0.0).then(|| per(p) / mean)
    };
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for r in &result.epochs {
        for p in &vals {
            if let Some(v) = rel(p, r) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let (lo, hi) = (lo.clamp(0.0, 0.9), hi.max(1.1));
    let mut chart = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0u32..epochs.max(1), lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("earned per stake / honest mean")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for p in &vals {
        let c = colour(p.label());
        let pts: Vec<(u32, f64)> = result
            .epochs
            .iter()
            .filter_map(|r| rel(p, r).map(|v| (r.epoch, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_quality<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    result: &SimResult,
) -> Result<(), SimError> {
    let pts = miner_quality_incentive(result);
    let y_max = pts.iter().map(|p| p.2).fold(0.0, f64::max).max(1e-6) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "{}: miner incentive vs true quality (means over the run)",
                result.scenario.name
            ),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..1.0, 0f64..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("mean true quality")
        .y_desc("mean incentive (share)")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for label in ["honest", "cabal"] {
        let cabal = label == "cabal";
        let c = if cabal {
            colour("cabal")
        } else {
            RGBColor(31, 119, 180)
        };
        let these: Vec<(f64, f64)> = pts
            .iter()
            .filter(|(uid, _, _)| result.participants[*uid as usize].cabal == cabal)
            .map(|&(_, q, i)| (q, i))
            .collect();
        if these.is_empty() {
            continue;
        }
        chart
            .draw_series(
                these
                    .iter()
                    .map(|&(q, i)| Circle::new((q, i), 5, c.filled())),
            )
            .map_err(err)?
            .label(if cabal { "cabal miner" } else { "miner" })
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Draws `dividends.{png,svg}` (cumulative earnings per validator, coloured by behaviour) and
/// `incentive-vs-quality.{png,svg}` into `dir`; returns the files written.
pub fn plot_run(result: &SimResult, dir: &Path) -> Result<Vec<PathBuf>, SimError> {
    let mut files = plot_both!(dir, "dividends", draw_dividends, result)?;
    files.extend(plot_both!(
        dir,
        "incentive-vs-quality",
        draw_quality,
        result
    )?);
    Ok(files)
}

fn draw_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    key: &str,
    metric: &str,
    points: &[(String, Option<f64>)],
) -> Result<(), SimError> {
    let numeric: Option<Vec<f64>> = points.iter().map(|(v, _)| v.parse::<f64>().ok()).collect();
    let xs: Vec<f64> = match &numeric {
        Some(v) => v.clone(),
        None => (0..points.len()).map(|i| i as f64).collect(),
    };
    let (x_lo, x_hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let pad = ((x_hi - x_lo) * 0.05).max(0.5);
    let ys: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let (y_lo, y_hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    let (y_lo, y_hi) = if ys.is_empty() {
        (0.0, 1.0)
    } else {
        (y_lo.min(0.0), y_hi.max(y_lo + 1e-9) * 1.1)
    };
    let labels: Vec<String> = points.iter().map(|p| p.0.clone()).collect();
    let fmt = |x: &f64| -> String {
        if numeric.is_some() {
            format!("{x}")
        } else {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
    };
    let mut chart = ChartBuilder::on(root)
        .caption(format!("{metric} vs {key}"), ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d((x_lo - pad)..(x_hi + pad), y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(key)
        .y_desc(metric)
        .x_label_formatter(&fmt)
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    let line: Vec<(f64, f64)> = xs
        .iter()
        .zip(points)
        .filter_map(|(&x, (_, y))| y.map(|y| (x, y)))
        .collect();
    let c = colour("honest");
    chart
        .draw_series(LineSeries::new(line.iter().copied(), c.stroke_width(2)))
        .map_err(err)?;
    chart
        .draw_series(line.iter().map(|&p| Circle::new(p, 5, c.filled())))
        .map_err(err)?;
    Ok(())
}

/// Draws `sweep.{png,svg}` into `dir`: `metric` against the swept value of `key` (one point per
/// value; `None` values are skipped).
pub fn plot_sweep(
    dir: &Path,
    key: &str,
    metric: &str,
    points: &[(String, Option<f64>)],
) -> Result<Vec<PathBuf>, SimError> {
    plot_both!(dir, "sweep", draw_sweep, key, metric, points)
}
