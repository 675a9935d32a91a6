//! PNG figures with plotters: the embedded font (DejaVu Sans, so figures render the same
//! on machines without fontconfig), the one PNG writer and error of every figure
//! ([`write_png`], [`FigureError`]; the heatmaps of `heatmap.rs` use them too), and the
//! figure helpers of `equilibrium`, `meanfield`, `reproduce` and `plot run`: a grid of
//! panels, each a set of line, step-histogram or stacked-bar series with a legend (in a
//! corner the data leaves free, else beside the plot), optional log x axis, integer ticks
//! on integer axes, and marked x positions labelled above the plot; and [`rebin`] to draw a
//! histogram on another grid of bins. Knows nothing about the model: callers hand it plain
//! numbers (and names through `labels.rs`).
//! Figures go through [`Output::create_png`]: drawn into `<name>.tmp.png` and renamed, so
//! a figure is either whole or absent, and a file that is not a PNG is never replaced.

use crate::io::error::OutputError;
use crate::io::output::Output;
use crate::io::place::{LabelRequest, Obstacle, Rect, free_corner, place_labels, polyline};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
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

/// Pixels around a panel's plot: the margin, the tick-label areas, the band above the plot
/// that holds the marks' labels, and the legend's text.
const MARGIN: u32 = 12;
const X_LABEL_AREA: u32 = 42;
const Y_LABEL_AREA: u32 = 62;
const MARK_BAND: u32 = 20;
const LEGEND_FONT: u32 = 12;
const LEGEND_ROW: i32 = 17;
const LEGEND_PAD: i32 = 6;
const SWATCH: i32 = 22;
/// Clearance between the legend and the frame or the data.
const LEGEND_INSET: f64 = 6.0;

/// Where a panel's legend goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum LegendAt {
    /// Inside the plot, in a corner the data leaves free: the box in panel-body pixels.
    Inside(Rect),
    /// In a column right of the plot: the data reaches every corner.
    Outside,
}

/// The named series of a panel: what its legend lists.
fn legend_items(p: &Panel) -> Vec<&Series> {
    p.series.iter().filter(|s| !s.name.is_empty()).collect()
}

/// The legend's box size for `items` as `area` measures text.
fn legend_size(area: &Canvas, items: &[&Series]) -> (f64, f64) {
    let font = TextStyle::from(("sans-serif", LEGEND_FONT).into_font());
    let widest = items.iter().map(|s| area.estimate_text_size(&s.name, &font).map_or(90, |(w, _)| w as i32)).max();
    match widest {
        None => (0.0, 0.0),
        Some(w) => {
            ((LEGEND_PAD * 2 + SWATCH + 6 + w) as f64, (LEGEND_PAD * 2 + LEGEND_ROW * items.len() as i32) as f64)
        }
    }
}

/// An axis all of whose data values are integers (steps, deciles): it gets integer ticks.
fn integer_valued(values: impl Iterator<Item = f64>) -> bool {
    let mut any = false;
    for v in values.filter(|v| v.is_finite()) {
        if v != v.round() {
            return false;
        }
        any = true;
    }
    any
}

/// How many tick labels an axis of `span` gets: plotters' default of 11, or on an integer
/// axis no more than the integers in the span, so that its step is at least 1 (plotters
/// then steps by 1, 2 or 5 × 10^k: integers).
fn tick_count(span: f64, integer: bool) -> usize {
    if integer { ((span.floor() as usize) + 1).clamp(2, 11) } else { 11 }
}

