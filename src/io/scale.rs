//! How the phase figures (`heatmap.rs`) turn numbers into colours and positions: the
//! colour maps (plotters' viridis, our two-slope blue–white–red map centred on zero, a
//! categorical palette) with their colour-bar ticks, log or linear axis positions and cell
//! edges, and the choice and labels of axis ticks (integers only on an integer axis). Pure
//! functions of the numbers; no drawing.

use plotters::style::RGBColor;
use plotters::style::colors::colormaps::ViridisRGB;

/// Grey of cells without data.
pub(crate) const NO_DATA: RGBColor = RGBColor(215, 215, 215);
/// Qualitative palette of categories (exit grey, AI orange, human blue for segments).
pub(crate) const CATEGORY_COLOURS: [RGBColor; 8] = [
    RGBColor(158, 158, 158),
    RGBColor(224, 123, 57),
    RGBColor(59, 117, 175),
    RGBColor(81, 158, 62),
    RGBColor(192, 61, 62),
    RGBColor(141, 105, 184),
    RGBColor(132, 88, 78),
    RGBColor(213, 125, 191),
];
/// Blue–white–red (ColorBrewer RdBu reversed, 7 stops). Ours because plotters ships no
/// diverging map; its sequential viridis (`ViridisRGB`) is used as is: it and the 9-stop
/// matplotlib table this file had differ by at most 8/255 in any channel (at t ≈ 0.62,
/// where plotters' 8 stops interpolate), the same map to the eye.
const DIVERGING: [(u8, u8, u8); 7] =
    [(33, 102, 172), (103, 169, 207), (209, 229, 240), (247, 247, 247), (253, 219, 199), (239, 138, 98), (178, 24, 43)];

