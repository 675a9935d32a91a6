//! PNG figures with plotters: the embedded font (DejaVu Sans, so figures render the same
//! on machines without fontconfig), the one PNG writer and error of every figure
//! ([`write_png`], [`FigureError`]; the heatmaps of `heatmap.rs` use them too), and the
//! figure helpers of `equilibrium`, `meanfield` and `reproduce`: a grid of panels, each a
//! set of line, step-histogram or stacked-bar series with a legend, optional log x axis
//! and marked x positions. Knows nothing about the model: callers hand it plain numbers.
//! Figures go through [`Output::create_png`]: drawn into `<name>.tmp.png` and renamed, so
//! a figure is either whole or absent, and a file that is not a PNG is never replaced.

use crate::io::error::OutputError;
use crate::io::output::Output;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font as "sans-serif" once per process; call before drawing text.
pub fn init_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to be valid, so failure here is a build defect.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, FONT);
    });
}

/// A figure could not be drawn or written; names the file.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// Drawing or encoding the image failed, or its data cannot be drawn.
    #[error("{file}: {reason}")]
    Draw { file: String, reason: String },
    /// The figure's path may not be written, or the rename failed (`io::output`); the
    /// source, so the CLI's exit code is that of any refused output.
    #[error("{0}")]
    Output(#[from] OutputError),
}

/// The drawing area of a whole figure.
pub type Canvas<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draws a PNG of `size` pixels with `draw` (on a white canvas) and writes it at `path`
/// through [`Output::create_png`]: the figure is encoded into the temporary file and
/// renamed over `path` once complete; on any error the temporary file is removed.
pub fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Canvas) -> Result<(), FigureError>,
) -> Result<(), FigureError> {
    init_fonts();
    let out = Output::create_png(path)?;
    {
        let root = BitMapBackend::new(out.tmp(), size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fig_err(path, e))?;
        draw(&root)?;
        root.present().map_err(|e| fig_err(path, format!("cannot write the PNG: {e}")))?;
    }
    // Dropping `out` on an error above removes the temporary file.
    out.commit()?;
    Ok(())
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// A line through the points.
    Line,
    /// A dashed line.
    Dashed,
    /// A histogram: points are (left bin edge, value), drawn as steps to the next edge;
    /// the last bin is as wide as the one before.
    Steps,
    /// Points with markers, no line.
    Points,
    /// One segment of stacked bars: points are (bar centre, height); series drawn as
    /// bars stack in the order given.
    Bars,
}

/// A named series of (x, y) points.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub colour: (u8, u8, u8),
    pub style: Style,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, colour: (u8, u8, u8), style: Style) -> Series {
        Series { name: name.into(), points, colour, style }
    }
}

/// One panel of a figure.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub series: Vec<Series>,
    /// Vertical marks at x with a label (e.g. the shock, a cut-off).
    pub marks: Vec<(f64, String)>,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Names of categories at x = 1, 2, ...: a categorical x axis labelled by name.
    pub x_categories: Vec<String>,
}

/// Segment colours used across figures: exit grey, AI orange, human blue.
pub const EXIT_C: (u8, u8, u8) = (128, 128, 128);
pub const AI_C: (u8, u8, u8) = (230, 126, 34);
pub const HUMAN_C: (u8, u8, u8) = (41, 98, 168);
/// Other series colours (a qualitative palette).
pub const PALETTE: [(u8, u8, u8); 8] = [
    (41, 98, 168),
    (230, 126, 34),
    (46, 139, 87),
    (192, 57, 43),
    (142, 68, 173),
    (128, 128, 128),
    (23, 162, 184),
    (188, 143, 0),
];

/// A [`FigureError::Draw`] of the figure at `path`.
pub fn fig_err(path: &Path, reason: impl ToString) -> FigureError {
    FigureError::Draw { file: path.display().to_string(), reason: reason.to_string() }
}