/// The series (and with `marks`, the marks' lines) of `p` as pixel obstacles in `plot`,
/// the rectangle its data range `(x0, x1, y0, y1)` fills.
fn obstacles(p: &Panel, (x0, x1, y0, y1): (f64, f64, f64, f64), plot: &Rect, marks: bool) -> Vec<Obstacle> {
    let fx = |v: f64| {
        if p.log_x {
            (v.max(1e-300).ln() - x0.max(1e-300).ln()) / (x1.max(1e-300).ln() - x0.max(1e-300).ln())
        } else {
            (v - x0) / (x1 - x0)
        }
    };
    let px = |(x, y): (f64, f64)| (plot.x0 + fx(x) * plot.width(), plot.y1 - (y - y0) / (y1 - y0) * plot.height());
    let ok = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!p.log_x || x > 0.0);
    let mut out = Vec::new();
    let mut stack: Vec<(f64, f64)> = Vec::new();
    for s in &p.series {
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(ok).collect();
        match s.style {
            Style::Line | Style::Dashed => out.extend(polyline(&pts.iter().map(|&q| px(q)).collect::<Vec<_>>())),
            Style::Steps => {
                let v: Vec<(f64, f64)> = step_path(&pts).into_iter().filter(|q| ok(q)).map(px).collect();
                out.extend(polyline(&v));
            }
            Style::Points => out.extend(pts.iter().map(|&q| Obstacle::Area(Rect::centred(px(q), (9.0, 9.0))))),
            Style::Bars => {
                for &(x, h) in &pts {
                    let base = stack_base(&mut stack, x, h);
                    out.push(Obstacle::Area(Rect::new(px((x - 0.4, base)), px((x + 0.4, base + h)))));
                }
            }
        }
    }
    for (m, _) in p.marks.iter().filter(|(m, _)| marks && m.is_finite()) {
        out.push(Obstacle::Segment(px((*m, y0)), px((*m, y1))));
    }
    out
}

/// Where the legend of `p` goes in a panel body of `body` pixels whose plot leaves
/// `mark_band` pixels above it: a corner of the plot free of data and marks, else one free
/// of data (a mark's line may pass under the legend: its label stays above the plot), else
/// beside the plot.
fn legend_at(p: &Panel, legend: (f64, f64), body: (u32, u32), mark_band: u32) -> LegendAt {
    let plot = Rect {
        x0: Y_LABEL_AREA as f64,
        y0: mark_band as f64,
        x1: body.0 as f64,
        y1: body.1.saturating_sub(X_LABEL_AREA) as f64,
    };
    [true, false]
        .into_iter()
        .find_map(|marks| free_corner(&plot, legend, LEGEND_INSET, &obstacles(p, ranges(p), &plot, marks)))
        .map_or(LegendAt::Outside, |(_, r)| LegendAt::Inside(r))
}

/// A histogram's points as the path of its steps.
fn step_path(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut v = Vec::with_capacity(2 * pts.len());
    for (i, &(x, y)) in pts.iter().enumerate() {
        v.push((x, y));
        v.push((x + step_width(pts, i), y));
    }
    v
}

/// The base of a stacked bar of height `h` at `x`, with the stack's top raised by `h`.
fn stack_base(stack: &mut Vec<(f64, f64)>, x: f64, h: f64) -> f64 {
    match stack.iter_mut().find(|(sx, _)| (*sx - x).abs() < 1e-12) {
        Some(e) => {
            let b = e.1;
            e.1 += h;
            b
        }
        None => {
            stack.push((x, h));
            0.0
        }
    }
}

