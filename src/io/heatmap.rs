//! Phase-diagram figures (PNG, plotters bitmap backend): a heatmap over two axes (linear or
//! log) with a colour bar (sequential, or diverging around zero) or a category legend,
//! regime boundaries outlined where a categorical grid changes and each region labelled,
//! lines drawn over it with their labels; and a line plot with a ±1 std band for one-axis
//! sweeps (categories named on its value axis). Knows nothing about sweeps or HDF5: the
//! caller (`hollow plot phase`) hands it plain grids. Colours and ticks are `scale.rs`'s,
//! label positions `place.rs`'s (no two labels overlap, none leaves the plot); the PNG is
//! written through `plot::write_png`, like every figure.

use super::place::{LabelRequest, Obstacle, Rect, place_labels, polyline};
use super::plot::{Canvas, FigureError, fig_err, write_png};
use super::regions::{region_candidates, regions};
use super::scale::{
    CATEGORY_COLOURS, Mapper, NO_DATA, axis_ticks, edges, fmt_log_tick, fmt_tick, log_ticks, nice_step, warp,
};
use plotters::coord::CoordTranslate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A plot axis: one value per grid column/row, strictly increasing.
#[derive(Clone, Debug)]
pub struct PlotAxis {
    pub label: String,
    pub values: Vec<f64>,
    /// Draw on a log scale (values must be positive).
    pub log: bool,
}

/// How values become colours.
#[derive(Clone, Debug)]
pub enum ColourScale {
    /// Continuous values; `diverging` centres a blue–white–red map on zero, otherwise viridis.
    Continuous { label: String, diverging: bool },
    /// Category indices 0..labels.len() with a legend.
    Categorical { labels: Vec<String> },
}

/// A heatmap over `x` × `y`.
#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    /// Smaller text under the title, parts separated by [`SEP`] (wrapped there to fit).
    pub subtitle: String,
    pub x: PlotAxis,
    pub y: PlotAxis,
    /// `z[i * y.len + j]` for x index i and y index j; NaN cells are drawn grey.
    pub z: Vec<f64>,
    pub colour: ColourScale,
    /// A categorical grid (same layout as `z`) whose changes are outlined, with its name
    /// and category labels (the regions are labelled with them).
    pub regimes: Option<Regimes>,
    /// Lines drawn over the cells (e.g. the welfare-maximising s* per row).
    pub overlays: Vec<Overlay>,
    pub size: (u32, u32),
}

/// A line over a heatmap, in data units, labelled at its top end. With `x_spread`, each
/// point also gets a horizontal whisker from its (lo, hi).
#[derive(Clone, Debug)]
pub struct Overlay {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub x_spread: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// Regions of a categorical grid, outlined on a heatmap.
#[derive(Clone, Debug)]
pub struct Regimes {
    /// Prefix of the region labels ("" for the bare category label).
    pub name: String,
    pub labels: Vec<String>,
    pub grid: Vec<f64>,
}

/// A line over one axis with a ±1 std band (one-axis sweeps).
#[derive(Clone, Debug)]
pub struct LinePlot {
    pub title: String,
    pub subtitle: String,
    pub x: PlotAxis,
    pub y_label: String,
    pub mean: Vec<f64>,
    /// Band half-width per point (NaN: no band there).
    pub std: Vec<f64>,
    /// Names of the values 0, 1, ... of a categorical metric: the y axis is labelled with
    /// them (empty for a numeric metric).
    pub y_categories: Vec<String>,
    pub size: (u32, u32),
}

const FONT: &str = "sans-serif";
fn err(file: &Path, reason: impl ToString) -> FigureError {
    fig_err(file, reason)
}

type Area<'a> = Canvas<'a>;

fn text_style(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).pos(Pos::new(h, v))
}

/// Separator of subtitle parts; lines are broken only there.
pub const SEP: &str = " · ";