/// Draws `panels` on a grid of `cols` columns under `title` into the PNG at `path`
/// (each panel `panel_size` pixels).
pub fn draw_figure(
    path: &Path,
    title: &str,
    panels: &[Panel],
    cols: usize,
    panel_size: (u32, u32),
) -> Result<(), FigureError> {
    if panels.is_empty() {
        return Err(fig_err(path, "a figure needs at least one panel"));
    }
    let cols = cols.clamp(1, panels.len());
    let rows = panels.len().div_ceil(cols);
    let head = if title.is_empty() { 0 } else { 40 };
    let size = (panel_size.0 * cols as u32, panel_size.1 * rows as u32 + head);
    write_png(path, size, |root| {
        let body = if head > 0 {
            root.draw_text(title, &("sans-serif", 22).into_font().color(&BLACK), (12, 10))
                .map_err(|e| fig_err(path, e))?;
            root.split_vertically(head).1
        } else {
            root.clone()
        };
        let areas = body.split_evenly((rows, cols));
        for (panel, area) in panels.iter().zip(areas.iter()) {
            draw_panel(path, area, panel)?;
        }
        Ok(())
    })
}

/// Data range of the panel's series: (x0, x1, y0, y1), padded, stacked bars summed.
fn ranges(p: &Panel) -> (f64, f64, f64, f64) {
    let finite = |v: &f64| v.is_finite() && (!p.log_x || *v > 0.0);
    let mut x0 = f64::INFINITY;
    let mut x1 = f64::NEG_INFINITY;
    let mut y0 = f64::INFINITY;
    let mut y1 = f64::NEG_INFINITY;
    let mut stacks: Vec<(f64, f64)> = Vec::new();
    for s in &p.series {
        for (i, &(x, y)) in s.points.iter().enumerate() {
            if !finite(&x) || !y.is_finite() {
                continue;
            }
            x0 = x0.min(x);
            x1 = x1.max(x);
            if s.style == Style::Steps {
                let w = step_width(&s.points, i);
                x1 = x1.max(x + w);
            }
            if s.style == Style::Bars {
                match stacks.iter_mut().find(|(sx, _)| (*sx - x).abs() < 1e-12) {
                    Some(e) => e.1 += y,
                    None => stacks.push((x, y)),
                }
                y0 = y0.min(0.0);
            } else {
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    for (_, h) in &stacks {
        y1 = y1.max(*h);
    }
    if stacks.iter().any(|_| true) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    for (m, _) in &p.marks {
        if finite(m) {
            x0 = x0.min(*m);
            x1 = x1.max(*m);
        }
    }
    if !x0.is_finite() {
        (x0, x1) = (if p.log_x { 0.1 } else { 0.0 }, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + if p.log_x { x0 } else { 1.0 };
    }
    if let Some((a, b)) = p.y_range {
        return (x0, x1, a, b);
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.06).max(1e-9);
    (x0, x1, y0 - pad, y1 + pad)
}

fn step_width(points: &[(f64, f64)], i: usize) -> f64 {
    if i + 1 < points.len() {
        points[i + 1].0 - points[i].0
    } else if i > 0 {
        points[i].0 - points[i - 1].0
    } else {
        1.0
    }
}

fn draw_panel(path: &Path, area: &Canvas, p: &Panel) -> Result<(), FigureError> {
    let (x0, x1, y0, y1) = ranges(p);
    let mut b = ChartBuilder::on(area);
    b.margin(12).caption(&p.title, ("sans-serif", 17)).x_label_area_size(42).y_label_area_size(62);
    if p.log_x {
        let mut chart = b.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(|e| fig_err(path, e))?;
        draw_chart(path, &mut chart, p, y0, y1)
    } else {
        let mut chart = b.build_cartesian_2d(x0..x1, y0..y1).map_err(|e| fig_err(path, e))?;
        draw_chart(path, &mut chart, p, y0, y1)
    }
}

/// Draws a panel's mesh and series on a chart with a linear or a log x axis.
fn draw_chart<'a, X>(
    path: &Path,
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    p: &Panel,
    y0: f64,
    y1: f64,
) -> Result<(), FigureError>
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let tick = |v: &f64| fmt_tick(*v);
    let cats = &p.x_categories;
    let x_tick = |v: &f64| {
        if cats.is_empty() {
            return fmt_tick(*v);
        }
        let i = v.round();
        if (v - i).abs() < 1e-9 && i >= 1.0 {
            cats.get(i as usize - 1).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let mut mesh = chart.configure_mesh();
    if !cats.is_empty() {
        // One tick per category.
        mesh.x_labels(cats.len() + 2);
    }
    mesh.light_line_style(RGBColor(240, 240, 240))
        .x_label_formatter(&x_tick)
        .y_label_formatter(&tick)
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(|e| fig_err(path, e))?;
    let mut stack: Vec<(f64, f64)> = Vec::new();
    let mut labelled = false;
    for s in &p.series {
        let c = RGBColor(s.colour.0, s.colour.1, s.colour.2);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!p.log_x || *x > 0.0))
            .collect();
        let anno = match s.style {
            Style::Line => {
                chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2))).map_err(|e| fig_err(path, e))?
            }
            Style::Dashed => chart
                .draw_series(dashes(&pts).into_iter().map(|v| PathElement::new(v, c.stroke_width(2))))
                .map_err(|e| fig_err(path, e))?,
            Style::Steps => {
                let mut v = Vec::with_capacity(2 * pts.len());
                for (i, &(x, y)) in pts.iter().enumerate() {
                    let w = step_width(&pts, i);
                    v.push((x, y));
                    v.push((x + w, y));
                }
                chart.draw_series(LineSeries::new(v, c.stroke_width(2))).map_err(|e| fig_err(path, e))?
            }
            Style::Points => chart
                .draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 4, c.filled())))
                .map_err(|e| fig_err(path, e))?,
            Style::Bars => {
                let mut rects = Vec::new();
                for &(x, h) in &pts {
                    let base = match stack.iter_mut().find(|(sx, _)| (*sx - x).abs() < 1e-12) {
                        Some(e) => {
                            let b = e.1;
                            e.1 += h;
                            b
                        }
                        None => {
                            stack.push((x, h));
                            0.0
                        }
                    };
                    rects.push(Rectangle::new([(x - 0.4, base), (x + 0.4, base + h)], c.filled()));
                }
                chart.draw_series(rects).map_err(|e| fig_err(path, e))?
            }
        };
        if !s.name.is_empty() {
            labelled = true;
            // The swatch shows the series as drawn: a line, a dashed line, a marker or a bar.
            let anno = anno.label(s.name.clone());
            match s.style {
                Style::Line | Style::Steps => {
                    anno.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
                }
                Style::Dashed => {
                    anno.legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (6, 0)], c.stroke_width(2))
                            + PathElement::new(vec![(12, 0), (18, 0)], c.stroke_width(2))
                    });
                }
                Style::Points => {
                    anno.legend(move |(x, y)| Circle::new((x + 9, y), 4, c.filled()));
                }
                Style::Bars => {
                    anno.legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.filled()));
                }
            }
        }
    }
    for (x, label) in &p.marks {
        if !x.is_finite() {
            continue;
        }
        let grey = RGBColor(90, 90, 90);
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(*x, y0), (*x, y1)], grey.stroke_width(1))))
            .map_err(|e| fig_err(path, e))?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (*x, y1 - 0.04 * (y1 - y0)),
                ("sans-serif", 12).into_font().color(&grey),
            )))
            .map_err(|e| fig_err(path, e))?;
    }
    if labelled {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .position(legend_corner(p))
            .draw()
            .map_err(|e| fig_err(path, e))?;
    }
    Ok(())
}