fn draw_panel(path: &Path, area: &Canvas, p: &Panel) -> Result<(), FigureError> {
    let inner = area.margin(MARGIN, MARGIN, MARGIN, MARGIN);
    let body = if p.title.is_empty() {
        inner
    } else {
        inner.titled(&p.title, ("sans-serif", 17)).map_err(|e| fig_err(path, e))?
    };
    let mark_band = if p.marks.iter().any(|(m, _)| m.is_finite()) { MARK_BAND } else { 0 };
    let items = legend_items(p);
    let legend = legend_size(&body, &items);
    let (bw, bh) = body.dim_in_pixel();
    let at = if items.is_empty() { None } else { Some(legend_at(p, legend, (bw, bh), mark_band)) };
    let (plot_area, side) = match at {
        Some(LegendAt::Outside) => {
            let (a, b) = body.split_horizontally(bw.saturating_sub(legend.0 as u32 + 2 * LEGEND_INSET as u32));
            (a, Some(b))
        }
        _ => (body.clone(), None),
    };
    let (x0, x1, y0, y1) = ranges(p);
    let mut b = ChartBuilder::on(&plot_area);
    b.margin_top(mark_band).x_label_area_size(X_LABEL_AREA).y_label_area_size(Y_LABEL_AREA);
    if p.log_x {
        let mut chart = b.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(|e| fig_err(path, e))?;
        draw_chart(path, &mut chart, &plot_area, p, y0, y1)?;
    } else {
        let mut chart = b.build_cartesian_2d(x0..x1, y0..y1).map_err(|e| fig_err(path, e))?;
        draw_chart(path, &mut chart, &plot_area, p, y0, y1)?;
    }
    match (at, side) {
        (Some(LegendAt::Inside(r)), _) => draw_legend(path, &body, (r.x0 as i32, r.y0 as i32), legend, &items),
        (Some(LegendAt::Outside), Some(side)) => {
            draw_legend(path, &side, (LEGEND_INSET as i32, mark_band as i32), legend, &items)
        }
        _ => Ok(()),
    }
}

/// Draws the legend box of `items` with its top left at `at` on `area`: each series' name
/// beside a swatch drawn as the series is (a line, a dashed line, a marker or a bar).
fn draw_legend(
    path: &Path,
    area: &Canvas,
    at: (i32, i32),
    size: (f64, f64),
    items: &[&Series],
) -> Result<(), FigureError> {
    let (x, y) = at;
    let (w, h) = (size.0 as i32, size.1 as i32);
    let e = |e| fig_err(path, e);
    area.draw(&Rectangle::new([(x, y), (x + w, y + h)], WHITE.mix(0.9).filled())).map_err(e)?;
    area.draw(&Rectangle::new([(x, y), (x + w, y + h)], RGBColor(200, 200, 200))).map_err(e)?;
    for (k, s) in items.iter().enumerate() {
        let c = RGBColor(s.colour.0, s.colour.1, s.colour.2);
        let (sx, sy) = (x + LEGEND_PAD, y + LEGEND_PAD + LEGEND_ROW * k as i32 + LEGEND_ROW / 2);
        let line = |a: i32, b: i32| PathElement::new(vec![(sx + a, sy), (sx + b, sy)], c.stroke_width(2));
        match s.style {
            Style::Line | Style::Steps => area.draw(&line(0, SWATCH)).map_err(e)?,
            Style::Dashed => {
                for (a, b) in [(0, 6), (9, 14), (17, SWATCH)] {
                    area.draw(&line(a, b)).map_err(e)?;
                }
            }
            Style::Points => area.draw(&Circle::new((sx + SWATCH / 2, sy), 4, c.filled())).map_err(e)?,
            Style::Bars => {
                area.draw(&Rectangle::new([(sx + 2, sy - 5), (sx + SWATCH - 2, sy + 5)], c.filled())).map_err(e)?
            }
        }
        let style = TextStyle::from(("sans-serif", LEGEND_FONT).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(s.name.clone(), (sx + SWATCH + 6, sy), style)).map_err(e)?;
    }
    Ok(())
}