pub(crate) fn ramp(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (t.floor() as usize).min(stops.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Maps values to colours: the colour-bar limits and the map.
pub(crate) struct Mapper {
    lo: f64,
    hi: f64,
    diverging: bool,
}

impl Mapper {
    pub(crate) fn new(z: &[f64], diverging: bool) -> Mapper {
        let (mut lo, mut hi) = z
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        // Diverging only where zero lies inside the data: then white means "no change", and
        // each side spans its own range (a two-slope map), so a small gain beside a large
        // loss is still visible.
        let diverging = diverging && lo < 0.0 && hi > 0.0;
        if hi - lo <= 1e-12 * hi.abs().max(1.0) {
            let pad = (hi.abs() * 0.01).max(1e-9);
            (lo, hi) = (lo - pad, hi + pad);
        }
        Mapper { lo, hi, diverging }
    }
    /// Position of `v` on the colour bar, 0 at `lo` and 1 at `hi` (zero at 1/2 when diverging).
    pub(crate) fn frac(&self, v: f64) -> f64 {
        if self.diverging {
            if v >= 0.0 { 0.5 + 0.5 * v / self.hi } else { 0.5 - 0.5 * v / self.lo }
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
    pub(crate) fn colour(&self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return NO_DATA;
        }
        self.colour_at(self.frac(v))
    }
    pub(crate) fn colour_at(&self, t: f64) -> RGBColor {
        if self.diverging { ramp(&DIVERGING, t) } else { ViridisRGB::get_color(t.clamp(0.0, 1.0)) }
    }
    /// Colour-bar ticks: on a two-slope map, each side gets its own.
    pub(crate) fn ticks(&self) -> Vec<(f64, f64)> {
        let side = |a: f64, b: f64, n: usize| {
            let step = nice_step(b - a, n);
            linear_ticks(a, b, n).into_iter().map(move |v| (v, step)).collect::<Vec<_>>()
        };
        if self.diverging {
            let mut t = side(self.lo, 0.0, 4);
            t.extend(side(0.0, self.hi, 4).into_iter().filter(|p| p.0 != 0.0));
            t
        } else {
            side(self.lo, self.hi, 8)
        }
    }
}

/// Position on the drawing axis: log10 for log axes.
pub(crate) fn warp(v: f64, log: bool) -> f64 {
    if log { v.log10() } else { v }
}

/// Cell edges (in warped units) around `values` (`log`: a log axis): midpoints inside,
/// half a step outside.
pub(crate) fn edges(values: &[f64], log: bool) -> Vec<f64> {
    let u: Vec<f64> = values.iter().map(|&v| warp(v, log)).collect();
    let n = u.len();
    if n == 1 {
        let h = if log { 0.5 } else { (u[0].abs() * 0.5).max(0.5) };
        return vec![u[0] - h, u[0] + h];
    }
    let mut e = Vec::with_capacity(n + 1);
    e.push(u[0] - 0.5 * (u[1] - u[0]));
    for w in u.windows(2) {
        e.push(0.5 * (w[0] + w[1]));
    }
    e.push(u[n - 1] + 0.5 * (u[n - 1] - u[n - 2]));
    e
}

/// A "nice" tick step for `span` split in about `n` parts (1, 2 or 5 × 10^k).
pub(crate) fn nice_step(span: f64, n: usize) -> f64 {
    let raw = (span / n.max(1) as f64).abs().max(1e-300);
    let mag = 10f64.powf(raw.log10().floor());
    let r = raw / mag;
    mag * if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    }
}

/// Ticks of a linear range.
pub(crate) fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, n);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Ticks of a linear axis over [lo, hi] and their step; on an `integer` axis (its values
/// are integers: a count, a number of offers) only integers, the step at least 1.
pub(crate) fn axis_ticks(lo: f64, hi: f64, integer: bool) -> (Vec<f64>, f64) {
    let step = nice_step(hi - lo, 7);
    if !integer || step >= 1.0 {
        return (linear_ticks(lo, hi, 7), step);
    }
    ((lo.ceil() as i64..=hi.floor() as i64).map(|v| v as f64).collect(), 1.0)
}

/// Ticks of a log range (in value units): decades, plus 2× and 5× when it spans little.
pub(crate) fn log_ticks(ulo: f64, uhi: f64) -> (Vec<f64>, Vec<f64>) {
    let (k0, k1) = (ulo.floor() as i32, uhi.ceil() as i32);
    let few = uhi - ulo < 2.5;
    let (mut major, mut minor) = (Vec::new(), Vec::new());
    for k in k0..=k1 {
        let d = 10f64.powi(k);
        for m in 1..10 {
            let v = m as f64 * d;
            let u = v.log10();
            if u < ulo - 1e-9 || u > uhi + 1e-9 {
                continue;
            }
            if m == 1 || (few && (m == 2 || m == 5)) {
                major.push(v);
            } else {
                minor.push(v);
            }
        }
    }
    (major, minor)
}

/// A tick label: short, with as many decimals as the step needs.
pub(crate) fn fmt_tick(v: f64, step: f64) -> String {
    // Ticks are multiples of the step computed in floating point: one a rounding error
    // away from zero is zero.
    if v == 0.0 || v.abs() < 1e-9 * step.abs() {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.0e}");
    }
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    format!("{v:.decimals$}")
}

pub(crate) fn fmt_log_tick(v: f64) -> String {
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_decades_over_wide_ranges() {
        let (major, _) = log_ticks(-1.0, 2.0);
        assert_eq!(major, vec![0.1, 1.0, 10.0, 100.0]);
    }

    #[test]
    fn edges_of_a_log_axis_are_geometric_midpoints() {
        let e = edges(&[0.1, 1.0, 10.0], true);
        assert!((e[1] + 0.5).abs() < 1e-12 && (e[2] - 0.5).abs() < 1e-12, "{e:?}");
    }

    #[test]
    fn a_tick_a_rounding_error_from_zero_is_zero() {
        assert_eq!(fmt_tick(-3e-18, 0.02), "0");
        assert_eq!(fmt_tick(0.02, 0.02), "0.02");
    }

    #[test]
    fn integer_axes_tick_at_integers_only() {
        // Cells 2 and 3 span 1.5..3.5: a plain linear axis would tick at 0.5 steps.
        let (t, step) = axis_ticks(1.5, 3.5, true);
        assert_eq!((t, step), (vec![2.0, 3.0], 1.0));
        assert_eq!(linear_ticks(1.5, 3.5, 7), vec![1.5, 2.0, 2.5, 3.0, 3.5]);
        // A long integer axis keeps its coarser nice step.
        assert_eq!(axis_ticks(-0.5, 100.5, true).0, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        let m = Mapper::new(&[0.0, 1.0], false);
        assert_eq!(m.colour(0.0), RGBColor(68, 1, 84));
        assert_eq!(m.colour(1.0), RGBColor(254, 232, 37));
    }

    #[test]
    fn diverging_map_is_white_at_zero() {
        let m = Mapper::new(&[-2.0, 1.0], true);
        assert_eq!(m.colour(0.0), RGBColor(247, 247, 247));
        // Two slopes: each end of the data gets the full colour of its side.
        assert_eq!(m.colour(1.0), RGBColor(178, 24, 43));
        assert_eq!(m.colour(-2.0), RGBColor(33, 102, 172));
        assert!((m.frac(0.5) - 0.75).abs() < 1e-12 && (m.frac(-1.0) - 0.25).abs() < 1e-12);
    }
}