/// An axis tick: integers without a decimal point (steps, deciles), other values with at
/// most four decimals and no trailing zeros.
fn fmt_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        return format!("{}", v.round() as i64);
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A polyline cut into dashes of a few data points each (about 40 dashes over the line),
/// so dense series dash as visibly as sparse ones.
fn dashes(pts: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let windows = pts.len().saturating_sub(1);
    if windows < 20 {
        // Few points: dash each segment into three pieces.
        return pts
            .windows(2)
            .flat_map(|w| {
                let (a, b) = (w[0], w[1]);
                let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                [vec![at(0.0), at(1.0 / 5.0)], vec![at(2.0 / 5.0), at(3.0 / 5.0)], vec![at(4.0 / 5.0), at(1.0)]]
            })
            .collect();
    }
    let period = (windows / 40).max(1);
    (0..windows).step_by(2 * period).map(|i| pts[i..=(i + period).min(windows)].to_vec()).collect()
}

/// The legend's corner: the one whose quarter of the panel holds the fewest data points.
fn legend_corner(p: &Panel) -> SeriesLabelPosition {
    let (x0, x1, y0, y1) = ranges(p);
    let (x, y) = ((x0, x1), (y0, y1));
    let fx = |v: f64| {
        if p.log_x {
            (v.max(1e-300).ln() - x.0.max(1e-300).ln()) / (x.1.max(1e-300).ln() - x.0.max(1e-300).ln())
        } else {
            (v - x.0) / (x.1 - x.0)
        }
    };
    let fy = |v: f64| (v - y.0) / (y.1 - y.0);
    let mut count = [0usize; 4]; // upper right, upper left, lower right, lower left
    for s in &p.series {
        for &(a, b) in &s.points {
            let (u, v) = (fx(a), fy(b));
            if !(u.is_finite() && v.is_finite()) {
                continue;
            }
            let right = u > 0.55;
            let left = u < 0.45;
            if v > 0.6 {
                count[0] += usize::from(right);
                count[1] += usize::from(left);
            } else if v < 0.4 {
                count[2] += usize::from(right);
                count[3] += usize::from(left);
            }
        }
    }
    let best = (0..4).min_by_key(|&i| count[i]).unwrap_or(0);
    [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ][best]
        .clone()
}