/// Draws the title and the subtitle (wrapped at [`SEP`] to fit the width) at the top of
/// `root`; returns the height they take.
fn draw_titles(root: &Area, file: &Path, title: &str, subtitle: &str) -> Result<u32, FigureError> {
    let w = root.dim_in_pixel().0 as i32;
    root.draw(&Text::new(title.to_string(), (w / 2, 12), text_style(24, HPos::Center, VPos::Top)))
        .map_err(|e| err(file, e))?;
    let font = TextStyle::from((FONT, 15).into_font());
    let fits = |t: &str| root.estimate_text_size(t, &font).map_or(true, |(tw, _)| (tw as i32) < w - 30);
    let mut lines: Vec<String> = Vec::new();
    for part in subtitle.split(SEP).filter(|p| !p.is_empty()) {
        match lines.last_mut() {
            Some(l) if fits(&format!("{l}{SEP}{part}")) => {
                l.push_str(SEP);
                l.push_str(part);
            }
            _ => lines.push(part.to_string()),
        }
    }
    let mut y = 44;
    for l in &lines {
        root.draw(&Text::new(
            l.clone(),
            (w / 2, y),
            text_style(15, HPos::Center, VPos::Top).color(&RGBColor(80, 80, 80)),
        ))
        .map_err(|e| err(file, e))?;
        y += 20;
    }
    Ok(if lines.is_empty() { 50 } else { y as u32 + 6 })
}

/// Ticks of one axis, in drawing units (log10 on a log axis): labelled ones and unlabelled
/// minor ones.
struct Ticks {
    major: Vec<(f64, String)>,
    minor: Vec<f64>,
}

/// The ticks of `axis` over its drawing range [ulo, uhi]: decades (and minor integers) on a
/// log axis, where plotters would tick at "nice" exponents such as 10^0.5; integers only on
/// an axis whose values are all integers (a tick between two of them would be no cell);
/// nice steps otherwise.
fn axis_ticks_of(axis: &PlotAxis, ulo: f64, uhi: f64) -> Ticks {
    if axis.log {
        let (major, minor) = log_ticks(ulo, uhi);
        return Ticks {
            major: major.into_iter().map(|v| (v.log10(), fmt_log_tick(v))).collect(),
            minor: minor.into_iter().map(f64::log10).collect(),
        };
    }
    let integer = !axis.values.is_empty() && axis.values.iter().all(|v| *v == v.round());
    let (t, step) = axis_ticks(ulo, uhi, integer);
    Ticks { major: t.into_iter().map(|v| (v, fmt_tick(v, step))).collect(), minor: Vec::new() }
}