/// Draws a panel's mesh, series and marks on a chart with a linear or a log x axis; the
/// marks' labels go in the band above the plot, placed so that none overlaps another.
fn draw_chart<'a, X>(
    path: &Path,
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    area: &Canvas,
    p: &Panel,
    y0: f64,
    y1: f64,
) -> Result<(), FigureError>
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let cats = &p.x_categories;
    let (x0, x1, _, _) = ranges(p);
    let x_int =
        !p.log_x && cats.is_empty() && integer_valued(p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)));
    let y_int = integer_valued(p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1)));
    // Integer axes label only integers (a tick between two steps would read as a step).
    let tick = |v: &f64, integer: bool| if integer && *v != v.round() { String::new() } else { fmt_tick(*v) };
    let y_tick = |v: &f64| tick(v, y_int);
    let x_tick = |v: &f64| {
        if cats.is_empty() {
            return tick(v, x_int);
        }
        let i = v.round();
        if (v - i).abs() < 1e-9 && i >= 1.0 {
            cats.get(i as usize - 1).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let mut mesh = chart.configure_mesh();
    // One tick per category.
    mesh.x_labels(if cats.is_empty() { tick_count(x1 - x0, x_int) } else { cats.len() + 2 });
    mesh.y_labels(tick_count(y1 - y0, y_int));
    mesh.light_line_style(RGBColor(240, 240, 240))
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(|e| fig_err(path, e))?;
    let mut stack: Vec<(f64, f64)> = Vec::new();
    for s in &p.series {
        let c = RGBColor(s.colour.0, s.colour.1, s.colour.2);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!p.log_x || *x > 0.0))
            .collect();
        match s.style {
            Style::Line => chart.draw_series(LineSeries::new(pts, c.stroke_width(2))).map(|_| ()),
            // Dashed in pixels, so dashes look alike on any axis and any density of points.
            Style::Dashed => chart.draw_series(DashedLineSeries::new(pts, 7, 5, c.stroke_width(2))).map(|_| ()),
            Style::Steps => chart.draw_series(LineSeries::new(step_path(&pts), c.stroke_width(2))).map(|_| ()),
            Style::Points => {
                chart.draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 4, c.filled()))).map(|_| ())
            }
            Style::Bars => {
                let rects: Vec<_> = pts
                    .iter()
                    .map(|&(x, h)| {
                        let base = stack_base(&mut stack, x, h);
                        Rectangle::new([(x - 0.4, base), (x + 0.4, base + h)], c.filled())
                    })
                    .collect();
                chart.draw_series(rects).map(|_| ())
            }
        }
        .map_err(|e| fig_err(path, e))?;
    }
    let grey = RGBColor(90, 90, 90);
    let marks: Vec<&(f64, String)> = p.marks.iter().filter(|(x, _)| x.is_finite()).collect();
    for (x, _) in &marks {
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(*x, y0), (*x, y1)], grey.stroke_width(1))))
            .map_err(|e| fig_err(path, e))?;
    }
    // The marks' labels above the plot, beside their line where two would overlap.
    let base = area.get_base_pixel();
    let top = chart.plotting_area().get_pixel_range().1.start - base.1;
    let font = TextStyle::from(("sans-serif", 12).into_font());
    let requests: Vec<LabelRequest> = marks
        .iter()
        .map(|(x, label)| {
            let (w, h) = area.estimate_text_size(label, &font).map_or((60, 12), |(w, h)| (w as i32, h as i32));
            let cx = (chart.backend_coord(&(*x, y1)).0 - base.0) as f64;
            let cy = top as f64 - 3.0 - h as f64 / 2.0;
            let half = w as f64 / 2.0 + 3.0;
            LabelRequest { size: (w as f64, h as f64), candidates: vec![(cx, cy), (cx + half, cy), (cx - half, cy)] }
        })
        .collect();
    let (aw, _) = area.dim_in_pixel();
    let band = Rect { x0: 0.0, y0: 0.0, x1: aw as f64, y1: top as f64 };
    let placed = place_labels(&band, &requests, &[], &[], 4.0);
    for ((_, label), r) in marks.iter().zip(placed) {
        let Some(r) = r else { continue };
        let style = font.color(&grey).pos(Pos::new(HPos::Left, VPos::Top));
        area.draw(&Text::new(label.clone(), (r.x0 as i32, r.y0 as i32), style)).map_err(|e| fig_err(path, e))?;
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

/// A histogram as step-series points: (left edge, count) for `bins` equal bins on [lo, hi).
pub fn hist_points(counts: &[f64], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let n = counts.len().max(1);
    counts.iter().enumerate().map(|(i, &c)| (lo + (hi - lo) * i as f64 / n as f64, c)).collect()
}

/// Counts of bins with edges `from` moved onto bins with edges `to`: each source bin's
/// count is shared among the target bins it overlaps, in proportion to the overlap (as if
/// spread evenly over the bin), and what lies outside `to` is dropped. When every edge of
/// `to` is an edge of `from` (64 histogram bins onto 32 curve bins), the counts just add up.
pub fn rebin(counts: &[f64], from: &[f64], to: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; to.len().saturating_sub(1)];
    for (i, &c) in counts.iter().enumerate().take(from.len().saturating_sub(1)) {
        let (a, b) = (from[i], from[i + 1]);
        if b <= a {
            continue;
        }
        for (k, o) in out.iter_mut().enumerate() {
            let overlap = b.min(to[k + 1]) - a.max(to[k]);
            if overlap > 0.0 {
                *o += c * overlap / (b - a);
            }
        }
    }
    out
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
    fn the_legend_takes_a_free_corner_or_goes_beside_the_plot() {
        let body = (600, 400);
        let legend = (120.0, 40.0);
        // A line rising from lower left to upper right leaves the upper left free.
        let rising = Panel {
            series: vec![Series::new("a", (0..100).map(|i| (i as f64, i as f64)).collect(), AI_C, Style::Line)],
            ..Default::default()
        };
        match legend_at(&rising, legend, body, 0) {
            LegendAt::Inside(r) => assert!(r.x0 < 300.0 && r.y0 < 200.0, "not the upper left: {r:?}"),
            LegendAt::Outside => panic!("the upper left is free"),
        }
        // Data along the top and the bottom: a lower corner is taken by the second line.
        let both = Panel {
            series: vec![
                Series::new("a", (0..100).map(|i| (i as f64, 1.0)).collect(), AI_C, Style::Line),
                Series::new("b", (0..100).map(|i| (i as f64, 0.0)).collect(), AI_C, Style::Dashed),
            ],
            ..Default::default()
        };
        assert_eq!(legend_at(&both, legend, body, 0), LegendAt::Outside);
        // A mark through the free corner: the legend still goes there, over the mark's line.
        let marked = Panel { marks: vec![(5.0, "m".into())], ..rising.clone() };
        assert!(matches!(legend_at(&marked, legend, body, 20), LegendAt::Inside(_)));
        // Full-height bars: no corner is free either.
        let bars = Panel {
            series: vec![Series::new("s", (1..=10).map(|i| (i as f64, 1.0)).collect(), EXIT_C, Style::Bars)],
            ..Default::default()
        };
        assert_eq!(legend_at(&bars, legend, body, 0), LegendAt::Outside);
    }

    #[test]
    fn rebinning_keeps_the_counts() {
        // Two fine bins per coarse bin: the counts add up in pairs.
        assert_eq!(rebin(&[1.0, 2.0, 3.0, 4.0], &[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 2.0, 4.0]), vec![3.0, 7.0]);
        // Edges that do not line up: a bin is shared by overlap, and the total is kept.
        let r = rebin(&[3.0, 3.0], &[0.0, 1.5, 3.0], &[0.0, 1.0, 2.0, 3.0]);
        assert_eq!(r, vec![2.0, 2.0, 2.0]);
        // What lies outside the target range is dropped.
        assert_eq!(rebin(&[1.0, 1.0], &[0.0, 1.0, 2.0], &[0.0, 1.0]), vec![1.0]);
    }

    #[test]
    fn integer_axes_get_integer_ticks_only() {
        assert!(integer_valued([0.0, 1.0, 299.0].into_iter()));
        assert!(!integer_valued([0.0, 0.5].into_iter()));
        assert!(!integer_valued(std::iter::empty()), "no data: nothing says the axis is integer");
        // A short integer axis gets no more ticks than integers in its span, so plotters
        // cannot step by less than 1.
        assert_eq!(tick_count(4.0, true), 5);
        assert_eq!(tick_count(300.0, true), 11);
        assert_eq!(tick_count(4.0, false), 11);
    }
}