/// A histogram as step-series points: (left edge, count) for `bins` equal bins on [lo, hi).
pub fn hist_points(counts: &[f64], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let n = counts.len().max(1);
    counts.iter().enumerate().map(|(i, &c)| (lo + (hi - lo) * i as f64 / n as f64, c)).collect()
}

/// A time series as points (step index, value).
pub fn series_points(v: &[f64]) -> Vec<(f64, f64)> {
    v.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_written_whole_and_no_temporary_file_remains() {
        let dir = std::env::temp_dir().join(format!("hollow-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.png");
        let p = Panel {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![
                Series::new("a", vec![(1.0, 1.0), (2.0, 3.0)], AI_C, Style::Line),
                Series::new("b", hist_points(&[1.0, 2.0], 0.0, 2.0), HUMAN_C, Style::Steps),
            ],
            marks: vec![(1.5, "m".into())],
            ..Default::default()
        };
        let bars = Panel {
            series: vec![Series::new("s", vec![(1.0, 0.5), (2.0, 0.2)], EXIT_C, Style::Bars)],
            ..Default::default()
        };
        let logp = Panel {
            log_x: true,
            series: vec![Series::new("l", vec![(0.1, 1.0), (10.0, 2.0)], AI_C, Style::Points)],
            ..Default::default()
        };
        draw_figure(&path, "title", &[p, bars, logp], 2, (300, 200)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(!dir.join("f.tmp.png").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn integer_ticks_print_as_integers() {
        assert_eq!(fmt_tick(50.0), "50");
        assert_eq!(fmt_tick(-3.0), "-3");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_tick(0.30000000000000004), "0.3");
    }

    #[test]
    fn the_legend_goes_to_the_emptiest_corner() {
        // A line rising from lower left to upper right leaves the upper left and lower right free.
        let rising = Panel {
            series: vec![Series::new("a", (0..100).map(|i| (i as f64, i as f64)).collect(), AI_C, Style::Line)],
            ..Default::default()
        };
        assert!(matches!(legend_corner(&rising), SeriesLabelPosition::UpperLeft | SeriesLabelPosition::LowerRight));
        // Data along the top: the legend goes to the bottom.
        let top = Panel {
            series: vec![
                Series::new("a", (0..100).map(|i| (i as f64, 1.0 - 0.001 * i as f64)).collect(), AI_C, Style::Line),
                Series::new("b", vec![(0.0, 0.0)], AI_C, Style::Points),
            ],
            ..Default::default()
        };
        assert!(matches!(legend_corner(&top), SeriesLabelPosition::LowerRight | SeriesLabelPosition::LowerLeft));
    }

    #[test]
    fn dense_dashed_lines_get_long_dashes() {
        let pts: Vec<(f64, f64)> = (0..400).map(|i| (i as f64, 0.0)).collect();
        let d = dashes(&pts);
        assert!((20..=40).contains(&d.len()), "{} dashes", d.len());
        assert!(d.iter().all(|v| v.len() >= 2));
    }
}