/// Draws ticks by hand along an axis: `to_px` maps a drawing unit to the tick's foot on
/// the frame; labels go below (horizontal) or left of it.
fn draw_ticks(
    root: &Area,
    file: &Path,
    to_px: &dyn Fn(f64) -> (i32, i32),
    ticks: &Ticks,
    horizontal: bool,
) -> Result<(), FigureError> {
    let foot =
        |(x, y): (i32, i32), len: i32| if horizontal { vec![(x, y), (x, y + len)] } else { vec![(x, y), (x - len, y)] };
    for &u in &ticks.minor {
        root.draw(&PathElement::new(foot(to_px(u), 4), BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
    }
    for (u, label) in &ticks.major {
        let (x, y) = to_px(*u);
        root.draw(&PathElement::new(foot((x, y), 7), BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
        let (pos, at) = if horizontal {
            ((HPos::Center, VPos::Top), (x, y + 10))
        } else {
            ((HPos::Right, VPos::Center), (x - 10, y))
        };
        root.draw(&Text::new(label.clone(), at, text_style(15, pos.0, pos.1))).map_err(|e| err(file, e))?;
    }
    Ok(())
}

/// Writes a heatmap PNG.
pub fn draw_heatmap(path: &Path, h: &Heatmap) -> Result<(), FigureError> {
    let (nx, ny) = (h.x.values.len(), h.y.values.len());
    if nx == 0 || ny == 0 || h.z.len() != nx * ny {
        return Err(err(path, format!("heatmap data has {} values for a {nx} × {ny} grid", h.z.len())));
    }
    for a in [&h.x, &h.y] {
        if a.log && a.values.iter().any(|&v| v <= 0.0) {
            return Err(err(path, format!("axis {}: a log axis needs positive values", a.label)));
        }
    }
    write_png(path, h.size, |root| draw_heatmap_on(root, path, h))
}

/// Pixel size of `text` in the labels' font, padded for its white box.
fn label_box(root: &Area, text: &str) -> (f64, f64) {
    let font = TextStyle::from((FONT, 15).into_font());
    let (w, h) = root.estimate_text_size(text, &font).map_or((100, 16), |(w, h)| (w, h));
    (w as f64 + 10.0, h as f64 + 8.0)
}

/// Draws `text` centred in the white box `r`.
fn draw_label(root: &Area, file: &Path, text: &str, r: &Rect) -> Result<(), FigureError> {
    let (a, b) = ((r.x0.round() as i32, r.y0.round() as i32), (r.x1.round() as i32, r.y1.round() as i32));
    root.draw(&Rectangle::new([a, b], WHITE.mix(0.85).filled())).map_err(|e| err(file, e))?;
    let c = ((a.0 + b.0) / 2, (a.1 + b.1) / 2);
    root.draw(&Text::new(text.to_string(), c, text_style(15, HPos::Center, VPos::Center))).map_err(|e| err(file, e))
}

/// The heatmap on a white canvas of `h.size`.
fn draw_heatmap_on(root: &Area, path: &Path, h: &Heatmap) -> Result<(), FigureError> {
    let (nx, ny) = (h.x.values.len(), h.y.values.len());
    let w = h.size.0;
    let top = draw_titles(root, path, &h.title, &h.subtitle)?;
    let legend_w = 190u32.min(w / 3);
    let (main, side) = root.split_horizontally(w - legend_w);
    let (xe, ye) = (edges(&h.x.values, h.x.log), edges(&h.y.values, h.y.log));
    let (x0, x1, y0, y1) = (xe[0], xe[nx], ye[0], ye[ny]);
    let mut chart = ChartBuilder::on(&main)
        .margin_top(top)
        .margin_left(10)
        .margin_right(10)
        .margin_bottom(10)
        .x_label_area_size(60)
        .y_label_area_size(85)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(path, e))?;
    // No ticks from plotters: every axis gets hand-drawn ones below.
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(h.x.label.as_str())
        .y_desc(h.y.label.as_str())
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| err(path, e))?;

    // Cells.
    let (cats, mapper) = match &h.colour {
        ColourScale::Categorical { labels } => (Some(labels), None),
        ColourScale::Continuous { diverging, .. } => (None, Some(Mapper::new(&h.z, *diverging))),
    };
    let colour_of = |v: f64| match &mapper {
        Some(m) => m.colour(v),
        None if v.is_finite() && v >= 0.0 => CATEGORY_COLOURS[(v as usize) % CATEGORY_COLOURS.len()],
        None => NO_DATA,
    };
    chart
        .draw_series((0..nx).flat_map(|i| (0..ny).map(move |j| (i, j))).map(|(i, j)| {
            Rectangle::new([(xe[i], ye[j]), (xe[i + 1], ye[j + 1])], colour_of(h.z[i * ny + j]).filled())
        }))
        .map_err(|e| err(path, e))?;

    // Data to pixels, apart from the chart so that drawing on the chart stays possible.
    let coord = chart.as_coord_spec().clone();
    let px = |p: (f64, f64)| {
        let c = coord.translate(&p);
        (c.0 as f64, c.1 as f64)
    };
    let (prx, pry) = chart.plotting_area().get_pixel_range();
    let plot =
        Rect { x0: prx.start as f64, y0: pry.start as f64, x1: prx.end as f64, y1: pry.end as f64 }.inflate(-2.0);
    // Lines that labels should not hide: regime boundaries and overlays, in pixels.
    let mut lines: Vec<Obstacle> = Vec::new();

    // Regime boundaries: a line along every edge between two cells of different regimes.
    let mut region_labels: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    let regime_grid = h.regimes.as_ref().filter(|r| r.grid.len() == nx * ny);
    if let Some(r) = regime_grid {
        let g = |i: usize, j: usize| r.grid[i * ny + j];
        let differs = |a: f64, b: f64| a.is_finite() && b.is_finite() && a != b;
        let mut segs = Vec::new();
        for i in 0..nx {
            for j in 0..ny {
                if i + 1 < nx && differs(g(i, j), g(i + 1, j)) {
                    segs.push([(xe[i + 1], ye[j]), (xe[i + 1], ye[j + 1])]);
                }
                if j + 1 < ny && differs(g(i, j), g(i, j + 1)) {
                    segs.push([(xe[i], ye[j + 1]), (xe[i + 1], ye[j + 1])]);
                }
            }
        }
        for style in [WHITE.stroke_width(5), BLACK.stroke_width(2)] {
            chart.draw_series(segs.iter().map(|s| PathElement::new(s.to_vec(), style))).map_err(|e| err(path, e))?;
        }
        lines.extend(segs.iter().map(|s| Obstacle::Segment(px(s[0]), px(s[1]))));
        if !segs.is_empty() {
            // Label regions big enough to hold a label: at least 4 cells and 2% of the grid.
            let mut comps: Vec<(usize, Vec<(usize, usize)>)> =
                regions(&r.grid, nx, ny).into_iter().filter(|(_, c)| c.len() >= 4.max(nx * ny / 50)).collect();
            // The biggest regions choose their spots first.
            comps.sort_by(|a, b| b.1.len().cmp(&a.1.len()));
            for (c, cells) in comps {
                let Some(label) = r.labels.get(c) else { continue };
                let t = if r.name.is_empty() { label.clone() } else { format!("{}: {label}", r.name) };
                region_labels.push((t, cells));
            }
        }
    }

    // Overlays: a white casing under a black line (readable on any colour), whiskers and
    // markers; their labels are placed with the regions' below.
    let at = |p: &(f64, f64)| (warp(p.0, h.x.log), warp(p.1, h.y.log));
    let mut overlay_requests = Vec::new();
    for o in &h.overlays {
        let pts: Vec<(f64, f64)> = o.points.iter().map(at).filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        let whiskers: Vec<Vec<(f64, f64)>> =
            o.x_spread.iter().zip(&o.points).map(|(&(lo, hi), &(_, y))| vec![at(&(lo, y)), at(&(hi, y))]).collect();
        for (style, sw) in [(WHITE, 6), (BLACK, 2)] {
            if o.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 10, 8, style.stroke_width(sw)))
                    .map_err(|e| err(path, e))?;
            } else {
                chart
                    .draw_series(std::iter::once(PathElement::new(pts.clone(), style.stroke_width(sw))))
                    .map_err(|e| err(path, e))?;
            }
            chart
                .draw_series(whiskers.iter().map(|s| PathElement::new(s.clone(), style.stroke_width(sw))))
                .map_err(|e| err(path, e))?;
        }
        if !o.dashed {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, BLACK.filled()))).map_err(|e| err(path, e))?;
        }
        let pix: Vec<(f64, f64)> = pts.iter().map(|&p| px(p)).collect();
        lines.extend(polyline(&pix));
        for s in &whiskers {
            lines.extend(polyline(&s.iter().map(|&p| px(p)).collect::<Vec<_>>()));
        }
        // The label beside the line's top end, else beside another of its points.
        let size = label_box(root, &o.label);
        let mut by_height = pix.clone();
        by_height.sort_by(|a, b| a.1.total_cmp(&b.1));
        let candidates = by_height
            .iter()
            .flat_map(|&(x, y)| {
                let (dx, dy) = (size.0 / 2.0 + 8.0, size.1 / 2.0 + 2.0);
                [(x + dx, y + dy), (x - dx, y + dy), (x + dx, y - dy), (x - dx, y - dy)]
            })
            .collect();
        overlay_requests.push((o.label.clone(), LabelRequest { size, candidates }));
    }

    // Labels: the overlays' first, then the regions', none over another, none off the plot.
    let reqs: Vec<LabelRequest> = overlay_requests.iter().map(|(_, r)| r.clone()).collect();
    let overlay_boxes = place_labels(&plot, &reqs, &[], &lines, 4.0);
    let taken: Vec<Rect> = overlay_boxes.iter().flatten().copied().collect();
    let (xp, yp): (Vec<f64>, Vec<f64>) =
        (xe.iter().map(|&x| px((x, y0)).0).collect(), ye.iter().map(|&y| px((x0, y)).1).collect());
    let cell_px = |i: usize, j: usize| px((0.5 * (xe[i] + xe[i + 1]), 0.5 * (ye[j] + ye[j + 1])));
    // Pixel x grows with i; pixel y falls as j grows.
    let cell_at = |p: (f64, f64)| {
        let i = xp.windows(2).position(|w| p.0 >= w[0] && p.0 < w[1])?;
        let j = yp.windows(2).position(|w| p.1 <= w[0] && p.1 > w[1])?;
        Some((i, j))
    };
    let region_reqs: Vec<LabelRequest> = region_labels
        .iter()
        .map(|(t, cells)| {
            let size = label_box(root, t);
            LabelRequest { size, candidates: region_candidates((nx, ny), cells, size, &cell_px, &cell_at) }
        })
        .collect();
    let region_boxes = place_labels(&plot, &region_reqs, &taken, &lines, 4.0);
    for ((t, _), r) in overlay_requests.iter().zip(&overlay_boxes) {
        if let Some(r) = r {
            draw_label(root, path, t, r)?;
        }
    }
    for ((t, _), r) in region_labels.iter().zip(&region_boxes) {
        if let Some(r) = r {
            draw_label(root, path, t, r)?;
        }
    }

    // Ticks by hand.
    let (px_range, py_range) = chart.plotting_area().get_pixel_range();
    let tx = |u: f64| (chart.backend_coord(&(u, y0)).0, py_range.end);
    draw_ticks(root, path, &tx, &axis_ticks_of(&h.x, x0, x1), true)?;
    let ty = |u: f64| (px_range.start, chart.backend_coord(&(x0, u)).1);
    draw_ticks(root, path, &ty, &axis_ticks_of(&h.y, y0, y1), false)?;

    // Colour bar or legend, aligned with the plot.
    let py = py_range;
    match (cats, &mapper, &h.colour) {
        (Some(labels), _, _) => draw_legend(&side, path, labels, py.start, h.z.iter().any(|v| !v.is_finite()))?,
        (None, Some(m), ColourScale::Continuous { label, .. }) => draw_colour_bar(&side, path, m, label, py.clone())?,
        _ => {}
    }
    Ok(())
}

fn draw_colour_bar(
    side: &Area,
    file: &Path,
    m: &Mapper,
    label: &str,
    py: std::ops::Range<i32>,
) -> Result<(), FigureError> {
    let (x0, bw) = (20, 26);
    let (top, bottom) = (py.start, py.end);
    let hgt = (bottom - top).max(1);
    for k in 0..hgt {
        let t = 1.0 - k as f64 / (hgt - 1).max(1) as f64;
        let c = m.colour_at(t);
        side.draw(&Rectangle::new([(x0, top + k), (x0 + bw, top + k + 1)], c.filled())).map_err(|e| err(file, e))?;
    }
    side.draw(&Rectangle::new([(x0, top), (x0 + bw, bottom)], BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
    let tick_font = TextStyle::from((FONT, 14).into_font());
    let mut widest = 0;
    for (v, step) in m.ticks() {
        widest = widest.max(side.estimate_text_size(&fmt_tick(v, step), &tick_font).map_or(40, |(w, _)| w as i32));
        let y = bottom - (m.frac(v) * hgt as f64).round() as i32;
        side.draw(&PathElement::new(vec![(x0 + bw, y), (x0 + bw + 5, y)], BLACK.stroke_width(1)))
            .map_err(|e| err(file, e))?;
        side.draw(&Text::new(fmt_tick(v, step), (x0 + bw + 8, y), text_style(14, HPos::Left, VPos::Center)))
            .map_err(|e| err(file, e))?;
    }
    // The label just right of the tick labels, inside the side panel.
    let lx = (x0 + bw + 8 + widest + 18).min(side.dim_in_pixel().0 as i32 - 12);
    let style = TextStyle::from((FONT, 17).into_font())
        .transform(FontTransform::Rotate90)
        .pos(Pos::new(HPos::Center, VPos::Center));
    side.draw(&Text::new(label.to_string(), (lx, (top + bottom) / 2), style)).map_err(|e| err(file, e))
}

fn draw_legend(side: &Area, file: &Path, labels: &[String], top: i32, no_data: bool) -> Result<(), FigureError> {
    let mut y = top + 4;
    let mut items: Vec<(String, RGBColor)> =
        labels.iter().enumerate().map(|(i, l)| (l.clone(), CATEGORY_COLOURS[i % CATEGORY_COLOURS.len()])).collect();
    if no_data {
        items.push(("no data".into(), NO_DATA));
    }
    for (l, c) in items {
        side.draw(&Rectangle::new([(16, y), (38, y + 22)], c.filled())).map_err(|e| err(file, e))?;
        side.draw(&Rectangle::new([(16, y), (38, y + 22)], BLACK.stroke_width(1))).map_err(|e| err(file, e))?;
        side.draw(&Text::new(l, (46, y + 11), text_style(16, HPos::Left, VPos::Center))).map_err(|e| err(file, e))?;
        y += 32;
    }
    Ok(())
}

/// Writes a line plot with a ±1 std band (one-axis sweeps).
pub fn draw_line(path: &Path, p: &LinePlot) -> Result<(), FigureError> {
    let n = p.x.values.len();
    if n == 0 || p.mean.len() != n || p.std.len() != n {
        return Err(err(path, "line plot: x, mean and std lengths differ"));
    }
    write_png(path, p.size, |root| draw_line_on(root, path, p))
}

/// The line plot on a white canvas of `p.size`.
fn draw_line_on(root: &Area, path: &Path, p: &LinePlot) -> Result<(), FigureError> {
    let n = p.x.values.len();
    let top = draw_titles(root, path, &p.title, &p.subtitle)?;
    let u: Vec<f64> = p.x.values.iter().map(|&v| warp(v, p.x.log)).collect();
    let e = edges(&p.x.values, p.x.log);
    // A little room either side so the end points do not sit on the frame.
    let (x0, x1) =
        if n == 1 { (e[0], e[1]) } else { (u[0] - 0.03 * (u[n - 1] - u[0]), u[n - 1] + 0.03 * (u[n - 1] - u[0])) };
    let lo_hi = |v: f64, s: f64| if s.is_finite() { (v - s, v + s) } else { (v, v) };
    let (mut y0, mut y1) = p.mean.iter().zip(&p.std).filter(|(m, _)| m.is_finite()).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(a, b), (&m, &s)| {
            let (l, h) = lo_hi(m, s);
            (a.min(l), b.max(h))
        },
    );
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.06).max(1e-9);
    let cats = &p.y_categories;
    // A categorical value axis shows every category, each at its index.
    let (y0, y1) = if cats.is_empty() { (y0 - pad, y1 + pad) } else { (-0.5, cats.len() as f64 - 0.5) };
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .margin_top(top)
        .x_label_area_size(60)
        .y_label_area_size(if cats.is_empty() { 85 } else { 130 })
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(path, e))?;
    let ystep = nice_step(y1 - y0, 7);
    let yfmt = |v: &f64| fmt_tick(*v, ystep);
    // The x axis and a categorical y axis get hand-drawn ticks below.
    chart
        .configure_mesh()
        .max_light_lines(1)
        .light_line_style(RGBColor(245, 245, 245))
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(0)
        .y_labels(if cats.is_empty() { 10 } else { 0 })
        .y_label_formatter(&yfmt)
        .x_desc(p.x.label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| err(path, e))?;
    let xticks = axis_ticks_of(&p.x, x0, x1);
    let grid = RGBColor(225, 225, 225);
    chart
        .draw_series(xticks.major.iter().map(|(v, _)| PathElement::new(vec![(*v, y0), (*v, y1)], grid)))
        .map_err(|e| err(path, e))?;
    let pts: Vec<(f64, f64, f64)> =
        (0..n).filter(|&i| p.mean[i].is_finite()).map(|i| (u[i], p.mean[i], p.std[i])).collect();
    let band: Vec<(f64, f64)> = pts
        .iter()
        .filter(|t| t.2.is_finite())
        .map(|&(x, m, s)| (x, m + s))
        .chain(pts.iter().rev().filter(|t| t.2.is_finite()).map(|&(x, m, s)| (x, m - s)))
        .collect();
    if band.len() >= 4 {
        chart
            .draw_series(std::iter::once(Polygon::new(band, RGBColor(59, 117, 175).mix(0.25).filled())))
            .map_err(|e| err(path, e))?;
    }
    let line = RGBColor(59, 117, 175);
    // Categories have no values between them to draw a line through.
    if cats.is_empty() {
        chart
            .draw_series(LineSeries::new(pts.iter().map(|&(x, m, _)| (x, m)), line.stroke_width(2)))
            .map_err(|e| err(path, e))?;
    }
    let dot = if cats.is_empty() { 3 } else { 5 };
    chart
        .draw_series(pts.iter().map(|&(x, m, _)| Circle::new((x, m), dot, line.filled())))
        .map_err(|e| err(path, e))?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    let tx = |uu: f64| (chart.backend_coord(&(uu, y0)).0, py.end);
    draw_ticks(root, path, &tx, &xticks, true)?;
    if !cats.is_empty() {
        let ticks =
            Ticks { major: cats.iter().enumerate().map(|(i, c)| (i as f64, c.clone())).collect(), minor: Vec::new() };
        let ty = |v: f64| (px.start, chart.backend_coord(&(x0, v)).1);
        draw_ticks(root, path, &ty, &ticks, false)?;
    }
    Ok(())
}
